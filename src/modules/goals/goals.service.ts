import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { goalRevisions, goals } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import type {
  CreateGoalBody,
  GoalResponse,
  GoalRevisionResponse,
  ListGoalsQuery,
  RevisedGoalResponse,
  ReviseGoalBody,
} from './goals.schema.js';

type GoalRow = typeof goals.$inferSelect;
type RevisionRow = typeof goalRevisions.$inferSelect;

const toRevisionResponse = (row: RevisionRow): GoalRevisionResponse => ({
  id: row.id,
  goalId: row.goalId,
  note: row.note,
  status: row.status,
  text: row.text,
  revisedBy: row.revisedBy,
  revisedAt: row.revisedAt,
});

const toGoalResponse = (row: GoalRow, revisions: RevisionRow[]): GoalResponse => ({
  id: row.id,
  clientId: row.clientId,
  text: row.text,
  domain: row.domain,
  status: row.status,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  revisions: revisions.map(toRevisionResponse),
});

/** The revisions of the given goals, newest first (ids break ties within one millisecond). */
async function revisionsOf(db: DbOrTx, clinicId: string, goalIds: string[]): Promise<Map<string, RevisionRow[]>> {
  const byGoal = new Map<string, RevisionRow[]>(goalIds.map((id) => [id, []]));
  if (goalIds.length === 0) return byGoal;
  const rows = await db
    .select()
    .from(goalRevisions)
    .where(and(eq(goalRevisions.clinicId, clinicId), inArray(goalRevisions.goalId, goalIds)))
    .orderBy(desc(goalRevisions.revisedAt), desc(goalRevisions.id));
  for (const row of rows) byGoal.get(row.goalId)?.push(row);
  return byGoal;
}

/** A client's goals in the order they were set, each with its revisions. */
export async function listGoals(db: Db, ctx: AuthedContext, clientId: string, query: ListGoalsQuery) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const rows = await db
    .select()
    .from(goals)
    .where(
      and(
        eq(goals.clinicId, ctx.actor.clinicId),
        eq(goals.clientId, clientId),
        query.status ? eq(goals.status, query.status) : undefined,
        query.cursor ? gt(goals.id, query.cursor) : undefined,
      ),
    )
    .orderBy(asc(goals.id))
    .limit(query.limit + 1);
  const pageRows = rows.slice(0, query.limit);
  const revisions = await revisionsOf(
    db,
    ctx.actor.clinicId,
    pageRows.map((row) => row.id),
  );
  const result = toPage(
    rows.map((row) => toGoalResponse(row, revisions.get(row.id) ?? [])),
    query.limit,
  );
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createGoal(db: Db, ctx: AuthedContext, clientId: string, input: CreateGoalBody): Promise<GoalResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const [row] = await tx
      .insert(goals)
      .values({
        clinicId: ctx.actor.clinicId,
        id: uuidv7(),
        clientId,
        text: input.text,
        domain: input.domain ?? null,
        status: 'active',
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as GoalRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { fields: ['text', ...(input.domain === undefined ? [] : ['domain']), 'status'] };
    return toGoalResponse(created, []);
  });
}

/**
 * A goal's wording and status change only through a revision, so every change is dated and
 * attributed. The revision records only what actually changed; the note is always kept.
 */
export function reviseGoal(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  goalId: string,
  ifMatch: string | undefined,
  input: ReviseGoalBody,
): Promise<RevisedGoalResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    ctx.audit.resourceId = goalId;
    const [goal] = await tx
      .select()
      .from(goals)
      .where(and(eq(goals.clinicId, ctx.actor.clinicId), eq(goals.clientId, clientId), eq(goals.id, goalId)))
      .for('update');
    if (!goal) throw notFound('Goal');
    checkIfMatch(ifMatch, goal.version);

    const status = input.status !== undefined && input.status !== goal.status ? input.status : null;
    const text = input.text !== undefined && input.text !== goal.text ? input.text : null;
    ctx.audit.details = { fields: ['note', ...(status ? ['status'] : []), ...(text ? ['text'] : [])] };

    const [revision] = await tx
      .insert(goalRevisions)
      .values({ clinicId: goal.clinicId, id: uuidv7(), goalId, note: input.note, status, text, revisedBy: ctx.actor.staffId })
      .returning();
    const [updated] = await tx
      .update(goals)
      .set({ status: status ?? goal.status, text: text ?? goal.text, version: goal.version + 1, updatedAt: sql`now()` })
      .where(and(eq(goals.clinicId, goal.clinicId), eq(goals.id, goalId)))
      .returning();
    const revisions = await revisionsOf(tx, goal.clinicId, [goalId]);
    return {
      goal: toGoalResponse(updated as GoalRow, revisions.get(goalId) ?? []),
      revision: toRevisionResponse(revision as RevisionRow),
    };
  });
}
