// Throughput of an audited read, against the two pgbench baselines that bound it:
//   (a) the read alone, (b) the read plus its audit insert committed per transaction,
//   (c) the API's GET /v1/me, whose audit records are group-committed (src/audit/writer.ts).
// Usage: DATABASE_URL=postgres://user@host:5432/postgres npm run bench
// See bench/README.md for what is measured and every setting.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result as AutocannonResult } from 'autocannon';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { createClinicWithAdmin } from '../src/modules/clinics/clinics.service.js';
import { type ApiProcess, freePort, login, processCpuSeconds, startApi } from './api.js';
import { type PgbenchResult, pgbenchVersion, runPgbench, scripts } from './pgbench.js';
import { type Goal, markdown, met, type Report, writeResults } from './report.js';
import { busyShare, hostCpu } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readmePath = fileURLToPath(new URL('README.md', import.meta.url));

function integerEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) fail(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const log = (message: string) => process.stdout.write(`${message}\n`);
const secret = () => randomBytes(36).toString('base64url'); // 48 characters

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  fail(
    'DATABASE_URL is required: a postgres:// URL of a server where the user may CREATE DATABASE, e.g.\n' +
      '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench',
  );
}

const settings = {
  seconds: integerEnv('BENCH_SECONDS', 15),
  warmupSeconds: integerEnv('BENCH_WARMUP_SECONDS', 3, 0),
  connections: integerEnv('BENCH_CONNECTIONS', 64),
  pgbenchThreads: integerEnv('BENCH_PGBENCH_THREADS', 2),
  pgbench: process.env.PGBENCH || 'pgbench',
};

/** The API's environment: the server's own variable names, each overridable from ours. */
const apiEnv = {
  DB_POOL_MAX: process.env.DB_POOL_MAX || '32',
  LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
  JWT_TTL_SECONDS: process.env.JWT_TTL_SECONDS || '3600',
  JWT_SECRET: process.env.JWT_SECRET || secret(),
  AUDIT_HMAC_KEY: process.env.AUDIT_HMAC_KEY || secret(),
  AUDIT_SEAL_INTERVAL_MS: process.env.AUDIT_SEAL_INTERVAL_MS || '250',
  WORKERS: process.env.WORKERS || '1',
  NODE_ENV: process.env.NODE_ENV || 'production',
  // One token sends every request of phase (c): the per-token limit would measure itself.
  RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE || '0',
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: process.env.RATE_LIMIT_PER_ADDRESS_PER_MINUTE || '0',
};

