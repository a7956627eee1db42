import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { auditEvents } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, target, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { countRows, run, type VerifyReport, verifyAs, verifyCovering } from './support.js';

// Every instance in this file shares one key and one database, as a real deployment would.
const AUDIT_HMAC_KEY = randomBytes(32).toString('hex');
const database = await testDatabase();
const app = await buildTestApp({ AUDIT_HMAC_KEY });

async function clinicWithOfficer() {
  const { clinic, admin } = await createClinic();
  const officer = await createStaffMember(clinic.id, ['compliance']);
  return { clinic, admin, officer };
}

const me = (on: App, member: { id: string; clinicId: string; roles: string[] }): InjectOptions => ({
  method: 'GET',
  url: '/v1/me',
  headers: bearer(tokenFor(on, member)),
});

const createStaff = (on: App, admin: { id: string; clinicId: string; roles: string[] }): InjectOptions => ({
  method: 'POST',
  url: '/v1/staff',
  headers: bearer(tokenFor(on, admin)),
  payload: { email: `c-${uuidv7()}@example.test`, displayName: 'Synthetic Concurrent Hire', roles: ['therapist'], password: TEST_PASSWORD },
});

/** Verifies a clinic with nothing else in flight: the chain must cover exactly the rows present. */
async function expectWholeChain(on: App, officer: { id: string; clinicId: string; roles: string[] }) {
  const { report, rows } = await verifyCovering(on, officer, database);
  expect(report).toEqual({ clinicId: officer.clinicId, ok: true, rowsChecked: rows, sealedThrough: rows, firstBreak: null });
  return report;
}

/**
 * Every event below the newest horizon is sealed exactly once, in a gapless per-clinic sequence,
 * and the sequence follows the inserting transactions' ids (never id or clock order).
 */
async function expectConsistentSeals(clinicId: string) {
  const [order] = await run<{ out_of_order: number }>(
    database,
    sql`select count(*)::int as out_of_order from (
          select e.txid, lag(e.txid) over (order by s.seq) as previous
            from audit_seals s join audit_events e on e.clinic_id = s.clinic_id and e.id = s.event_id
           where s.clinic_id = ${clinicId}) t
         where t.txid < t.previous`,
  );
  expect(order).toEqual({ out_of_order: 0 });
  const [row] = await run<{ seals: number; distinct_events: number; max_seq: number; unsealed_below: number }>(
    database,
    sql`select count(*)::int as seals, count(distinct s.event_id)::int as distinct_events, coalesce(max(s.seq), 0)::int as max_seq,
               (select count(*)::int from audit_events e
                 where e.clinic_id = ${clinicId}
                   and e.txid < (select max(horizon) from audit_seals)
                   and not exists (select 1 from audit_seals x where x.clinic_id = e.clinic_id and x.event_id = e.id)) as unsealed_below
          from audit_seals s where s.clinic_id = ${clinicId}`,
  );
  expect(row).toMatchObject({ unsealed_below: 0 });
  expect(row?.distinct_events).toBe(row?.seals);
  expect(row?.max_seq).toBe(row?.seals);
}

