/**
 * What the fault, several-instance and soak scripts share besides the load itself: cleanup that
 * runs on success, failure and Ctrl-C; a scratch database on the server DATABASE_URL names, or a
 * private PostgreSQL cluster the script may stop and start; a clinic in it; the API as its own
 * process; and the machine facts their reports carry.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { createClinicWithAdmin } from '../src/modules/clinics/clinics.service.js';
import { type ApiProcess, freePort, startApi } from './api.js';
import { log, secret } from './harness.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Steps run in reverse order of registration, once, whatever ends the script. */
export class Cleanup {
  private steps: Array<{ label: string; step: () => Promise<unknown> }> = [];
  private running: Promise<void> | null = null;

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        log(`\n${signal}: cleaning up`);
        void this.run().finally(() => process.exit(130));
      });
    }
  }

  defer(label: string, step: () => Promise<unknown>) {
    this.steps.push({ label, step });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { label, step } of this.steps.reverse()) {
        try {
          await step();
        } catch (error) {
          log(`Cleanup (${label}) failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.running;
  }
}

/**
 * Runs a script's main with a cleanup, then exits: 0, or 1 after printing the failure. Exiting
 * also ends load loops a failure left running.
 */
export async function runScript(main: (cleanup: Cleanup) => Promise<void>): Promise<never> {
  const cleanup = new Cleanup();
  let code = 0;
  try {
    await main(cleanup);
  } catch (error) {
    log(`\nFAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    code = 1;
  }
  await cleanup.run();
  process.exit(code);
}

export function requireDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required: a postgres:// URL of a server where the user may CREATE DATABASE');
  return url;
}

export const serverVersionOf = async (client: pg.Client) =>
  (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? 'unknown';

/** A fresh database `<prefix>_<time>_<random>` on the server of `serverUrl`, dropped at cleanup. */
export async function scratchDatabase(cleanup: Cleanup, serverUrl: string, prefix: string) {
  const admin = new pg.Client({ connectionString: serverUrl, application_name: `${prefix}-admin` });
  await admin.connect();
  cleanup.defer('admin connection', () => admin.end());
  const name = `${prefix}_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${randomBytes(3).toString('hex')}`;
  await admin.query(`CREATE DATABASE "${name}"`);
  cleanup.defer(`drop ${name}`, async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    log(`Dropped database ${name}.`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  log(`Created database ${name} on ${url.host}.`);
  return { url: url.toString(), name, serverVersion: await serverVersionOf(admin) };
}

export interface PrivateCluster {
  url: string;
  version: string;
  /** pg_ctl stop -m <mode> -w: returns once the server has exited. */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl start -w: returns once the server accepts connections. */
  start(): Promise<void>;
}

/** The newest server installed under /usr/lib/postgresql (Debian layout), or PG_BINDIR. */
async function serverBinaries(): Promise<{ bin: string; major: string }> {
  if (process.env.PG_BINDIR) return { bin: process.env.PG_BINDIR, major: 'PG_BINDIR' };
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[])).filter((v) => /^\d+$/.test(v));
  const major = versions.sort((a, b) => Number(a) - Number(b)).at(-1);
  if (!major) throw new Error('no PostgreSQL server under /usr/lib/postgresql; set PG_BINDIR to the directory holding initdb and pg_ctl');
  return { bin: `/usr/lib/postgresql/${major}/bin`, major };
}

/**
 * A throwaway cluster in a temporary directory on a free port, so a script can stop and start
 * PostgreSQL without touching the server anyone else uses. initdb refuses to run as root, so as
 * root every server command runs as the postgres user. Removed at cleanup, also on failure.
 */
export async function privateCluster(cleanup: Cleanup): Promise<PrivateCluster> {
  const { bin } = await serverBinaries();
  const dir = await mkdtemp(join(os.tmpdir(), 'dialectic-cluster-'));
  cleanup.defer('remove cluster directory', () => rm(dir, { recursive: true, force: true }));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
    await chown(dir, await id('-u'), await id('-g'));
  }
  const server = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: '/' }) : run(join(bin, tool), args, { cwd: '/' });
  const data = join(dir, 'data');
  const port = await freePort();
  await server('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = async () => {
    await server('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    await server('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  await start();
  cleanup.defer('stop cluster', () => stop('immediate').catch(() => undefined));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const version = await serverVersionOf(client);
  await client.end();
  log(`Started a private PostgreSQL ${version} cluster on port ${port}.`);
  return { url, version, start, stop };
}

export interface ClinicLogin {
  clinicId: string;
  clinic: string;
  email: string;
  password: string;
}

/** Migrates the database and creates a clinic with its administrator through the app's own code. */
export async function seedClinic(url: string, slug: string): Promise<ClinicLogin> {
  const database = await openDatabase({ url });
  try {
    await migrate(database);
    const password = secret();
    const email = `admin@${slug}.example`;
    const { clinic } = await createClinicWithAdmin(database.db, {
      slug,
      name: `Synthetic ${slug} clinic`,
      adminEmail: email,
      adminName: 'Synthetic Administrator',
      adminPassword: password,
    });
    return { clinicId: clinic.id, clinic: slug, email, password };
  } finally {
    await database.close();
  }
}

/** The secrets of one run; every API process of the run shares them, as instances behind one balancer would. */
export const runSecrets = () => ({ JWT_SECRET: secret(), AUDIT_HMAC_KEY: secret() });

export interface ApiOptions {
  url: string;
  secrets: ReturnType<typeof runSecrets>;
  port?: number;
  env?: Record<string, string>;
}

/** `node --import tsx src/server.ts` on the database, ready (GET /readyz 200); stopped at cleanup. */
export async function launchApi(cleanup: Cleanup, options: ApiOptions): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  const api = await startApi({
    root,
    port,
    readyTimeoutMs: 60_000,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      JWT_TTL_SECONDS: '7200',
      AUDIT_SEAL_INTERVAL_MS: '250',
      DB_POOL_MAX: '20',
      WORKERS: '1',
      // The load comes from two signed-in staff members at hundreds of requests a second: a
      // per-token limit would measure the limiter, not the service.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '0',
      ...options.env,
      ...options.secrets,
      DATABASE_URL: options.url,
      HOST: '127.0.0.1',
      PORT: String(port),
    },
  });
  cleanup.defer(`stop API on ${port}`, () => api.stop());
  return api;
}

/** Kills an API process with SIGKILL (kill -9) and waits until it has exited. */
export async function killApi(api: ApiProcess): Promise<void> {
  process.kill(api.pid, 'SIGKILL');
  await api.stop();
}

/** Resident memory of a process in MiB, from /proc/<pid>/status (VmRSS); NaN where /proc is missing. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return kib / 1024;
}

/** nproc, the CPU model from /proc/cpuinfo, memory, kernel, Node.js and the PostgreSQL server. */
export async function machineFacts(serverVersion: string): Promise<string[]> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model.trim() ?? 'unknown';
  const nproc = (await run('nproc').catch(() => ({ stdout: String(os.availableParallelism()) }))).stdout.trim();
  return [
    `- Machine: nproc ${nproc}, CPU "${model}", ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}, Node.js ${process.version}`,
    `- PostgreSQL ${serverVersion} on the same host; load generator, API and database share the machine`,
  ];
}
