import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { withDatabase } from './target.js';

export const target = inject('testTarget');

let fileDatabase: Promise<Database> | null = null;
const apps: App[] = [];

/** This test file's own database: a fresh clone of the migrated template. */
export function testDatabase(): Promise<Database> {
  fileDatabase ??= createFileDatabase();
  return fileDatabase;
}

/** A database for this file only, left for the run's teardown (Postgres) or dropped with the process. */
export async function createFileDatabase(): Promise<Database> {
  if (target.kind === 'postgres') {
    const name = `${target.prefix}${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: target.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${target.template}`);
    await admin.end();
    return openDatabase({ url: withDatabase(target.adminUrl, name), poolMax: 10 });
  }
  const dump = await readFile(target.dumpFile);
  const client = await PGlite.create({ loadDataDir: new Blob([dump]) });
  return openDatabase({ pglite: client, description: 'embedded PGlite (test copy)' });
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: randomBytes(32).toString('hex'),
    AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    DATABASE_URL: target.kind === 'postgres' ? target.adminUrl : '',
    AUDIT_SEAL_INTERVAL_MS: '60000',
    // Suites send tens of thousands of requests with one token; the limits have their own tests.
    RATE_LIMIT_PER_MINUTE: '10000000',
    RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '10000000',
    // Expiry tests expect a token to stop working the moment it expires; the skew has its own test.
    JWT_CLOCK_SKEW_SECONDS: '0',
    ...overrides,
  });
}

/** The production app on this file's database; only the database and the logger differ. */
export async function buildTestApp(overrides: Record<string, string> = {}, database?: Database): Promise<App> {
  const app = await buildApp(testConfig(overrides), { database: database ?? (await testDatabase()), logger: false });
  await app.ready();
  apps.push(app);
  return app;
}

/** Raw SQL against this file's database, for set-up and for checks the API cannot make. */
export async function query<T = Record<string, unknown>>(statement: SQL | string): Promise<T[]> {
  const { db } = await testDatabase();
  const result = await db.execute(typeof statement === 'string' ? sql.raw(statement) : statement);
  return result.rows as T[];
}

export const newRequestId = () => `test-${randomUUID()}`;

afterAll(async () => {
  for (const app of apps.splice(0)) await app.close();
  if (fileDatabase) await (await fileDatabase).close();
  fileDatabase = null;
});