describe('the chain under concurrent traffic', () => {
  it('two clinics, 50 concurrent reads each plus creates and verifications in flight: both chains whole', async () => {
    const a = await clinicWithOfficer();
    const b = await clinicWithOfficer();
    const requests: InjectOptions[] = [];
    for (let i = 0; i < 50; i++) requests.push(me(app, a.admin), me(app, b.admin));
    for (let i = 0; i < 3; i++) requests.push(createStaff(app, a.admin), createStaff(app, b.admin));
    const verifications = [a.officer, b.officer, a.officer].map((officer) => verifyAs(app, officer));
    const responses = await Promise.all(requests.map((request) => app.inject(request)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([...Array(100).fill(200), ...Array(6).fill(201)]);
    // Verifications that ran while records were still being written saw an intact prefix.
    for (const { report } of await Promise.all(verifications)) expect(report).toMatchObject({ ok: true, firstBreak: null });

    expect(await countRows(database, 'audit_events', a.clinic.id)).toBe(50 + 3 + 2);
    const reportA = await expectWholeChain(app, a.officer);
    const reportB = await expectWholeChain(app, b.officer);
    expect(reportA.rowsChecked).toBeGreaterThanOrEqual(50 + 3 + 2);
    expect(reportB.rowsChecked).toBeGreaterThanOrEqual(50 + 3 + 1);
    await expectConsistentSeals(a.clinic.id);
    await expectConsistentSeals(b.clinic.id);
  });

  it('a second burst after sealing extends both chains without a break', async () => {
    const a = await clinicWithOfficer();
    const b = await clinicWithOfficer();
    await expectWholeChain(app, a.officer);
    await expectWholeChain(app, b.officer);
    for (let round = 0; round < 3; round++) {
      const burst = Array.from({ length: 20 }, (_, i) => me(app, i % 2 ? a.admin : b.admin));
      await Promise.all([...burst.map((request) => app.inject(request)), verifyAs(app, round % 2 ? a.officer : b.officer)]);
    }
    const reportA = await expectWholeChain(app, a.officer);
    const reportB = await expectWholeChain(app, b.officer);
    // 30 reads per clinic, the verifications in between and the ones before the bursts.
    expect(reportA.rowsChecked).toBeGreaterThanOrEqual(30 + 2);
    expect(reportB.rowsChecked).toBeGreaterThanOrEqual(30 + 2);
  });
});

describe('a transaction that commits late', () => {
  it('holds the horizon below its txid, so records that commit before it cannot be sealed ahead of it', async () => {
    const a = await clinicWithOfficer();
    await expectWholeChain(app, a.officer);
    // Counted now: on PGlite nothing else can run while the slow transaction is open.
    const sealedBefore = await countRows(database, 'audit_seals', a.clinic.id);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let slowTxid = '';
    const slowId = uuidv7();
    // Like a change whose transaction wrote its audit record, then took a while to commit.
    const slow = database.db.transaction(async (tx) => {
      await tx.insert(auditEvents).values({
        clinicId: a.clinic.id,
        id: slowId,
        occurredAt: new Date(),
        requestId: `slow-${slowId}`,
        actorType: 'system',
        action: 'E',
        subtype: 'synthetic-slow-change',
        outcome: 'success',
        httpStatus: 200,
        method: 'TEST',
        route: 'slow-transaction',
        serviceVersion: 'test',
      });
      const [row] = (await tx.execute<{ txid: string }>(sql`select pg_current_xact_id()::text as txid`)).rows;
      slowTxid = row?.txid ?? '';
      await gate;
    });
    while (!slowTxid) await new Promise((resolve) => setTimeout(resolve, 5));

    const later = Array.from({ length: 10 }, () => app.inject(me(app, a.admin)));
    const during = verifyAs(app, a.officer);
    try {
      if (target.kind === 'postgres') {
        // Later records commit first; the sealer must leave them (and everything after) unsealed.
        expect((await Promise.all(later)).map((r) => r.statusCode)).toEqual(Array(10).fill(200));
        const { report } = await during;
        expect(report).toMatchObject({ ok: true, firstBreak: null });
        // At most the records that committed before the slow transaction began.
        expect(report.rowsChecked).toBeGreaterThanOrEqual(sealedBefore);
        expect(report.rowsChecked).toBeLessThanOrEqual(sealedBefore + 1);
        const [pending] = await run<{ n: number }>(
          database,
          sql`select count(*)::int as n from audit_events e where e.clinic_id = ${a.clinic.id} and e.txid > ${slowTxid}::xid8
                and exists (select 1 from audit_seals s where s.clinic_id = e.clinic_id and s.event_id = e.id)`,
        );
        expect(pending).toEqual({ n: 0 });
      } else {
        // PGlite has one connection: nothing else runs, let alone commits, until the slow one is done.
        const settled = await Promise.race([Promise.all(later).then(() => true), new Promise((r) => setTimeout(() => r(false), 200))]);
        expect(settled).toBe(false);
      }
    } finally {
      release();
      await slow;
    }
    await Promise.all([...later, during]);
    await expectWholeChain(app, a.officer);
    await expectConsistentSeals(a.clinic.id);
    const [seal] = await run(database, sql`select 1 as sealed from audit_seals where clinic_id = ${a.clinic.id} and event_id = ${slowId}`);
    expect(seal).toEqual({ sealed: 1 });
  });
});

describe('several instances on one database', () => {
  it('sealers in two instances (background and on demand) take turns by advisory lock and build one chain', async () => {
    const fast = { AUDIT_HMAC_KEY, AUDIT_SEAL_INTERVAL_MS: '100' };
    const one = await buildTestApp(fast);
    const two = await buildTestApp(fast);
    const a = await clinicWithOfficer();
    const b = await clinicWithOfficer();
    const reports: Array<Promise<{ report: VerifyReport }>> = [];
    const traffic: Array<Promise<{ statusCode: number }>> = [];
    for (let i = 0; i < 40; i++) {
      const instance = i % 2 ? one : two;
      traffic.push(instance.inject(me(instance, i % 3 ? a.admin : b.admin)));
      if (i % 10 === 0) {
        reports.push(verifyAs(one, a.officer), verifyAs(two, a.officer), verifyAs(two, b.officer));
      }
    }
    traffic.push(one.inject(createStaff(one, a.admin)), two.inject(createStaff(two, b.admin)));
    const answered = await Promise.all(traffic);
    expect(answered.filter((r) => r.statusCode >= 300)).toEqual([]);
    for (const { report } of await Promise.all(reports)) expect(report).toMatchObject({ ok: true, firstBreak: null });

    // Let the background sealers run a few passes on their own, then verify from each instance.
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expectWholeChain(one, a.officer);
    await expectWholeChain(two, a.officer);
    await expectWholeChain(two, b.officer);
    await expectWholeChain(one, b.officer);
    await expectConsistentSeals(a.clinic.id);
    await expectConsistentSeals(b.clinic.id);
    // And the file's first instance, which never saw this traffic, agrees.
    await expectWholeChain(app, a.officer);
  });
});
