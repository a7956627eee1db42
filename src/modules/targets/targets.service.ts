import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, Tx } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { targetCategories, targets } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import type { ListTargetsQuery, RetireTargetBody, TargetInput, TargetResponse } from './targets.schema.js';

type TargetRow = typeof targets.$inferSelect;

/** What a version says; a change to any of these is a new version. */
const meaningFields = ['category', 'lifeThreateningSubtype', 'therapyInterferingActor', 'direction', 'measure', 'label'] as const;

const toTargetResponse = (row: TargetRow): TargetResponse => ({
  targetId: row.targetId,
  version: row.version,
  clientId: row.clientId,
  category: row.category,
  lifeThreateningSubtype: row.lifeThreateningSubtype,
  therapyInterferingActor: row.therapyInterferingActor,
  direction: row.direction,
  measure: row.measure,
  label: row.label,
  effectiveFrom: row.effectiveFrom,
  effectiveTo: row.effectiveTo,
  endReason: row.endReason,
  endNote: row.endNote,
  createdBy: row.createdBy,
});

/** The target hierarchy: life-threatening, therapy-interfering, quality of life, skills; then label. */
function byHierarchy(a: TargetRow, b: TargetRow): number {
  const rank = targetCategories.indexOf(a.category) - targetCategories.indexOf(b.category);
  if (rank !== 0) return rank;
  const label = a.label.localeCompare(b.label, 'en', { sensitivity: 'base' });
  if (label !== 0) return label;
  return a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0;
}

/**
 * The client's targets in force, in hierarchy order; with history, every version of every target
 * (retired ones too), grouped by target in the order of each target's latest version, versions
 * ascending.
 */
export async function listTargets(db: Db, ctx: AuthedContext, clientId: string, query: ListTargetsQuery) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const history = query.history === 'true';
  const rows = await db
    .select()
    .from(targets)
    .where(
      and(eq(targets.clinicId, ctx.actor.clinicId), eq(targets.clientId, clientId), history ? undefined : isNull(targets.effectiveTo)),
    );
  let ordered: TargetRow[];
  if (history) {
    const groups = new Map<string, TargetRow[]>();
    for (const row of rows) groups.set(row.targetId, [...(groups.get(row.targetId) ?? []), row]);
    const versions = [...groups.values()].map((group) => group.sort((a, b) => a.version - b.version));
    versions.sort((a, b) => byHierarchy(a.at(-1) as TargetRow, b.at(-1) as TargetRow));
    ordered = versions.flat();
  } else {
    ordered = rows.sort(byHierarchy);
  }
  ctx.audit.resultCount = ordered.length;
  return { items: ordered.map(toTargetResponse) };
}

export function createTarget(db: Db, ctx: AuthedContext, clientId: string, input: TargetInput): Promise<TargetResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const [row] = await tx
      .insert(targets)
      .values({
        clinicId: ctx.actor.clinicId,
        targetId: uuidv7(),
        version: 1,
        clientId,
        ...input,
        effectiveFrom: sql`clock_timestamp()`,
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as TargetRow;
    ctx.audit.resourceId = created.targetId;
    ctx.audit.details = { version: 1, category: created.category };
    return toTargetResponse(created);
  });
}

/**
 * Locks the version in force. Nothing current means the target is unknown (404), retired (409), or
 * was changed by a request that committed while this one waited for the lock (412).
 */
async function lockCurrent(tx: Tx, ctx: AuthedContext, clientId: string, targetId: string): Promise<TargetRow> {
  ctx.audit.resourceId = targetId;
  const scope = and(eq(targets.clinicId, ctx.actor.clinicId), eq(targets.clientId, clientId), eq(targets.targetId, targetId));
  const [current] = await tx
    .select()
    .from(targets)
    .where(and(scope, isNull(targets.effectiveTo)))
    .for('update');
  if (current) return current;
  const [latest] = await tx.select().from(targets).where(scope).orderBy(desc(targets.version)).limit(1);
  if (!latest) throw notFound('Target');
  if (latest.endReason === 'retired') throw new AppError('conflict', 'This target has been retired; create a new target instead');
  throw staleTarget();
}

const staleTarget = () => new AppError('precondition_failed', 'The target changed since you read it; read it again and retry');

/**
 * A change of meaning closes the version in force and opens the next at the same instant, so
 * every diary-card rating stays readable against the wording that applied. An identical body
 * changes nothing and answers with the current version.
 */
export function changeTarget(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  targetId: string,
  ifMatch: string | undefined,
  input: TargetInput,
): Promise<{ target: TargetResponse; created: boolean }> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      await authorizeClient(tx, ctx, clientId, 'clinical');
      const current = await lockCurrent(tx, ctx, clientId, targetId);
      checkIfMatch(ifMatch, current.version);
      const changed = meaningFields.filter((field) => input[field] !== current[field]);
      ctx.audit.details = { fields: changed, fromVersion: current.version };
      if (changed.length === 0) return { target: toTargetResponse(current), created: false };

      // The clock after the lock, not the transaction start: the version closed was committed before
      // we locked it, so its successor never begins before it does. Both sides share one instant.
      const [closed] = await tx
        .update(targets)
        .set({ effectiveTo: sql`clock_timestamp()`, endReason: 'changed' })
        .where(and(eq(targets.clinicId, current.clinicId), eq(targets.targetId, targetId), eq(targets.version, current.version)))
        .returning({ at: targets.effectiveTo });
      const [row] = await tx
        .insert(targets)
        .values({
          ...current,
          ...input,
          version: current.version + 1,
          effectiveFrom: closed?.at as Date,
          effectiveTo: null,
          endReason: null,
          endNote: null,
          createdBy: ctx.actor.staffId,
        })
        .returning();
      ctx.audit.details = { ...ctx.audit.details, toVersion: current.version + 1 };
      // A new version answers 201; the audit record, written in this transaction, must say so.
      ctx.audit.status = 201;
      return { target: toTargetResponse(row as TargetRow), created: true };
    }),
    staleTarget,
  );
}

/** Retiring closes the version in force; the target stays in the history. */
export function retireTarget(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  targetId: string,
  ifMatch: string | undefined,
  input: RetireTargetBody,
): Promise<TargetResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const current = await lockCurrent(tx, ctx, clientId, targetId);
    // Optional here: retiring is final either way, but a caller who sends a stale ETag is told.
    if (ifMatch !== undefined) checkIfMatch(ifMatch, current.version);
    const [row] = await tx
      .update(targets)
      .set({ effectiveTo: sql`clock_timestamp()`, endReason: 'retired', endNote: input.reason ?? null })
      .where(and(eq(targets.clinicId, current.clinicId), eq(targets.targetId, targetId), eq(targets.version, current.version)))
      .returning();
    ctx.audit.details = { version: current.version, withNote: input.reason !== undefined };
    return toTargetResponse(row as TargetRow);
  });
}
