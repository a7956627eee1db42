import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { partitionWarning } from './audit/partitions.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { type Database, databaseOptions, openDatabase, ownerDatabaseOptions } from './db/client.js';
import { migrate } from './db/migrate.js';
import { seedDemoClinic } from './modules/clinics/clinics.demo.js';

const open = (config: Config) => openDatabase(databaseOptions(config));

/**
 * Migrations and audit partitions, as the tables' owner: MIGRATION_DATABASE_URL when the API logs
 * in as a role that owns nothing, else the API's own database.
 */
async function prepare(config: Config, database: Database) {
  if (!config.MIGRATION_DATABASE_URL) return prepareAsOwner(database);
  const owner = await openDatabase(ownerDatabaseOptions(config));
  try {
    await prepareAsOwner(owner);
  } finally {
    await owner.close();
  }
}

/** …and on an empty embedded database the demo clinic, whose password is printed once. */
async function prepareAsOwner(database: Database) {
  const warning = partitionWarning(await migrate(database));
  if (warning) process.stderr.write(`Warning: ${warning}\n`);
  if (database.kind !== 'pglite') return;
  const demo = await seedDemoClinic(database.db);
  if (demo) {
    process.stdout.write(
      `\nDemo clinic created. Sign in with POST /v1/auth/login\n  clinic:   ${demo.clinicSlug}\n  email:    ${demo.email} (administrator), ${demo.therapistEmail} (therapist), ${demo.trainerEmail} (skills trainer) or ${demo.leadEmail} (team lead)\n  password: ${demo.password}\nThis password is shown only once.\n\n`,
    );
  }
}

/** One API process: serve until SIGTERM/SIGINT, then stop accepting, finish in-flight requests, close the pool. */
async function serve(config: Config, migrateFirst: boolean) {
  const database = await open(config);
  const app = await buildApp(config, { database });
  if (migrateFirst) app.log.info({ database: database.kind }, `Dialectic ${config.SERVICE_VERSION} using ${database.description}`);
  if (migrateFirst) await prepare(config, database);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await app.close();
      await database.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.PORT, host: config.HOST });
}

/**
 * WORKERS > 1: this process migrates, then runs that many API processes sharing the port. They
 * hold no state of their own (the audit sealer takes an advisory lock), so any of them may answer
 * any request. A worker that dies is replaced; SIGTERM is passed on and waited for.
 */
async function supervise(config: Config) {
  const database = await open(config);
  process.stdout.write(
    `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, database: database.kind, workers: config.WORKERS, msg: `Dialectic ${config.SERVICE_VERSION} using ${database.description}` })}\n`,
  );
  await prepare(config, database);
  await database.close();

  let closing = false;
  const start = () => cluster.fork();
  for (let i = 0; i < config.WORKERS; i++) start();
  cluster.on('exit', (worker, code) => {
    if (!closing) {
      process.stderr.write(`worker ${worker.process.pid} exited with ${code}; starting another\n`);
      start();
    } else if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const shutdown = () => {
    if (closing) return;
    closing = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

async function main() {
  const config = loadConfig();
  if (config.WORKERS === 1) return serve(config, true);
  if (cluster.isPrimary) return supervise(config);
  return serve(config, false);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
