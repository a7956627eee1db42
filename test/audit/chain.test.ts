import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, createFileDatabase, newRequestId, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { countRows, recordsFor, run, staffIn, verifyAs, verifyCovering } from './support.js';

type Member = { id: string; clinicId: string; roles: string[] };

/** Some ordinary traffic in a clinic: reads, a denial and a create. */
async function traffic(app: App, admin: Member, other: Member) {
  const adminAuth = bearer(tokenFor(app, admin));
  const requests = [
    { method: 'GET' as const, url: '/v1/me', headers: adminAuth },
    { method: 'GET' as const, url: '/v1/staff', headers: adminAuth },
    { method: 'GET' as const, url: '/v1/staff', headers: bearer(tokenFor(app, other)) },
    { method: 'GET' as const, url: `/v1/staff/${other.id}`, headers: adminAuth },
    { method: 'GET' as const, url: '/v1/me', headers: bearer(tokenFor(app, other)) },
    { method: 'GET' as const, url: '/v1/me', headers: adminAuth },
  ];
  for (const request of requests) await app.inject(request);
}

describe('verification of an untouched chain', async () => {
  const database = await testDatabase();
  const app = await buildTestApp();
  const { clinic, admin } = await createClinic();
  const officer = await createStaffMember(clinic.id, ['compliance']);
  const therapist = await createStaffMember(clinic.id, ['therapist']);

  it('seals pending records and reports an intact chain covering every record so far', async () => {
    await traffic(app, admin, therapist);
    expect(await countRows(database, 'audit_events', clinic.id)).toBeGreaterThan(0);
    // The verification's own record is written after it verifies, so the count is taken before the call.
    const { report, rows } = await verifyCovering(app, officer, database);
    expect(report).toEqual({ clinicId: clinic.id, ok: true, rowsChecked: rows, sealedThrough: rows, firstBreak: null });
    expect(await countRows(database, 'audit_seals', clinic.id)).toBe(rows);
  });

  it('reading the audit trail is itself audited: the verification has its own record, sealed by the next one', async () => {
    const first = await verifyCovering(app, officer, database);
    const before = first.rows;
    expect(first.report.rowsChecked).toBe(before);
    const records = await recordsFor(database, first.requestId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      clinic_id: clinic.id,
      actor_type: 'staff',
      actor_id: officer.id,
      actor_roles: ['compliance'],
      action: 'E',
      subtype: 'verify',
      resource_type: 'audit-trail',
      outcome: 'success',
      http_status: 200,
      route: '/v1/audit/verify',
      result_count: before,
      access_basis: { rule: 'audit.read', role: 'compliance' },
      details: { ok: true, firstBreak: null },
    });
    const second = await verifyCovering(app, officer, database);
    expect(second.report).toMatchObject({ ok: true, rowsChecked: second.rows });
    expect(second.rows).toBeGreaterThanOrEqual(before + 1);
    const [seal] = await run(
      database,
      sql`select seq::int as seq from audit_seals where clinic_id = ${clinic.id} and event_id = ${records[0]?.id}`,
    );
    expect(seal).toEqual({ seq: before + 1 });
  });

  it('a verification attempt without the compliance role is refused and recorded as a denial', async () => {
    const requestId = newRequestId();
    const response = await app.inject({
      method: 'GET',
      url: '/v1/audit/verify',
      headers: { ...bearer(tokenFor(app, admin)), 'x-request-id': requestId },
    });
    expect(response.statusCode).toBe(403);
    expect(response.body).not.toContain('rowsChecked');
    expect(await recordsFor(database, requestId)).toMatchObject([
      { subtype: 'verify', outcome: 'denied', actor_id: admin.id, denial_reason: 'role-not-permitted:audit.read' },
    ]);
  });
});

/**
 * A fresh database per tamper, so one break never masks the next. The tamperer is a superuser who
 * switches the guard triggers (and the foreign-key triggers) off, changes a row, and switches them
 * back on exactly as the migration left them.
 */
// Each tamper opens a database; close it (after its apps) so the run does not accumulate them.
const opened = { apps: [] as App[], databases: [] as Database[] };
afterEach(async () => {
  for (const app of opened.apps.splice(0)) await app.close();
  for (const database of opened.databases.splice(0)) await database.close();
});

async function sealedClinic() {
  const database = await createFileDatabase();
  const app = await buildTestApp({}, database);
  opened.apps.push(app);
  opened.databases.push(database);
  const { clinic, admin } = await createClinic(database);
  const officer = await staffIn(database, clinic.id, ['compliance']);
  const therapist = await staffIn(database, clinic.id, ['therapist']);
  await traffic(app, admin, therapist);
  const { report, rows } = await verifyCovering(app, officer, database);
  expect(report).toMatchObject({ ok: true, rowsChecked: rows, sealedThrough: rows });
  expect(rows).toBeGreaterThanOrEqual(5);
  const sealAt = async (seq: number) => {
    const [seal] = await run<{ event_id: string }>(
      database,
      sql`select event_id from audit_seals where clinic_id = ${clinic.id} and seq = ${seq}`,
    );
    if (!seal) throw new Error(`no seal at ${seq}`);
    return seal.event_id;
  };
  return { database, app, clinic, admin, officer, therapist, rows, sealAt, verify: () => verifyAs(app, officer) };
}

