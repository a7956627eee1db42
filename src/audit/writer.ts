import { getTableColumns, sql } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../db/client.js';
import { executePrepared } from '../db/prepared.js';
import { auditEvents } from '../db/schema/index.js';
import { requestTransactionOf } from '../db/scope.js';
import type { RequestContext } from '../lib/context.js';
import { AppError } from '../lib/errors.js';
import { claimIdempotencyKey } from '../plugins/idempotency.js';
import { type AuditEventInsert, buildAuditRow } from './record.js';

/** Columns the app fills; txid and recorded_at come from their database defaults. */
const written = Object.entries(getTableColumns(auditEvents)).filter(([key]) => key !== 'txid' && key !== 'recordedAt');
const columnList = sql.raw(written.map(([, column]) => `"${column.name}"`).join(', '));

/**
 * Inserts audit rows as one statement with one parameter, however many rows: the batch travels as
 * a JSON array and Postgres turns it into rows. Building a 29-column multi-row INSERT in the query
 * builder cost more CPU per request than the request itself. Its text never changes, so each
 * connection prepares it once (executePrepared).
 */
export async function insertAuditRows(db: DbOrTx, rows: AuditEventInsert[]): Promise<void> {
  const records = rows.map((row) =>
    Object.fromEntries(written.map(([key, column]) => [column.name, row[key as keyof AuditEventInsert] ?? null])),
  );
  await executePrepared(
    db,
    'audit_events_insert',
    sql`insert into audit_events (${columnList}) select ${columnList} from jsonb_populate_recordset(null::audit_events, ${JSON.stringify(records)}::jsonb)`,
  );
}

interface Pending {
  row: AuditEventInsert;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for audit records of requests that change nothing. Requests that arrive while a
 * batch is being written wait for the next batch; each batch is one multi-row INSERT, so one
 * commit (one fsync) makes many records durable. A caller's promise settles only when its row is
 * committed, and the response waits for it.
 */
export class AuditWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: Array<() => void> = [];
  /** Told the size and duration of every batch once it is written or has failed (metrics). */
  onBatch?: (size: number, seconds: number) => void;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 1000,
    private readonly maxConcurrentBatches = 2,
  ) {}

  write(row: AuditEventInsert): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every queued record has been written or has failed. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule() {
    if (this.scheduled || this.inFlight >= this.maxConcurrentBatches || this.queue.length === 0) return;
    this.scheduled = true;
    // Let every request that is ready in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxConcurrentBatches && this.queue.length > 0) {
        this.flush(this.queue.splice(0, this.maxBatch));
      }
    });
  }

  private async flush(batch: Pending[]) {
    this.inFlight++;
    const started = performance.now();
    try {
      await this.insert(batch);
    } finally {
      this.onBatch?.(batch.length, (performance.now() - started) / 1000);
      this.inFlight--;
      this.schedule();
      if (this.queue.length === 0 && this.inFlight === 0) for (const done of this.idle.splice(0)) done();
    }
  }

  private async insert(batch: Pending[]) {
    try {
      await insertAuditRows(
        this.db,
        batch.map((p) => p.row),
      );
      for (const p of batch) p.resolve();
    } catch (error) {
      if (batch.length === 1) return batch[0]?.reject(error);
      // One unwritable row must not fail its neighbours: retry each on its own.
      await Promise.all(batch.map((p) => this.insert([p])));
    }
  }
}

/**
 * Runs a change and writes the request's audit record as the last statement of the same
 * transaction, so the change and its record commit together or not at all.
 */
export async function auditedTransaction<T>(db: Db, ctx: RequestContext, change: (tx: Tx) => Promise<T>): Promise<T> {
  const run = async (tx: Tx) => {
    await claimIdempotencyKey(tx, ctx);
    const value = await change(tx);
    try {
      await insertAuditRows(tx, [buildAuditRow(ctx, ctx.audit.status ?? ctx.route.successStatus)]);
    } catch (error) {
      throw auditUnavailable(error);
    }
    return value;
  };
  // Inside a request's own transaction (src/db/scope.ts) the change joins it: that transaction is
  // committed before the response leaves, and rolled back whole if anything fails.
  const requestTx = requestTransactionOf(db);
  const result = requestTx ? await run(requestTx) : await db.transaction(run);
  ctx.audit.written = true;
  if (ctx.idempotency) ctx.idempotency.claimed = true;
  return result;
}

export const auditUnavailable = (cause: unknown) =>
  new AppError('unavailable', 'The audit trail could not be written, so the request was not carried out', {
    cause,
    retryAfter: 5,
  });
