import { and, asc, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { auditEvents, auditSeals } from '../db/schema/index.js';
import { inScope } from '../db/scope.js';
import { type AuditEventRow, chainHmac, GENESIS_HMAC } from './chain.js';

/** Advisory lock id held while sealing, so one instance seals at a time. */
const SEAL_LOCK = 0x5ea1;

/**
 * Seals audit events into per-clinic HMAC chains in the order their transactions became visible.
 * Ids and clock times are assigned before commit, so a sequence can show gaps that fill in later;
 * instead an event is sealed only once its inserting transaction is older than every running one
 * (its txid is below the snapshot's xmin), so nothing can later appear before it.
 */
export class AuditSealer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: Db,
    private readonly key: string,
    /** Small batches keep each pass's hashing short, so requests on the same event loop barely wait. */
    private readonly batchSize = 500,
  ) {}

  start(intervalMs: number, onError: (error: unknown) => void) {
    this.timer = setInterval(() => {
      if (!this.running) this.sealPending(false).catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Seals everything that can be sealed now. With wait=true it waits for another instance's pass
   * to finish instead of skipping, so a verification right after sees every finished request.
   */
  async sealPending(wait = true): Promise<number> {
    if (this.running) await this.running.catch(() => 0);
    this.running = (async () => {
      let total = 0;
      for (;;) {
        const sealed = await inScope(this.db, 'maintenance', (tx) => this.sealBatch(tx, wait));
        total += Math.max(sealed, 0);
        if (sealed < this.batchSize) return total;
      }
    })();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private async sealBatch(tx: Tx, wait: boolean): Promise<number> {
    if (wait) await tx.execute(sql`select pg_advisory_xact_lock(${SEAL_LOCK})`);
    else {
      const { rows } = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(${SEAL_LOCK}) as locked`);
      if (!rows[0]?.locked) return -1;
    }
    const { rows: bounds } = await tx.execute<{ xmin: string; low: string }>(sql`
      select pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
             coalesce((select horizon from audit_seals order by horizon desc limit 1), '0'::xid8)::text as low`);
    const { xmin, low } = bounds[0] as { xmin: string; low: string };
    const events = await tx
      .select()
      .from(auditEvents)
      .where(
        and(
          gte(auditEvents.txid, low),
          lt(auditEvents.txid, xmin),
          sql`not exists (select 1 from audit_seals s where s.clinic_id = ${auditEvents.clinicId} and s.event_id = ${auditEvents.id})`,
        ),
      )
      .orderBy(asc(auditEvents.txid), asc(auditEvents.clinicId), asc(auditEvents.id))
      .limit(this.batchSize);
    if (events.length === 0) return 0;
    const horizon = events.length < this.batchSize ? xmin : (events.at(-1) as AuditEventRow).txid;
    const seals = await this.link(tx, events, horizon);
    await tx.execute(
      sql`insert into audit_seals (clinic_id, seq, event_id, event_occurred_at, horizon, prev_hmac, hmac)
          select clinic_id, seq, event_id, event_occurred_at, horizon, prev_hmac, hmac
            from jsonb_to_recordset(${JSON.stringify(seals)}::jsonb)
              as s(clinic_id uuid, seq bigint, event_id uuid, event_occurred_at timestamptz, horizon xid8, prev_hmac text, hmac text)`,
    );
    return events.length;
  }

  private async link(tx: Tx, events: AuditEventRow[], horizon: string) {
    const heads = new Map<string, { seq: number; hmac: string }>();
    const seals: Array<{
      clinic_id: string;
      seq: number;
      event_id: string;
      event_occurred_at: Date;
      horizon: string;
      prev_hmac: string;
      hmac: string;
    }> = [];
    for (const event of events) {
      let head = heads.get(event.clinicId);
      if (!head) {
        const [last] = await tx
          .select({ seq: auditSeals.seq, hmac: auditSeals.hmac })
          .from(auditSeals)
          .where(eq(auditSeals.clinicId, event.clinicId))
          .orderBy(desc(auditSeals.seq))
          .limit(1);
        head = last ?? { seq: 0, hmac: GENESIS_HMAC };
      }
      const seq = head.seq + 1;
      const hmac = chainHmac(this.key, event.clinicId, seq, head.hmac, event);
      seals.push({
        clinic_id: event.clinicId,
        seq,
        event_id: event.id,
        event_occurred_at: event.occurredAt,
        horizon,
        prev_hmac: head.hmac,
        hmac,
      });
      heads.set(event.clinicId, { seq, hmac });
    }
    return seals;
  }
}
