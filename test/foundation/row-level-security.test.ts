import { randomBytes } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { clients } from '../../src/db/schema/index.js';
import { APP_ROLE, ENDED_READ_HOLD_MS, MAINTENANCE_ROLE } from '../../src/db/scope.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { messagesOf } from '../audit/support.js';
import { query, target, testConfig, testDatabase } from '../helpers/app.js';
import {
  bearer,
  createClientRecord,
  createClinic,
  createProgram,
  createStaffMember,
  TEST_PASSWORD,
  tokenFor,
} from '../helpers/factories.js';
import { withDatabase } from '../helpers/target.js';

/** Tables with a clinic_id column (the tenant tables), partitions left out: they are reached through their parent. */
async function tenantTables() {
  return query<{ table: string; rls: boolean; policies: number }>(sql`
    select c.relname as table, c.relrowsecurity as rls,
           (select count(*)::int from pg_policy p where p.polrelid = c.oid
               and (select oid from pg_roles where rolname = ${APP_ROLE}) = any (p.polroles)) as policies
      from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
       and (exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'clinic_id' and not a.attisdropped)
            or c.relname = 'clinics')
     order by 1`);
}

const ROLLED_BACK = new Error('rolled back');

/** Runs statements in one transaction as the application role, with the clinic setting given (or none); changes nothing. */
async function asAppRole<T>(database: Database, clinicId: string | null, work: (run: (statement: SQL) => Promise<T[]>) => Promise<void>) {
  await database.db
    .transaction(async (tx) => {
      await tx.execute(sql`select set_config('role', ${APP_ROLE}, true)`);
      if (clinicId) await tx.execute(sql`select set_config('app.clinic_id', ${clinicId}, true)`);
      await work(async (statement) => (await tx.execute(statement)).rows as T[]);
      throw ROLLED_BACK;
    })
    .catch((error: unknown) => {
      if (error !== ROLLED_BACK) throw new Error(messagesOf(error));
    });
}

describe('row-level security on tenant tables', () => {
  it('every tenant table has row-level security on and a policy for the application role', async () => {
    const tables = await tenantTables();
    expect(tables.length).toBeGreaterThanOrEqual(30);
    expect(tables.filter((t) => !t.rls || t.policies === 0).map((t) => t.table)).toEqual([]);
  });

  it('the application roles own nothing, cannot bypass the policies, and may not change the audit trail', async () => {
    const roles = await query<{ name: string; bypass: boolean; superuser: boolean; owned: number }>(sql`
      select r.rolname as name, r.rolbypassrls as bypass, r.rolsuper as superuser,
             (select count(*)::int from pg_class c where c.relowner = r.oid) as owned
        from pg_roles r where r.rolname in (${APP_ROLE}, ${MAINTENANCE_ROLE}) order by 1`);
    expect(roles).toEqual([
      { name: APP_ROLE, bypass: false, superuser: false, owned: 0 },
      { name: MAINTENANCE_ROLE, bypass: false, superuser: false, owned: 0 },
    ]);
    const [grants] = await query<{ update: boolean; delete: boolean; truncate: boolean; insert: boolean }>(sql`
      select has_table_privilege(${APP_ROLE}, 'audit_events', 'UPDATE') as update,
             has_table_privilege(${APP_ROLE}, 'audit_events', 'DELETE') as delete,
             has_table_privilege(${APP_ROLE}, 'audit_events', 'TRUNCATE') as truncate,
             has_table_privilege(${APP_ROLE}, 'audit_events', 'INSERT') as insert`);
    expect(grants).toEqual({ update: false, delete: false, truncate: false, insert: true });
  });

  describe('a deliberately unscoped query', () => {
    let clinicA: string;
    let clinicB: string;
    let database: Database;

    beforeAll(async () => {
      database = await testDatabase();
      clinicA = (await createClinic()).clinic.id;
      clinicB = (await createClinic()).clinic.id;
      await createClientRecord(clinicA);
      await createClientRecord(clinicB);
    });

    it('sees no rows at all without a clinic in scope', async () => {
      const [owner] = await query<{ count: number }>(sql`select count(*)::int as count from clients`);
      expect(owner?.count).toBeGreaterThanOrEqual(2);
      await asAppRole<{ count: number }>(database, null, async (run) => {
        expect(await run(sql`select count(*)::int as count from clients`)).toEqual([{ count: 0 }]);
        expect(await run(sql`select count(*)::int as count from staff`)).toEqual([{ count: 0 }]);
        expect(await run(sql`select count(*)::int as count from audit_events`)).toEqual([{ count: 0 }]);
      });
    });

    it("sees only its own clinic's rows with no clinic condition in the query, and cannot write another clinic's", async () => {
      await asAppRole<{ clinic_id: string }>(database, clinicA, async (run) => {
        const rows = await run(sql`select distinct clinic_id from clients`);
        expect(rows).toEqual([{ clinic_id: clinicA }]);
        const staffClinics = await run(sql`select distinct clinic_id from staff`);
        expect(staffClinics).toEqual([{ clinic_id: clinicA }]);
      });
      await expect(
        asAppRole(database, clinicA, async (run) => {
          await run(sql`update clients set family_name = 'Changed' where clinic_id = ${clinicB}`);
          const [after] = await run(sql`select count(*)::int as count from clients where clinic_id = ${clinicB}`);
          expect(after).toEqual({ count: 0 });
          await run(sql`insert into clients (clinic_id, id, given_name, family_name, date_of_birth, program_id, status)
                        select ${clinicB}, ${uuidv7()}, 'Injected', 'Synthetic', '1990-01-01', program_id, status
                          from clients limit 1`);
        }),
      ).rejects.toThrow(/row-level security/);
      const [untouched] = await query<{ count: number }>(
        sql`select count(*)::int as count from clients where clinic_id = ${clinicB} and family_name = 'Changed'`,
      );
      expect(untouched?.count).toBe(0);
    });
  });
});