async function asSuperuser(database: Database, table: 'audit_events' | 'audit_seals', statement: ReturnType<typeof sql>) {
  await run(database, `ALTER TABLE ${table} DISABLE TRIGGER ALL`);
  try {
    await run(database, statement);
  } finally {
    await run(database, `ALTER TABLE ${table} ENABLE TRIGGER ALL`);
    await run(database, `ALTER TABLE ${table} ENABLE ALWAYS TRIGGER ${table}_no_update_delete`);
    await run(database, `ALTER TABLE ${table} ENABLE ALWAYS TRIGGER ${table}_no_truncate`);
  }
}

describe('tamper evidence', () => {
  it.each([
    ['http_status', sql`http_status = 200`],
    ['actor_id', sql`actor_id = gen_random_uuid()`],
    ['access_basis', sql`access_basis = '{"rule":"staff.manage","role":"admin"}'::jsonb`],
    ['occurred_at', sql`occurred_at = occurred_at - interval '1 second'`],
  ])('editing a sealed event (%s) is an hmac-mismatch at its position', async (_column, change) => {
    const chain = await sealedClinic();
    const eventId = await chain.sealAt(3);
    await asSuperuser(
      chain.database,
      'audit_events',
      sql`update audit_events set ${change} where clinic_id = ${chain.clinic.id} and id = ${eventId}`,
    );
    const { report } = await chain.verify();
    expect(report).toEqual({
      clinicId: chain.clinic.id,
      ok: false,
      rowsChecked: 2,
      sealedThrough: 2,
      firstBreak: { seq: 3, eventId, reason: 'hmac-mismatch' },
    });
  });

  it('deleting a sealed event is event-missing', async () => {
    const chain = await sealedClinic();
    const eventId = await chain.sealAt(4);
    await asSuperuser(
      chain.database,
      'audit_events',
      sql`delete from audit_events where clinic_id = ${chain.clinic.id} and id = ${eventId}`,
    );
    const { report } = await chain.verify();
    expect(report).toMatchObject({ ok: false, rowsChecked: 3, firstBreak: { seq: 4, eventId, reason: 'event-missing' } });
  });

  it('deleting a seal in the middle of the chain is a sequence-gap', async () => {
    const chain = await sealedClinic();
    await asSuperuser(chain.database, 'audit_seals', sql`delete from audit_seals where clinic_id = ${chain.clinic.id} and seq = 3`);
    const { report } = await chain.verify();
    expect(report).toMatchObject({
      ok: false,
      rowsChecked: 2,
      sealedThrough: 2,
      firstBreak: { seq: 3, eventId: null, reason: 'sequence-gap' },
    });
  });

  it("re-pointing a seal's previous link is a previous-link-mismatch", async () => {
    const chain = await sealedClinic();
    const eventId = await chain.sealAt(2);
    await asSuperuser(
      chain.database,
      'audit_seals',
      sql`update audit_seals set prev_hmac = ${'f'.repeat(64)} where clinic_id = ${chain.clinic.id} and seq = 2`,
    );
    const { report } = await chain.verify();
    expect(report).toMatchObject({ ok: false, rowsChecked: 1, firstBreak: { seq: 2, eventId, reason: 'previous-link-mismatch' } });
  });

  it('a forged event inserted with an old txid is an unsealed-event-in-sealed-range naming it', async () => {
    const chain = await sealedClinic();
    const original = await chain.sealAt(2);
    const forgedId = uuidv7();
    // INSERT is the one change the triggers allow; the forger copies a sealed row, txid included.
    await run(
      chain.database,
      sql`insert into audit_events
          select (jsonb_populate_record(null::audit_events, to_jsonb(e) || jsonb_build_object('id', ${forgedId}::uuid))).*
            from audit_events e where e.clinic_id = ${chain.clinic.id} and e.id = ${original}`,
    );
    const [copy] = await run<{ txid: string }>(
      chain.database,
      sql`select (select txid::text from audit_events where id = ${forgedId}) = (select txid::text from audit_events where id = ${original}) as txid`,
    );
    expect(copy).toEqual({ txid: true });
    // The chain itself is intact (the first verification's record is sealed now too); the stray is found.
    const { report } = await chain.verify();
    expect(report).toMatchObject({
      ok: false,
      firstBreak: { seq: null, eventId: forgedId, reason: 'unsealed-event-in-sealed-range' },
    });
    expect(report.rowsChecked).toBeGreaterThanOrEqual(chain.rows);
    expect(report.rowsChecked).toBe(await countRows(chain.database, 'audit_seals', chain.clinic.id));
  });

  it('the key matters: an instance with another AUDIT_HMAC_KEY cannot vouch for the chain', async () => {
    const chain = await sealedClinic();
    const impostor = await buildTestApp({ AUDIT_HMAC_KEY: randomBytes(32).toString('hex') }, chain.database);
    opened.apps.push(impostor);
    const { report } = await verifyAs(impostor, chain.officer);
    expect(report).toMatchObject({ ok: false, rowsChecked: 0, firstBreak: { seq: 1, reason: 'hmac-mismatch' } });
  });
});
