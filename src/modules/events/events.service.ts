import { and, desc, eq, gte, isNull, lte, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinicalEvents } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import { type CreateEventBody, checkDischarge, type EventResponse, type ListEventsQuery, type UpdateEventBody } from './events.schema.js';

type EventRow = typeof clinicalEvents.$inferSelect;

const DAY_MS = 86_400_000;

/** Whole days from admission to discharge, a part day counting as a day in hospital. */
export function daysInHospital(row: Pick<EventRow, 'kind' | 'occurredAt' | 'dischargedAt'>): number | null {
  if (row.kind !== 'psychiatric_admission' || !row.dischargedAt) return null;
  return Math.ceil((row.dischargedAt.getTime() - row.occurredAt.getTime()) / DAY_MS);
}

const toEventResponse = (row: EventRow): EventResponse => ({
  id: row.id,
  clientId: row.clientId,
  kind: row.kind,
  occurredAt: row.occurredAt,
  dischargedAt: row.dischargedAt,
  daysInHospital: daysInHospital(row),
  severity: row.severity,
  source: row.source,
  description: row.description,
  diaryCardId: row.diaryCardId,
  diaryDate: row.diaryDate,
  targetId: row.targetId,
  enteredInError: row.enteredInErrorAt ? { at: row.enteredInErrorAt, reason: row.enteredInErrorReason ?? '' } : null,
  version: row.version,
  recordedBy: row.recordedBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** The client's events, newest first; events entered in error only when asked for. The client's team reads them too. */
export async function listEvents(db: Db, ctx: AuthedContext, clientId: string, query: ListEventsQuery) {
  await authorizeClient(db, ctx, clientId, 'team');
  const scope = and(eq(clinicalEvents.clinicId, ctx.actor.clinicId), eq(clinicalEvents.clientId, clientId));
  // Keyset on (occurredAt, id), newest first: the cursor names the last event of the previous page.
  const after = query.cursor
    ? sql`(${clinicalEvents.occurredAt}, ${clinicalEvents.id}) < (select occurred_at, id from clinical_events where clinic_id = ${ctx.actor.clinicId} and id = ${query.cursor})`
    : undefined;
  const rows = await db
    .select()
    .from(clinicalEvents)
    .where(
      and(
        scope,
        after,
        query.kind ? eq(clinicalEvents.kind, query.kind) : undefined,
        query.from ? gte(clinicalEvents.occurredAt, query.from) : undefined,
        query.to ? lte(clinicalEvents.occurredAt, query.to) : undefined,
        query.includeEnteredInError === 'true' ? undefined : isNull(clinicalEvents.enteredInErrorAt),
      ),
    )
    .orderBy(desc(clinicalEvents.occurredAt), desc(clinicalEvents.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toEventResponse), query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createEvent(db: Db, ctx: AuthedContext, clientId: string, input: CreateEventBody): Promise<EventResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const [row] = await tx
      .insert(clinicalEvents)
      .values({
        clinicId: ctx.actor.clinicId,
        id: uuidv7(),
        clientId,
        kind: input.kind,
        occurredAt: input.occurredAt,
        dischargedAt: input.dischargedAt ?? null,
        severity: input.severity,
        source: input.source,
        description: input.description ?? null,
        recordedBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as EventRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { kind: created.kind, severity: created.severity, source: created.source };
    return toEventResponse(created);
  });
}

async function findEvent(db: DbOrTx, ctx: AuthedContext, clientId: string, eventId: string, lock: boolean): Promise<EventRow> {
  ctx.audit.resourceId = eventId;
  const select = db
    .select()
    .from(clinicalEvents)
    .where(and(eq(clinicalEvents.clinicId, ctx.actor.clinicId), eq(clinicalEvents.clientId, clientId), eq(clinicalEvents.id, eventId)));
  const [row] = lock ? await select.for('update') : await select;
  if (!row) throw notFound('Clinical event');
  return row;
}

/** One event, entered in error or not (the mark is in the response). */
export async function readEvent(db: Db, ctx: AuthedContext, clientId: string, eventId: string): Promise<EventResponse> {
  await authorizeClient(db, ctx, clientId, 'team');
  const row = await findEvent(db, ctx, clientId, eventId, false);
  ctx.audit.resultCount = 1;
  return toEventResponse(row);
}

const enteredInErrorConflict = () => new AppError('conflict', 'This event was entered in error and can no longer change');

/** Changes what is known about an event; its kind and source stay as recorded. */
export function updateEvent(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  eventId: string,
  ifMatch: string | undefined,
  input: UpdateEventBody,
): Promise<EventResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const row = await findEvent(tx, ctx, clientId, eventId, true);
    checkIfMatch(ifMatch, row.version);
    if (row.enteredInErrorAt) throw enteredInErrorConflict();
    const change = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<EventRow>;
    const merged = { ...row, ...change };
    const problem = checkDischarge(merged.kind, merged.occurredAt, merged.dischargedAt);
    if (problem) {
      // A stored discharge that a new occurredAt overtakes: the field to fix is the one sent.
      throw 'dischargedAt' in change
        ? invalidField(problem.field, problem.message)
        : invalidField('occurredAt', 'must be before dischargedAt');
    }
    ctx.audit.details = { fields: Object.keys(change), fromVersion: row.version };
    const [updated] = await tx
      .update(clinicalEvents)
      .set({ ...change, version: row.version + 1, updatedAt: sql`now()` })
      .where(and(eq(clinicalEvents.clinicId, row.clinicId), eq(clinicalEvents.id, row.id)))
      .returning();
    return toEventResponse(updated as EventRow);
  });
}

/** Hides the event from lists and from the agenda; the row and its history stay for the record. */
export function markEventEnteredInError(db: Db, ctx: AuthedContext, clientId: string, eventId: string, reason: string) {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const row = await findEvent(tx, ctx, clientId, eventId, true);
    if (row.enteredInErrorAt) throw new AppError('conflict', 'This event is already marked as entered in error');
    // Who marked it is the audit record's actor; the reason stays in the record, not the audit trail.
    ctx.audit.details = { version: row.version };
    const [updated] = await tx
      .update(clinicalEvents)
      .set({ enteredInErrorAt: new Date(), enteredInErrorReason: reason, version: row.version + 1, updatedAt: sql`now()` })
      .where(and(eq(clinicalEvents.clinicId, row.clinicId), eq(clinicalEvents.id, row.id)))
      .returning();
    return toEventResponse(updated as EventRow);
  });
}
