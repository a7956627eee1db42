import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { auditEvents, auditSeals } from '../db/schema/index.js';
import { chainHmac, GENESIS_HMAC } from './chain.js';

export interface ChainBreak {
  seq: number | null;
  eventId: string | null;
  reason: 'sequence-gap' | 'previous-link-mismatch' | 'event-missing' | 'hmac-mismatch' | 'unsealed-event-in-sealed-range';
}

export interface ChainReport {
  clinicId: string;
  ok: boolean;
  rowsChecked: number;
  sealedThrough: number;
  firstBreak: ChainBreak | null;
}

const PAGE = 2000;

/**
 * Walks one clinic's chain from the first seal: every position present, every link pointing at
 * the previous one, every event present and hashing to its seal. Then looks for events that sit
 * below the sealed horizon without a seal: rows inserted behind the sealer's back.
 */
export async function verifyChain(db: DbOrTx, key: string, clinicId: string): Promise<ChainReport> {
  let expectedSeq = 1;
  let prevHmac = GENESIS_HMAC;
  let rowsChecked = 0;
  const report = (firstBreak: ChainBreak | null): ChainReport => ({
    clinicId,
    ok: firstBreak === null,
    rowsChecked,
    sealedThrough: expectedSeq - 1,
    firstBreak,
  });
  for (;;) {
    const page = await db
      .select({ seal: auditSeals, event: auditEvents })
      .from(auditSeals)
      .leftJoin(auditEvents, and(eq(auditEvents.clinicId, auditSeals.clinicId), eq(auditEvents.id, auditSeals.eventId)))
      .where(and(eq(auditSeals.clinicId, clinicId), gt(auditSeals.seq, expectedSeq - 1)))
      .orderBy(asc(auditSeals.seq))
      .limit(PAGE);
    for (const { seal, event } of page) {
      const at = { seq: seal.seq, eventId: seal.eventId };
      if (seal.seq !== expectedSeq) return report({ seq: expectedSeq, eventId: null, reason: 'sequence-gap' });
      if (seal.prevHmac !== prevHmac) return report({ ...at, reason: 'previous-link-mismatch' });
      if (!event) return report({ ...at, reason: 'event-missing' });
      if (chainHmac(key, clinicId, seal.seq, prevHmac, event) !== seal.hmac) return report({ ...at, reason: 'hmac-mismatch' });
      rowsChecked++;
      expectedSeq++;
      prevHmac = seal.hmac;
    }
    if (page.length < PAGE) break;
  }
  const [top] = await db.select({ horizon: auditSeals.horizon }).from(auditSeals).orderBy(desc(auditSeals.horizon)).limit(1);
  if (top) {
    const [stray] = await db
      .select({ id: auditEvents.id })
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.clinicId, clinicId),
          lt(auditEvents.txid, top.horizon),
          sql`not exists (select 1 from audit_seals s where s.clinic_id = ${auditEvents.clinicId} and s.event_id = ${auditEvents.id})`,
        ),
      )
      .limit(1);
    if (stray) return report({ seq: null, eventId: stray.id, reason: 'unsealed-event-in-sealed-range' });
  }
  return report(null);
}