/**
 * The production shape: the application logs in as a role that owns nothing and is only a member
 * of the two application roles. Everything below runs through HTTP on that connection.
 */
/** Only PostgreSQL has logins; embedded PGlite is one superuser session. */
const describeOnPostgres = target.kind === 'postgres' ? describe : () => undefined;

describeOnPostgres('the API logged in as a role that owns no table', () => {
  const login = `dialectic_probe_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let appDatabase: Database;
  let app: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    await query(sql.raw(`create role ${login} login password '${password}' in role ${APP_ROLE}, ${MAINTENANCE_ROLE}`));
    const [{ name } = { name: '' }] = await query<{ name: string }>(sql`select current_database() as name`);
    if (target.kind !== 'postgres') throw new Error('unreachable');
    const url = new URL(withDatabase(target.adminUrl, name));
    url.username = login;
    url.password = password;
    appDatabase = await openDatabase({ url: url.toString(), poolMax: 5 });
    app = await buildApp(testConfig({ DATABASE_URL: url.toString() }), { database: appDatabase, logger: false });
    // A route that forgets its clinic condition, as a bug would: the policies still hold.
    app.get('/test/unscoped-clients', { config: { access: 'clients.read', audit: 'clients.list' } }, async (request) => {
      const rows = await request.db.select({ clinicId: clients.clinicId }).from(clients);
      return { clinics: [...new Set(rows.map((row) => row.clinicId))], count: rows.length };
    });
    // What the request's connection is: its server process, the clinic in scope, its transaction's start.
    app.get('/test/connection', { config: { access: 'clients.read', audit: 'clients.list' } }, async (request) => {
      const { rows } = await request.db.execute<{ pid: number; clinic: string; role: string; started: string }>(
        sql`select pg_backend_pid() as pid, current_setting('app.clinic_id') as clinic, current_user as role, now()::text as started`,
      );
      return rows[0];
    });
    await app.ready();
    return async () => {
      await app.close();
      await appDatabase.close();
      await query(sql.raw(`drop owned by ${login}; drop role ${login}`));
    };
  });

  it('signs in, registers and reads a client, and the forgetful route sees only the caller’s clinic', async () => {
    const a = await createClinic();
    const b = await createClinic();
    await createClientRecord(b.clinic.id);
    const signIn = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { clinic: a.clinic.slug, email: a.admin.email, password: TEST_PASSWORD },
    });
    expect(signIn.statusCode).toBe(200);
    const token = signIn.json<{ accessToken: string }>().accessToken;
    const programId = (await createProgram(a.clinic.id)).program.id;
    const created = await app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: bearer(token),
      payload: { givenName: 'Probe', familyName: 'Synthetic', dateOfBirth: '1991-02-03', programId },
    });
    expect(created.statusCode).toBe(201);
    const read = await app.inject({ method: 'GET', url: `/v1/clients/${created.json<{ id: string }>().id}`, headers: bearer(token) });
    expect(read.statusCode).toBe(200);

    const unscoped = await app.inject({ method: 'GET', url: '/test/unscoped-clients', headers: bearer(token) });
    expect(unscoped.statusCode).toBe(200);
    expect(unscoped.json()).toEqual({ clinics: [a.clinic.id], count: 1 });
  });

  it('seals and verifies the audit trail, and exports it, on that connection', async () => {
    const { clinic } = await createClinic();
    const officer = await createStaffMember(clinic.id, ['compliance']);
    const token = tokenFor(app, officer);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
    const verify = await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: bearer(token) });
    expect(verify.statusCode).toBe(200);
    expect(verify.json()).toMatchObject({ ok: true });
    expect(verify.json<{ rowsChecked: number }>().rowsChecked).toBeGreaterThanOrEqual(1);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const exported = await app.inject({
      method: 'GET',
      url: `/v1/audit/events/export?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=ndjson`,
      headers: bearer(token),
    });
    expect(exported.statusCode).toBe(200);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { clinicId?: string; manifest?: unknown });
    const events = lines.filter((line) => !line.manifest);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(new Set(events.map((event) => event.clinicId))).toEqual(new Set([clinic.id]));
  });

  describe("a read's ROLLBACK, sent with the connection's next BEGIN", () => {
    type Connection = { pid: number; clinic: string; role: string; started: string };
    const connection = async (token: string) => {
      const response = await app.inject({ method: 'GET', url: '/test/connection', headers: bearer(token) });
      expect(response.statusCode).toBe(200);
      return response.json<Connection>();
    };
    const held = () =>
      query<{ count: number }>(sql`select count(*)::int as count from pg_stat_activity
        where datname = current_database() and usename = ${login} and state like 'idle in transaction%'`);
    const settle = () => new Promise((resolve) => setTimeout(resolve, ENDED_READ_HOLD_MS * 5));

    it('the next request takes the connection in a transaction of its own, in its own clinic', async () => {
      const a = await createClinic();
      const b = await createClinic();
      await settle();
      const first = await connection(tokenFor(app, a.admin));
      const second = await connection(tokenFor(app, b.admin));
      expect(second.pid).toBe(first.pid);
      expect(second.started).not.toBe(first.started);
      expect([first.clinic, second.clinic]).toEqual([a.clinic.id, b.clinic.id]);
      expect(second.role).toBe(APP_ROLE);
    });

    it('nothing else is handed the connection, and it is rolled back and returned when no request takes it', async () => {
      const { clinic, admin } = await createClinic();
      await settle();
      const read = await connection(tokenFor(app, admin));
      expect(await held()).toEqual([{ count: 1 }]);
      expect(appDatabase.poolStats?.()).toMatchObject({ endedReads: 1, idle: (appDatabase.poolStats?.().total ?? 0) - 1 });
      // Work outside requests (the audit writer, sign-in) gets another connection, as the login role.
      const { rows } = await appDatabase.db.execute<{ pid: number; role: string; clinic: string | null }>(
        sql`select pg_backend_pid() as pid, current_user as role, nullif(current_setting('app.clinic_id', true), '') as clinic`,
      );
      expect(rows[0]?.pid).not.toBe(read.pid);
      expect(rows[0]).toMatchObject({ role: login, clinic: null });
      expect(read.clinic).toBe(clinic.id);
      await settle();
      expect(await held()).toEqual([{ count: 0 }]);
      expect(appDatabase.poolStats?.()).toMatchObject({ endedReads: 0, idle: appDatabase.poolStats?.().total });
    });

    it('a kept connection lost meanwhile costs the next request nothing: it opens on a fresh one', async () => {
      const { admin } = await createClinic();
      const token = tokenFor(app, admin);
      await settle();
      const read = await connection(token);
      await query(sql`select pg_terminate_backend(${read.pid})`);
      const next = await connection(token);
      expect(next.pid).not.toBe(read.pid);
    });
  });
});
