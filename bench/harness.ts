/**
 * What the in-process benchmarks share: a fresh database on the server named by DATABASE_URL
 * (dropped at the end, also on failure), the app built on it, timing of repeated requests, and
 * writing a section of bench/README.md between its markers.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import { type App, buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { createClinicWithAdmin } from '../src/modules/clinics/clinics.service.js';
import { percentile } from './stats.js';

export const log = (message: string) => process.stdout.write(`${message}\n`);
export const secret = () => randomBytes(36).toString('base64url');

const DAY = 86_400_000;
export const dateOf = (at: Date) => at.toISOString().slice(0, 10);
export const addDays = (day: string, days: number) => dateOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY));
/** The Monday of the week holding a date (UTC). */
export const mondayOf = (day: string) => addDays(day, -((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));

/** The app's environment in a benchmark: rate limits off, since one token sends every request. */
export const benchEnv = (databaseUrl: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: databaseUrl,
  JWT_SECRET: secret(),
  AUDIT_HMAC_KEY: secret(),
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '0',
  ...extra,
});

export interface BenchContext {
  app: App;
  database: Database;
  /** URL of the fresh database, for a seeding client of its own. */
  url: string;
  serverVersion: string;
  started: Date;
}

/** Runs `body` against a fresh, migrated database `<prefix>_<timestamp>` and the app built on it. */
export async function withBenchDatabase<T>(prefix: string, body: (bench: BenchContext) => Promise<T>): Promise<T> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required: a postgres:// URL of a server where the user may CREATE DATABASE');
  const started = new Date();
  const cleanups: Array<() => Promise<unknown>> = [];
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: `${prefix}-bench` });
  await admin.connect();
  cleanups.push(() => admin.end());
  try {
    const serverVersion = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? 'unknown';
    const dbName = `${prefix}_${started.toISOString().replace(/\D/g, '').slice(0, 14)}_${randomBytes(3).toString('hex')}`;
    await admin.query(`CREATE DATABASE "${dbName}"`);
    cleanups.push(async () => {
      if (process.env.BENCH_KEEP_DATABASE === '1') return log(`Kept database ${dbName} (BENCH_KEEP_DATABASE=1).`);
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      log(`Dropped database ${dbName}.`);
    });
    const url = new URL(databaseUrl);
    url.pathname = `/${dbName}`;
    log(`Created database ${dbName} on ${url.host}.`);
    const database = await openDatabase({ url: url.toString() });
    cleanups.push(() => database.close());
    await migrate(database);
    const config = loadConfig(benchEnv(url.toString()));
    const app = await buildApp(config, { database, logger: false });
    cleanups.push(() => app.close());
    await app.ready();
    return await body({ app, database, url: url.toString(), serverVersion, started });
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`Cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

export interface Timing {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Calls `once` `warmUp` times, then `timed` times one after another; milliseconds per call. */
export async function timeCalls(once: (i: number) => Promise<unknown>, warmUp: number, timed: number): Promise<Timing> {
  for (let i = 0; i < warmUp; i++) await once(i);
  const timings: number[] = [];
  for (let i = 0; i < timed; i++) {
    const start = process.hrtime.bigint();
    await once(warmUp + i);
    timings.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarize(timings);
}

/** p50, p95, p99 and the maximum of a set of timings. */
export function summarize(values: number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), max: sorted.at(-1) as number };
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;

export function machineLine(serverVersion: string): string[] {
  const cpus = os.cpus();
  return [
    `- Machine: ${cpus[0]?.model.trim() ?? 'unknown'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}, Node.js ${process.version}`,
    `- Server: PostgreSQL ${serverVersion}, on the same host`,
  ];
}

export const stamp = (at: Date) => at.toISOString().replace(/\.\d+Z$/, 'Z');

/** Replaces the README's section between `<!-- name:start -->` and `<!-- name:end -->`, or appends it under a heading. */
export async function writeSection(name: string, heading: string, body: string): Promise<void> {
  const readme = new URL('./README.md', import.meta.url);
  const [start, end] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const current = await readFile(readme, 'utf8');
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const block = `${start}\n${body}\n${end}`;
  const next =
    from !== -1 && to > from
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n## ${heading}\n\n${block}\n`;
  await writeFile(readme, next);
  log('Results written to bench/README.md.');
}

/** Runs a benchmark's main, printing the failure and setting a failing exit code. */
export function runMain(main: () => Promise<void>) {
  main().catch((error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}

/** A clinic with its administrator for a benchmark, and a separate connection for seeding with plain SQL. */
export async function benchClinic(bench: BenchContext, slug: string, name: string) {
  const seeder = new pg.Client({ connectionString: bench.url, application_name: `${slug}-seed` });
  await seeder.connect();
  const { clinic, admin } = await createClinicWithAdmin(bench.database.db, {
    slug,
    name,
    adminEmail: `admin@${slug}.example`,
    adminName: 'Benchmark Administrator',
    adminPassword: secret(),
  });
  return { seeder, clinic, admin };
}

/**
 * Fills every diary card of the clients `clientFilter` selects (SQL on `clients c`) with a synthetic
 * day per date before `until`: one target (id md5 of the client id), random urges, an action on
 * `actionRate` of the days, three emotions and skills. Set-up for the benchmarks, in one statement.
 */
export function insertSyntheticDiaryDays(sql: pg.Client, clinicId: string, clientFilter: string, until: string, actionRate: number) {
  return sql.query(
    `insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
     select $1, dc.id, dc.week_start + d,
            jsonb_build_object(
              'targets', jsonb_build_array(jsonb_build_object('targetId', md5(c.id::text)::uuid, 'targetVersion', 1,
                'urge', floor(random() * 6)::int, 'action', random() < $3)),
              'emotions', jsonb_build_object('sadness', floor(random() * 6)::int, 'anger', floor(random() * 6)::int, 'shame', floor(random() * 6)::int),
              'substances', '{"alcoholDrinks": null, "drugs": [], "prn": [], "prescribedTaken": true}'::jsonb,
              'skillsOverall', floor(random() * 8)::int, 'skillIds', '[]'::jsonb, 'urgeToQuit', floor(random() * 6)::int, 'notes', null),
            dc.week_start + d + time '21:00', dc.week_start + d + time '21:00', false
       from clients c
       join diary_cards dc on dc.clinic_id = c.clinic_id and dc.client_id = c.id
       cross join generate_series(0, 6) d
      where ${clientFilter} and dc.week_start + d < $2::date`,
    [clinicId, until, actionRate],
  );
}
