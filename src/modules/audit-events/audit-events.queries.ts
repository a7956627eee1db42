import { and, arrayContains, asc, eq, getTableColumns, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Pool } from 'pg';
import type { AuditEventRow } from '../../audit/chain.js';
import type { ExportSeal } from '../../audit/export-format.js';
import type { Db } from '../../db/client.js';
import { auditEvents, auditSeals } from '../../db/schema/index.js';
import { scopeSql, unscoped } from '../../db/scope.js';
import type { AuditEventFilters } from './audit-events.schema.js';

const e = auditEvents;

/** Every column of the event, and its seal (left join on the unique (clinic_id, event_id)). */
export const eventWithSeal = {
  ...getTableColumns(auditEvents),
  sealSeq: auditSeals.seq,
  sealPrevHmac: auditSeals.prevHmac,
  sealHmac: auditSeals.hmac,
};

export type EventWithSeal = AuditEventRow & { sealSeq: number | null; sealPrevHmac: string | null; sealHmac: string | null };

export const sealOf = (row: EventWithSeal): ExportSeal | null =>
  row.sealSeq === null || row.sealPrevHmac === null || row.sealHmac === null
    ? null
    : { seq: row.sealSeq, prevHmac: row.sealPrevHmac, hmac: row.sealHmac };

export function eventOf(row: EventWithSeal): AuditEventRow {
  const { sealSeq: _seq, sealPrevHmac: _prev, sealHmac: _hmac, ...event } = row;
  return event;
}

export interface EventScope {
  clinicId: string;
  from: Date;
  to: Date;
  /** Snapshot bound: only rows recorded at or before it. */
  asOf: Date;
  filters: AuditEventFilters;
}

/** The WHERE of a search or export: the clinic, the range, the snapshot bound and the filters. */
export function scopeCondition({ clinicId, from, to, asOf, filters: f }: EventScope): SQL {
  const optional = [
    f.actorId && eq(e.actorId, f.actorId),
    f.clientId && arrayContains(e.clientIds, [f.clientId]),
    f.action && eq(e.action, f.action),
    f.subtype && eq(e.subtype, f.subtype),
    f.outcome && eq(e.outcome, f.outcome),
    f.dataCategory && eq(e.dataCategory, f.dataCategory),
    f.purpose && eq(e.purposeOfUse, f.purpose),
    f.requestId && eq(e.requestId, f.requestId),
    f.resourceType && eq(e.resourceType, f.resourceType),
    f.resourceId && eq(e.resourceId, f.resourceId),
  ].filter((condition): condition is SQL => Boolean(condition));
  return and(eq(e.clinicId, clinicId), gte(e.occurredAt, from), lt(e.occurredAt, to), lte(e.recordedAt, asOf), ...optional) as SQL;
}

/** The database's clock: the snapshot bound a search cursor or an export pins. */
export async function databaseNow(db: Db): Promise<Date> {
  const result = await db.execute<{ now: string }>(sql`select clock_timestamp()::text as now`);
  return new Date(String(result.rows[0]?.now));
}

const selectScope = (db: Db, where: SQL) =>
  db
    .select(eventWithSeal)
    .from(e)
    .leftJoin(auditSeals, and(eq(auditSeals.clinicId, e.clinicId), eq(auditSeals.eventId, e.id)))
    .where(where)
    .orderBy(asc(e.occurredAt), asc(e.id));

export const EXPORT_BATCH = 500;

/**
 * The rows of a scope in (occurred_at, id) order, one batch of EXPORT_BATCH at a time, so memory
 * stays flat whatever the range holds. On PostgreSQL: a server-side cursor (DECLARE … FETCH) in a
 * REPEATABLE READ, READ ONLY transaction on a dedicated pool connection: one snapshot for the
 * whole export. On PGlite (one connection, a transaction would block every other request for the
 * whole stream): keyset batches, each a separate query after the last (occurred_at, id) read; the
 * recorded_at ≤ asOf bound keeps rows written meanwhile out. Stopping the iteration early (the
 * client went away) closes the cursor and releases the connection.
 */
export function readScopeInBatches(db: Db, scope: EventScope): AsyncGenerator<EventWithSeal[]> {
  // The export streams after the request's own transaction has ended: it reads from the pool.
  const root = unscoped(db);
  const pool = (root as unknown as { $client?: unknown }).$client;
  return isPgPool(pool) ? readWithCursor(root, pool, scope) : readWithKeyset(root, scope);
}

function isPgPool(client: unknown): client is Pool {
  return typeof client === 'object' && client !== null && 'totalCount' in client && typeof (client as Pool).connect === 'function';
}

async function* readWithKeyset(db: Db, scope: EventScope): AsyncGenerator<EventWithSeal[]> {
  let after: { occurredAt: Date; id: string } | null = null;
  for (;;) {
    const keyset: SQL | undefined = after
      ? sql`(${e.occurredAt}, ${e.id}) > (${after.occurredAt.toISOString()}::timestamptz, ${after.id}::uuid)`
      : undefined;
    const rows = await selectScope(db, and(scopeCondition(scope), keyset) as SQL).limit(EXPORT_BATCH);
    if (rows.length > 0) yield rows;
    if (rows.length < EXPORT_BATCH) return;
    const last = rows[rows.length - 1] as EventWithSeal;
    after = { occurredAt: last.occurredAt, id: last.id };
  }
}

async function* readWithCursor(db: Db, pool: Pool, scope: EventScope): AsyncGenerator<EventWithSeal[]> {
  const query = selectScope(db, scopeCondition(scope)).toSQL();
  const fields = Object.entries(eventWithSeal);
  const client = await pool.connect();
  let broken = false;
  let open = false;
  try {
    await client.query(`begin isolation level repeatable read, read only; ${scopeSql({ clinicId: scope.clinicId })}`);
    open = true;
    await client.query(`declare audit_export no scroll cursor for ${query.sql}`, query.params);
    for (;;) {
      const { rows } = await client.query<unknown[]>({ text: `fetch ${EXPORT_BATCH} from audit_export`, rowMode: 'array' });
      if (rows.length > 0) {
        // Positional, as drizzle maps its own results: the two tables share column names.
        yield rows.map(
          (raw) =>
            Object.fromEntries(
              fields.map(([key, column], index) => {
                const value = raw[index];
                return [key, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
              }),
            ) as EventWithSeal,
        );
      }
      if (rows.length < EXPORT_BATCH) break;
    }
    await client.query('close audit_export');
    await client.query('commit');
    open = false;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // Returned early (the consumer stopped) or failed: end the transaction, which closes the cursor.
    if (open && !broken) await client.query('rollback').catch(() => (broken = true));
    client.release(broken);
  }
}
