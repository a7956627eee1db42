import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { type TestTarget, withDatabase } from './target.js';

/**
 * Chooses the test database, in this order: DATABASE_URL / TEST_DATABASE_URL → a testcontainers
 * PostgreSQL when a Docker engine answers → embedded PGlite. Migrates a template once; each test
 * file then gets its own copy (CREATE DATABASE … TEMPLATE on Postgres, loadDataDir on PGlite).
 */
export default async function setup(project: TestProject) {
  const cleanups: Array<() => Promise<void>> = [];
  const target = await chooseTarget(cleanups);
  process.stdout.write(`\n[tests] database: ${target.description}\n\n`);
  project.provide('testTarget', target);
  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
}

async function chooseTarget(cleanups: Array<() => Promise<void>>): Promise<TestTarget> {
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (url) return postgresTarget(url, 'PostgreSQL from DATABASE_URL', cleanups);
  if (await dockerAnswers()) {
    const container = await startContainer();
    if (container) {
      cleanups.push(async () => void (await container.stop()));
      return postgresTarget(container.getConnectionUri(), 'PostgreSQL in a testcontainers container', cleanups);
    }
  }
  return pgliteTarget(cleanups);
}

async function postgresTarget(url: string, source: string, cleanups: Array<() => Promise<void>>): Promise<TestTarget> {
  const run = randomBytes(4).toString('hex');
  const template = `dialectic_tpl_${run}`;
  const prefix = `dialectic_t_${run}_`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  const database = await openDatabase({ url: withDatabase(url, template), poolMax: 2 });
  await migrate(database);
  await database.close();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2', [
      template,
      `${prefix}%`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await client.end();
  });
  const server = new URL(url);
  return { kind: 'postgres', description: `${source} (${server.hostname}:${server.port || 5432})`, adminUrl: url, template, prefix };
}

async function pgliteTarget(cleanups: Array<() => Promise<void>>): Promise<TestTarget> {
  const client = await PGlite.create();
  const database = await openDatabase({ pglite: client });
  await migrate(database);
  const dump = await client.dumpDataDir('none');
  await client.close();
  const dumpFile = join(tmpdir(), `dialectic-template-${randomBytes(4).toString('hex')}.tar`);
  await writeFile(dumpFile, Buffer.from(await dump.arrayBuffer()));
  cleanups.push(async () => (await import('node:fs/promises')).rm(dumpFile, { force: true }));
  return { kind: 'pglite', description: 'embedded PGlite (no DATABASE_URL, no Docker engine)', dumpFile };
}

/** testcontainers can hang on a socket that accepts but never answers: ask the engine first, briefly. */
function dockerAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  const socketPath = !host ? '/var/run/docker.sock' : host.startsWith('unix://') ? host.slice(7) : undefined;
  const tcp = host?.startsWith('tcp://') ? new URL(host.replace('tcp://', 'http://')) : undefined;
  if (!socketPath && !tcp) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath, host: tcp?.hostname, port: tcp?.port, path: '/_ping', timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function startContainer() {
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const start = new PostgreSqlContainer('postgres:17-alpine').start();
    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('container start timed out')), 60_000).unref());
    return await Promise.race([start, deadline]);
  } catch (error) {
    process.stdout.write(`[tests] Docker answered but no container started (${String(error)}); using PGlite\n`);
    return null;
  }
}
