import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';

/** The OpenAPI document as the code generates it. The pool is never used, so no database is needed. */
export async function buildOpenApiYaml(): Promise<string> {
  const url = 'postgres://openapi@127.0.0.1:1/unused';
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), AUDIT_HMAC_KEY: 'y'.repeat(32), DATABASE_URL: url, SERVICE_VERSION: '0.1.0' });
  const database = await openDatabase({ url, poolMax: 1 });
  const app = await buildApp(config, { database, logger: false });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  await database.close();
  return yaml;
}