// Cleanup runs in reverse order of registration, on success, on failure and on Ctrl-C.
const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | null = null;
let interrupted = false;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`bench: cleanup step failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function count(client: pg.Client, query: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(query);
  return Number(rows[0]?.n ?? 0);
}

const countAudit = (client: pg.Client) => count(client, 'select count(*) as n from audit_events');
const countUnsealed = (client: pg.Client) =>
  count(
    client,
    `select count(*) as n from audit_events e
      where not exists (select 1 from audit_seals s where s.clinic_id = e.clinic_id and s.event_id = e.id)`,
  );

/** The audit row count once requests still in flight have been written: two equal reads in a row. */
async function settledAuditCount(client: pg.Client): Promise<number> {
  let last = await countAudit(client);
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    const now = await countAudit(client);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Waits until the API's sealer has chained every audit row; returns the seconds it took. */
async function waitForSealing(client: pg.Client, timeoutSeconds: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const unsealed = await countUnsealed(client);
    if (unsealed === 0) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutSeconds * 1000) {
      throw new Error(`${unsealed} audit rows were still unsealed after ${timeoutSeconds} s`);
    }
    await sleep(250);
  }
}

/** A checkpoint before each phase, so none of them pays for the previous one's dirty pages. */
let checkpointAllowed = true;
async function checkpoint(client: pg.Client) {
  if (!checkpointAllowed) return;
  try {
    await client.query('CHECKPOINT');
  } catch {
    checkpointAllowed = false;
    log('  (CHECKPOINT not permitted for this user; phases run without one)');
  }
}

/**
 * CPU seconds used so far by each server backend connected to the bench database, when the server
 * runs on this host (read from /proc); empty otherwise.
 */
async function backendCpu(client: pg.Client, dbName: string): Promise<Map<number, number>> {
  const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
    dbName,
  ]);
  const usage = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = await processCpuSeconds(pid);
    if (seconds !== null) usage.set(pid, seconds);
  }
  return usage;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number | null {
  if (after.size === 0) return null;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Share of the host's CPU that is busy over a short sample, to warn about a machine that is not idle. */
async function idleCheck(): Promise<number> {
  const before = hostCpu(os.cpus());
  await sleep(2000);
  return busyShare(before, hostCpu(os.cpus()));
}

async function hammer(api: ApiProcess, token: string, seconds: number): Promise<AutocannonResult> {
  const instance = autocannon({
    url: `${api.baseUrl}/v1/me`,
    connections: settings.connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  try {
    return await Promise.race([Promise.resolve(instance), api.failOnExit()]);
  } catch (error) {
    instance.stop();
    throw error;
  }
}

async function main() {
  const started = new Date();
  const busyBefore = await idleCheck();
  if (busyBefore > 0.1) {
    log(`Warning: the host was ${Math.round(busyBefore * 100)}% busy before the run; other load skews the results.`);
  }
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'dialectic-bench' });
  await admin.connect();
  cleanups.push(() => admin.end());

  const pgbenchVersionText = await pgbenchVersion(settings.pgbench);
  const serverVersion = (await admin.query<{ version: string }>('select version()')).rows[0]?.version ?? 'unknown';
  const { rows: serverSettings } = await admin.query<{ name: string; setting: string }>(
    `select name, current_setting(name) as setting from pg_settings
      where name in ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay', 'shared_buffers', 'max_connections', 'full_page_writes')
      order by name`,
  );

  const stamp = started.toISOString().replace(/\D/g, '').slice(0, 14);
  const dbName = `dialectic_bench_${stamp}_${randomBytes(3).toString('hex')}`;
  await admin.query(`CREATE DATABASE "${dbName}"`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    log(`Dropped database ${dbName}.`);
  });
  const benchUrl = new URL(databaseUrl as string);
  benchUrl.pathname = `/${dbName}`;
  log(`Created database ${dbName} on ${benchUrl.host}.`);

  const workDir = await mkdtemp(join(os.tmpdir(), 'dialectic-bench-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));

  // Schema and one clinic with its administrator, through the app's own code.
  const clinicSlug = 'bench';
  const adminEmail = 'admin@bench.example';
  const adminPassword = secret();
  const database = await openDatabase({ url: benchUrl.toString() });
  let clinicId: string;
  let staffId: string;
  try {
    await migrate(database);
    const created = await createClinicWithAdmin(database.db, {
      slug: clinicSlug,
      name: 'Benchmark DBT Clinic',
      adminEmail,
      adminName: 'Benchmark Administrator',
      adminPassword,
    });
    clinicId = created.clinic.id;
    staffId = created.admin.id;
  } finally {
    await database.close();
  }

  const client = new pg.Client({ connectionString: benchUrl.toString(), application_name: 'dialectic-bench' });
  await client.connect();
  cleanups.push(() => client.end());
  await client.query('ANALYZE');

  const serviceVersion = process.env.SERVICE_VERSION || process.env.npm_package_version || '0.0.0';
  const pgbenchPhase = async (name: string, script: string): Promise<{ result: PgbenchResult; busy: number }> => {
    await checkpoint(client);
    const cpuBefore = hostCpu(os.cpus());
    const result = await runPgbench({
      binary: settings.pgbench,
      url: benchUrl.toString(),
      script,
      defines: { cid: clinicId, sid: staffId, version: serviceVersion },
      clients: settings.connections,
      threads: settings.pgbenchThreads,
      seconds: settings.seconds,
      workDir,
      name,
    });
    const busy = busyShare(cpuBefore, hostCpu(os.cpus()));
    if (result.failed > 0) throw new Error(`pgbench (${name}) had ${result.failed} failed transactions:\n${result.output}`);
    log(`  ${result.tps.toFixed(0)} tps, latency avg ${result.latencyAvgMs.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
    return { result, busy };
  };

  log(`\n(a) pgbench: select only, ${settings.connections} clients, ${settings.seconds} s`);
  const a = await pgbenchPhase('select-only', scripts.selectOnly);

  log(`\n(b) pgbench: select + audit insert + commit per transaction, ${settings.connections} clients, ${settings.seconds} s`);
  const auditBeforeB = await countAudit(client);
  const b = await pgbenchPhase('select-audit', scripts.selectAudit);
  const auditRowsB = (await countAudit(client)) - auditBeforeB;
  if (auditRowsB !== b.result.transactions) {
    throw new Error(`(b) committed ${b.result.transactions} transactions but wrote ${auditRowsB} audit rows`);
  }

  log(`\n(c) API: GET /v1/me with its audit record, ${settings.connections} connections, ${settings.seconds} s`);
  const port = integerEnv('BENCH_API_PORT', 0, 0) || (await freePort());
  const api = await startApi({
    root,
    port,
    readyTimeoutMs: 60_000,
    env: { ...process.env, ...apiEnv, DATABASE_URL: benchUrl.toString(), HOST: '127.0.0.1', PORT: String(port) },
  });
  cleanups.push(() => api.stop());
  const token = await login(api.baseUrl, { clinic: clinicSlug, email: adminEmail, password: adminPassword });

  // The sealer chains every audit row, (b)'s too; let it finish those before (c) is measured.
  const backlogSeconds = await waitForSealing(client, 300);
  log(`  sealer caught up with ${auditRowsB} rows from (b) in ${backlogSeconds.toFixed(1)} s`);
  if (settings.warmupSeconds > 0) {
    log(`  warm-up ${settings.warmupSeconds} s`);
    const warm = await hammer(api, token, settings.warmupSeconds);
    if (warm.non2xx > 0 || warm.errors > 0) throw new Error(`warm-up: ${warm.non2xx} non-2xx responses, ${warm.errors} errors`);
  }
  await waitForSealing(client, 60);
  await checkpoint(client);

  const auditBeforeC = await settledAuditCount(client);
  const { rows: horizon } = await client.query<{ xmax: string }>('select pg_snapshot_xmax(pg_current_snapshot())::text as xmax');
  const cpuBefore = hostCpu(os.cpus());
  const apiCpuBefore = await processCpuSeconds(api.pid);
  const backendsBefore = await backendCpu(client, dbName);
  const selfCpuBefore = process.cpuUsage();
  const c = await hammer(api, token, settings.seconds);
  const selfCpu = process.cpuUsage(selfCpuBefore);
  const apiCpuAfter = await processCpuSeconds(api.pid);
  const backendSeconds = cpuDelta(backendsBefore, await backendCpu(client, dbName));
  const busyC = busyShare(cpuBefore, hostCpu(os.cpus()));
  const auditRowsC = (await settledAuditCount(client)) - auditBeforeC;
  const sealSeconds = await waitForSealing(client, 300);
  // Every audit insert of (c) is one group commit; rows per inserting transaction is the batch size.
  const { rows: batching } = await client.query<{ rows: string; commits: string }>(
    'select count(*) as rows, count(distinct txid) as commits from audit_events where txid >= $1::xid8',
    [horizon[0]?.xmax],
  );
  const batchRows = Number(batching[0]?.rows ?? 0);
  const batchCommits = Number(batching[0]?.commits ?? 0);
  await api.stop();

  const responses = c['2xx'];
  const throughputC = responses / c.duration;
  log(`  ${throughputC.toFixed(0)} req/s, latency avg ${c.latency.average.toFixed(2)} ms, p99 ${c.latency.p99} ms`);
  log(`  ${responses} 2xx responses, ${c.non2xx} non-2xx, ${c.errors} errors, ${c.timeouts} timeouts; ${auditRowsC} audit rows written`);
  if (c.non2xx > 0 || c.errors > 0 || c.timeouts > 0 || responses === 0) {
    throw new Error(
      `(c) must answer every request with 2xx: got ${c.non2xx} non-2xx (${JSON.stringify(c.statusCodeStats)}), ${c.errors} errors, ${c.timeouts} timeouts`,
    );
  }
  if (auditRowsC < responses) {
    throw new Error(`(c) answered ${responses} requests but only ${auditRowsC} audit rows were written`);
  }

  const apiCores = apiCpuBefore !== null && apiCpuAfter !== null ? (apiCpuAfter - apiCpuBefore) / c.duration : null;
  const selfCores = (selfCpu.user + selfCpu.system) / 1e6 / c.duration;
  const backendCores = backendSeconds !== null ? backendSeconds / c.duration : null;
  const perRequest = (cores: number) => `${Math.round((cores * 1e6) / throughputC)} µs per request`;
  const goals: Goal[] = [
    { label: '(c) / (b)', value: throughputC / b.result.tps, target: 3, format: (v) => `${v.toFixed(2)}×` },
    { label: '(c) / (a)', value: throughputC / a.result.tps, target: 0.4, format: (v) => `${Math.round(v * 100)}%` },
  ];
  const percent = (share: number) => `${Math.round(share * 100)}%`;
  const cpus = os.cpus();
  const setCommand = [
    'BENCH_SECONDS',
    'BENCH_WARMUP_SECONDS',
    'BENCH_CONNECTIONS',
    'BENCH_PGBENCH_THREADS',
    'DB_POOL_MAX',
    'LOG_LEVEL',
    'JWT_TTL_SECONDS',
    'AUDIT_SEAL_INTERVAL_MS',
    'WORKERS',
    'NODE_ENV',
  ]
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`);
  const serverUrl = new URL(databaseUrl as string);
  const report: Report = {
    date: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    command: [`DATABASE_URL=postgres://${serverUrl.host}/${serverUrl.pathname.slice(1)}`, ...setCommand, 'npm run bench'].join(' '),
    phases: [
      {
        label: '(a) pgbench: staff select only',
        throughput: a.result.tps,
        unit: 'tps',
        avgMs: a.result.latencyAvgMs,
        p50Ms: a.result.p50Ms,
        p99Ms: a.result.p99Ms,
      },
      {
        label: '(b) pgbench: select + audit insert + commit',
        throughput: b.result.tps,
        unit: 'tps',
        avgMs: b.result.latencyAvgMs,
        p50Ms: b.result.p50Ms,
        p99Ms: b.result.p99Ms,
      },
      {
        label: '(c) API: GET /v1/me + audit record',
        throughput: throughputC,
        unit: 'req/s',
        avgMs: c.latency.average,
        p50Ms: c.latency.p50,
        p99Ms: c.latency.p99,
      },
    ],
    goals,
    notes: [
      `(c) wrote ${auditRowsC.toLocaleString('en-US')} audit rows for ${responses.toLocaleString('en-US')} 2xx responses ` +
        `(${c.requests.sent.toLocaleString('en-US')} requests sent; a request still in flight when the run stops is audited but not counted as a response). ` +
        `They were committed in ${batchCommits.toLocaleString('en-US')} transactions ` +
        `(${(batchRows / Math.max(batchCommits, 1)).toFixed(1)} records per commit on average, ${Math.round(batchCommits / c.duration).toLocaleString('en-US')} commits/s), ` +
        `and all were sealed into the HMAC chain ${sealSeconds.toFixed(1)} s after the run ended.`,
      `(c) autocannon per-second samples: mean ${Math.round(c.requests.mean).toLocaleString('en-US')} req/s, min ${c.requests.min.toLocaleString('en-US')}, max ${c.requests.max.toLocaleString('en-US')}; ` +
        `${c.non2xx} non-2xx, ${c.errors} errors, ${c.timeouts} timeouts.`,
      `Host CPU busy: ${percent(busyBefore)} before the run, (a) ${percent(a.busy)}, (b) ${percent(b.busy)}, (c) ${percent(busyC)} of ${os.cpus().length} cores.`,
      'CPU during (c): ' +
        [
          apiCores !== null ? `API process ${apiCores.toFixed(2)} cores (${perRequest(apiCores)})` : null,
          backendCores !== null ? `its PostgreSQL backends ${backendCores.toFixed(2)} cores (${perRequest(backendCores)})` : null,
          `load generator ${selfCores.toFixed(2)} cores`,
          apiCores !== null && backendCores !== null
            ? `everything else on the host (server background processes, kernel, other programs) ${Math.max(0, busyC * os.cpus().length - apiCores - backendCores - selfCores).toFixed(2)} cores`
            : null,
        ]
          .filter(Boolean)
          .join(', ') +
        '.',
      `(b) wrote ${auditRowsB.toLocaleString('en-US')} audit rows, one per committed transaction.`,
    ],
    machine: [
      `CPU: ${cpus[0]?.model.trim() ?? 'unknown'} × ${cpus.length}`,
      `Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      `OS: ${os.type()} ${os.release()} (${os.arch()}), Node.js ${process.version}`,
      `Server: ${serverVersion}`,
      `Server settings: ${serverSettings.map((s) => `${s.name}=${s.setting}`).join(', ')}`,
      `Client: ${pgbenchVersionText}, autocannon 9 in the bench process; API, load generators and server on the same host`,
    ],
    config: [
      `${settings.connections} connections in every phase, ${settings.seconds} s per phase; (c) after a ${settings.warmupSeconds} s warm-up`,
      `pgbench: --protocol=prepared --client=${settings.connections} --jobs=${settings.pgbenchThreads} --time=${settings.seconds}, custom script, per-transaction log (-l) for percentiles`,
      `API: node --import tsx src/server.ts with DB_POOL_MAX=${apiEnv.DB_POOL_MAX}, LOG_LEVEL=${apiEnv.LOG_LEVEL}, NODE_ENV=${apiEnv.NODE_ENV}, ` +
        `AUDIT_SEAL_INTERVAL_MS=${apiEnv.AUDIT_SEAL_INTERVAL_MS}, WORKERS=${apiEnv.WORKERS}, JWT_TTL_SECONDS=${apiEnv.JWT_TTL_SECONDS}`,
      `A fresh database with one clinic and one admin; CHECKPOINT before each phase${checkpointAllowed ? '' : ' (not permitted, skipped)'}`,
    ],
  };

  const section = markdown(report);
  log(`\n${section}\n`);
  for (const goal of goals)
    log(`${met(goal) ? 'MET' : 'NOT MET'}: ${goal.label} = ${goal.format(goal.value)} (goal ≥ ${goal.format(goal.target)})`);
  await writeResults(readmePath, section);
  log('\nResults written to bench/README.md.');
}

try {
  log(`Dialectic benchmark against ${redact(databaseUrl as string)}`);
  await main();
  await cleanup();
} catch (error) {
  // After Ctrl-C the phase that was running fails as a matter of course; the cleanup is what counts.
  if (!interrupted) process.stderr.write(`\nbench: failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await cleanup();
  process.exit(1);
}
