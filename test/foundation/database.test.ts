import { mkdtempSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { seedDemoClinic } from '../../src/modules/clinics/clinics.demo.js';
import { buildTestApp, target, testConfig } from '../helpers/app.js';
import { withDatabase } from '../helpers/target.js';

const tables = [
  'audit_events',
  'skills_groups',
  'group_sessions',
  'group_enrollments',
  'group_attendance',
  'four_miss_overrides',
  'audit_seals',
  'chain_analyses',
  'break_glass_grants',
  'break_glass_reviews',
  'clients',
  'clinical_events',
  'clinics',
  'coaching_limits',
  'coaching_contacts',
  'commitments',
  'diary_card_versions',
  'diary_cards',
  'diary_days',
  'goal_revisions',
  'goals',
  'idempotency_keys',
  'individual_sessions',
  'login_throttle',
  'program_policies',
  'programs',
  'psychotherapy_notes',
  'session_agendas',
  'skills',
  'staff',
  'stage_assignments',
  'targets',
  'team_agenda_items',
  'team_agenda_proposals',
  'team_meetings',
  'team_members',
  'teams',
  'treatment_episodes',
].sort();

async function tableNames(database: Awaited<ReturnType<typeof openDatabase>>) {
  const { rows } = await database.db.execute<{ table_name: string }>(
    // Partitions (the monthly audit_events tables) are storage of their parent, not tables of their own.
    sql`SELECT c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
  );
  return rows.map((row) => row.table_name).sort();
}

describe('migrations', () => {
  it('apply to a fresh PGlite, twice without harm', async () => {
    const database = await openDatabase({ pglite: await PGlite.create() });
    await migrate(database);
    await migrate(database);
    expect(await tableNames(database)).toEqual(tables);
    await database.close();
  });

  it(`apply to an empty database on the test server (${target.kind})`, async () => {
    if (target.kind === 'pglite') {
      // No server in this run: the embedded template was built by the same migrator.
      const database = await openDatabase({ pglite: await PGlite.create() });
      await migrate(database);
      expect(await tableNames(database)).toEqual(tables);
      return database.close();
    }
    const name = `${target.prefix}empty`;
    const admin = new pg.Client({ connectionString: target.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const database = await openDatabase({ url: withDatabase(target.adminUrl, name), poolMax: 2 });
    await migrate(database);
    await migrate(database);
    expect(await tableNames(database)).toEqual(tables);
    const { rows } = await database.db.execute<{ server_version_num: string }>(sql`SHOW server_version_num`);
    expect(Number(rows[0]?.server_version_num)).toBeGreaterThanOrEqual(150000);
    await database.close();
  });
});

describe('embedded database', () => {
  it('keeps data in DATA_DIR across two app instances', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialectic-data-'));
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
    const first = await openDatabase({ dataDir: dir });
    await migrate(first);
    const demo = await seedDemoClinic(first.db);
    expect(demo).not.toBeNull();
    const login = { clinic: demo?.clinicSlug, email: demo?.email, password: demo?.password };
    const app1 = await buildApp(config, { database: first, logger: false });
    expect((await app1.inject({ method: 'POST', url: '/v1/auth/login', payload: login })).statusCode).toBe(200);
    await app1.close();
    await first.close();

    const second = await openDatabase({ dataDir: dir });
    await migrate(second);
    expect(await seedDemoClinic(second.db)).toBeNull();
    const app2 = await buildApp(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), { database: second, logger: false });
    const again = await app2.inject({ method: 'POST', url: '/v1/auth/login', payload: login });
    expect(again.statusCode).toBe(200);
    const me = await app2.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${again.json().accessToken}` } });
    expect(me.json().clinicName).toBe('Demo DBT Clinic');
    await app2.close();
    await second.close();
  });
});

/** A TCP relay we can cut and restore, standing for the network path to the database. */
function relay(targetPort: number, targetHost: string) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = (port = 0) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(targetPort, targetHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      const listening = server;
      listening.listen(port, '127.0.0.1', () => resolve((listening.address() as { port: number }).port));
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server?.close(() => resolve());
    });
  return { listen, cut };
}

describe('/readyz', () => {
  it('answers 503 while the database is unreachable and 200 again once it returns', async () => {
    if (target.kind === 'pglite') {
      // Embedded run: no server to cut off. Point the pool at a closed port: it must say 503, not hang or crash.
      const database = await openDatabase({ url: 'postgres://nobody@127.0.0.1:1/none', poolMax: 1 });
      const app = await buildTestApp({}, database);
      const down = await app.inject({ method: 'GET', url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.headers['content-type']).toMatch(/problem\+json/);
      const healthy = await buildTestApp();
      expect((await healthy.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      return database.close();
    }
    const server = new URL(target.adminUrl);
    const path = relay(Number(server.port || 5432), server.hostname);
    const port = await path.listen();
    const viaRelay = new URL(target.adminUrl);
    viaRelay.host = `127.0.0.1:${port}`;
    const database = await openDatabase({ url: viaRelay.toString(), poolMax: 2 });
    const app = await buildApp(testConfig(), { database, logger: false });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await path.cut();
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 503, title: 'Service unavailable' });
    await path.listen(port);
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
      status = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    await path.cut();
    await app.close();
    await database.close();
  });
});
