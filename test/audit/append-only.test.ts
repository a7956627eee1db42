import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildTestApp, target, testDatabase } from '../helpers/app.js';
import { bearer, createClientRecord, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { withDatabase } from '../helpers/target.js';
import { countRows, rejection, run, verifyAs, verifyCovering } from './support.js';

const database = await testDatabase();
const app = await buildTestApp();
const { clinic, admin } = await createClinic();
const officer = await createStaffMember(clinic.id, ['compliance']);

// Some records, then a verification so that audit_seals has rows too.
for (let i = 0; i < 3; i++) {
  const response = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokenFor(app, admin)) });
  if (response.statusCode !== 200) throw new Error(`set-up request failed: ${response.statusCode}`);
}
const sealed = await verifyCovering(app, officer, database);

// A reviewed break-glass grant: reviews are append-only too.
const therapist = await createStaffMember(clinic.id, ['therapist']);
const grant = await app.inject({
  method: 'POST',
  url: '/v1/break-glass',
  headers: bearer(tokenFor(app, therapist)),
  payload: { clientId: (await createClientRecord(clinic.id)).id, reason: 'Synthetic emergency for the append-only check', minutes: 5 },
});
if (grant.statusCode !== 201) throw new Error(`set-up grant failed: ${grant.statusCode}`);
const review = await app.inject({
  method: 'POST',
  url: `/v1/break-glass/${grant.json().id}/review`,
  headers: bearer(tokenFor(app, officer)),
  payload: { outcome: 'unjustified', note: 'Synthetic review' },
});
if (review.statusCode !== 201) throw new Error(`set-up review failed: ${review.statusCode}`);

/**
 * Each statement touches every row. TRUNCATE audit_events needs CASCADE: audit_seals references it,
 * and a plain TRUNCATE stops at the foreign key before any trigger runs (also a refusal, but not ours).
 */
const attacks: Array<[table: string, statement: string]> = [
  ['audit_events', "UPDATE audit_events SET http_status = 200, outcome = 'success'"],
  ['audit_events', 'DELETE FROM audit_events'],
  ['audit_events', 'TRUNCATE audit_events CASCADE'],
  ['audit_seals', "UPDATE audit_seals SET hmac = repeat('0', 64)"],
  ['audit_seals', 'DELETE FROM audit_seals'],
  ['audit_seals', 'TRUNCATE audit_seals'],
  ['break_glass_reviews', "UPDATE break_glass_reviews SET outcome = 'justified', note = 'rewritten'"],
  ['break_glass_reviews', 'DELETE FROM break_glass_reviews'],
  ['break_glass_reviews', 'TRUNCATE break_glass_reviews'],
];

async function snapshot(table: string) {
  return run(database, `SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest, count(*)::int AS n FROM ${table} t`);
}

describe('append-only audit tables', () => {
  it('has rows in both tables to protect', async () => {
    expect(sealed.report.ok).toBe(true);
    expect(sealed.report).toMatchObject({ rowsChecked: sealed.rows, sealedThrough: sealed.rows });
    expect(sealed.rows).toBeGreaterThanOrEqual(3);
    expect(await countRows(database, 'audit_events')).toBeGreaterThan(0);
    expect(await countRows(database, 'audit_seals')).toBeGreaterThan(0);
  });

  it('declares the guard triggers ENABLE ALWAYS, so replica mode does not switch them off', async () => {
    const triggers = await run<{ tgname: string; tgenabled: string }>(
      database,
      `SELECT tgname, tgenabled FROM pg_trigger
        WHERE tgrelid IN ('audit_events'::regclass, 'audit_seals'::regclass, 'break_glass_reviews'::regclass)
          AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers).toEqual([
      { tgname: 'audit_events_no_truncate', tgenabled: 'A' },
      { tgname: 'audit_events_no_update_delete', tgenabled: 'A' },
      { tgname: 'audit_seals_no_truncate', tgenabled: 'A' },
      { tgname: 'audit_seals_no_update_delete', tgenabled: 'A' },
      { tgname: 'break_glass_reviews_no_truncate', tgenabled: 'A' },
      { tgname: 'break_glass_reviews_no_update_delete', tgenabled: 'A' },
    ]);
  });

  it.each(attacks)('%s: rejects %s', async (table, statement) => {
    const before = await snapshot(table);
    expect(await rejection(run(database, statement))).toMatch(/append-only/);
    expect(await snapshot(table)).toEqual(before);
  });

  it.each(attacks)('%s: rejects %s with session_replication_role = replica in the same session', async (table, statement) => {
    const before = await snapshot(table);
    let roleInSession = '';
    const message = await rejection(
      database.db.transaction(async (tx) => {
        await tx.execute(sql.raw('SET LOCAL session_replication_role = replica'));
        const [row] = (await tx.execute<{ role: string }>(sql.raw('SELECT current_setting($$session_replication_role$$) AS role'))).rows;
        roleInSession = row?.role ?? '';
        await tx.execute(sql.raw(statement));
      }),
    );
    expect(roleInSession).toBe('replica');
    expect(message).toMatch(/append-only/);
    expect(await snapshot(table)).toEqual(before);
  });

  it('SET LOCAL ended with its transaction, and the app still verifies an intact chain', async () => {
    const [row] = await run<{ role: string }>(database, "SELECT current_setting('session_replication_role') AS role");
    expect(row?.role).toBe('origin');
    const after = await verifyCovering(app, officer, database);
    expect(after.report).toMatchObject({ ok: true, firstBreak: null, rowsChecked: after.rows, sealedThrough: after.rows });
  });

  it('a plain SET session_replication_role = replica on a whole session does not help either', async () => {
    const attempts = ['DELETE FROM audit_events', 'TRUNCATE audit_seals', "UPDATE audit_seals SET prev_hmac = ''"];
    const messages: string[] = [];
    if (target.kind === 'postgres') {
      // A dedicated connection to this file's database, so the SET stays on the session that attacks.
      const [{ name } = { name: '' }] = await run<{ name: string }>(database, 'SELECT current_database() AS name');
      const client = new pg.Client({ connectionString: withDatabase(target.adminUrl, name) });
      await client.connect();
      try {
        await client.query('SET session_replication_role = replica');
        expect((await client.query('SHOW session_replication_role')).rows[0]).toEqual({ session_replication_role: 'replica' });
        for (const statement of attempts) messages.push(await rejection(client.query(statement)));
      } finally {
        await client.end();
      }
    } else {
      // PGlite has one connection: the SET applies to it directly and must be reset afterwards.
      await run(database, 'SET session_replication_role = replica');
      try {
        for (const statement of attempts) messages.push(await rejection(run(database, statement)));
      } finally {
        await run(database, 'RESET session_replication_role');
      }
    }
    expect(messages).toHaveLength(attempts.length);
    for (const message of messages) expect(message).toMatch(/append-only/);
    const [row] = await run<{ role: string }>(database, "SELECT current_setting('session_replication_role') AS role");
    expect(row?.role).toBe('origin');
    expect((await verifyAs(app, officer)).report.ok).toBe(true);
  });

  it('INSERT stays allowed: appending is the one permitted change', async () => {
    const before = await countRows(database, 'audit_events', clinic.id);
    const response = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokenFor(app, admin)) });
    expect(response.statusCode).toBe(200);
    expect(await countRows(database, 'audit_events', clinic.id)).toBe(before + 1);
    expect(await rejection(run(database, sql`UPDATE audit_events SET denial_reason = 'x' WHERE clinic_id = ${clinic.id}`))).toMatch(
      /append-only: UPDATE on audit_events/,
    );
  });
});
