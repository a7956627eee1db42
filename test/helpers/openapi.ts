import { PGlite } from '@electric-sql/pglite';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';

/** The OpenAPI document as the code generates it; no database is touched. */
export async function buildOpenApiYaml(): Promise<string> {
  const config = loadConfig({
    JWT_SECRET: 'x'.repeat(32),
    AUDIT_HMAC_KEY: 'y'.repeat(32),
    DATABASE_URL: 'postgres://openapi@localhost/none',
    SERVICE_VERSION: '0.1.0',
  });
  const database = await openDatabase({ pglite: new PGlite() });
  const app = await buildApp(config, { database, logger: false });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  await database.close();
  return yaml;
}
