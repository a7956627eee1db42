import { and, desc, eq, isNull } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { stageAssignments } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { invalidField } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import { today } from '../programs/programs.queries.js';
import { lockClient } from './episodes.queries.js';
import type { AssignStageBody, StageResponse } from './treatment.schema.js';

type StageRow = typeof stageAssignments.$inferSelect;

const toStageResponse = (row: StageRow): StageResponse => ({
  id: row.id,
  clientId: row.clientId,
  stage: row.stage,
  from: row.fromDate,
  to: row.toDate,
  rationale: row.rationale,
  decidedBy: row.decidedBy,
  createdAt: row.createdAt,
});

const ofClient = (clinicId: string, clientId: string) =>
  and(eq(stageAssignments.clinicId, clinicId), eq(stageAssignments.clientId, clientId));

export async function listStages(db: Db, ctx: AuthedContext, clientId: string) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const rows = await db
    .select()
    .from(stageAssignments)
    .where(ofClient(ctx.actor.clinicId, clientId))
    .orderBy(desc(stageAssignments.fromDate), desc(stageAssignments.createdAt), desc(stageAssignments.id));
  ctx.audit.resultCount = rows.length;
  return { items: rows.map(toStageResponse) };
}

/** A new stage closes the current one on the day it begins; the caller is recorded as the decider. */
export function assignStage(db: Db, ctx: AuthedContext, clientId: string, input: AssignStageBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const clinicId = ctx.actor.clinicId;
    await authorizeClient(tx, ctx, clientId, 'clinical');
    await lockClient(tx, clinicId, clientId);
    const from = input.from ?? today();
    const [current] = await tx
      .select()
      .from(stageAssignments)
      .where(and(ofClient(clinicId, clientId), isNull(stageAssignments.toDate)))
      .orderBy(desc(stageAssignments.fromDate), desc(stageAssignments.createdAt))
      .limit(1);
    if (current && from < current.fromDate) {
      throw invalidField('from', `must not be before ${current.fromDate}, when the current stage (${current.stage}) began`);
    }
    if (current) {
      await tx
        .update(stageAssignments)
        .set({ toDate: from })
        .where(and(eq(stageAssignments.clinicId, clinicId), eq(stageAssignments.id, current.id)));
    }
    const [assigned] = await tx
      .insert(stageAssignments)
      .values({
        clinicId,
        id: uuidv7(),
        clientId,
        stage: input.stage,
        fromDate: from,
        rationale: input.rationale,
        decidedBy: ctx.actor.staffId,
      })
      .returning();
    const created = assigned as StageRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { stage: { from: current?.stage ?? null, to: created.stage }, closed: current?.id ?? null };
    return toStageResponse(created);
  });
}
