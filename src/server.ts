import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { migrate } from './db/migrate.js';
import { seedDemoClinic } from './modules/clinics/clinics.service.js';

async function main() {
  const config = loadConfig();
  const database = await openDatabase(
    config.DATABASE_URL ? { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX } : { dataDir: config.DATA_DIR },
  );
  const app = await buildApp(config, { database });
  app.log.info({ database: database.kind }, `Dialectic ${config.SERVICE_VERSION} using ${database.description}`);
  await migrate(database);
  if (database.kind === 'pglite') {
    const demo = await seedDemoClinic(database.db);
    if (demo) {
      // Printed once, on the first start of an empty embedded database; only its hash is stored.
      process.stdout.write(
        `\nDemo clinic created. Sign in with POST /v1/auth/login\n  clinic:   ${demo.clinicSlug}\n  email:    ${demo.email}\n  password: ${demo.password}\nThis password is shown only once.\n\n`,
      );
    }
  }

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

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`Start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
