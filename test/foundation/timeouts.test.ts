import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseOptions, openDatabase } from '../../src/db/client.js';
import { sqlState } from '../../src/db/errors.js';
import { buildTestApp, newRequestId, query, target, testConfig } from '../helpers/app.js';
import { bearer, createClinic, tokenFor } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problems.js';
import { withDatabase } from '../helpers/target.js';

// PGlite has no statement timeout to configure: the embedded database runs one statement at a time in-process.
const itOnPostgres = target.kind === 'postgres' ? it : () => undefined;

/** Milliseconds a promise takes to settle, and what it settled with. */
async function timed<T>(work: Promise<T>) {
  const started = performance.now();
  const result = await work;
  return { result, ms: performance.now() - started };
}

describe('request timeout', () => {
  it('closes a connection whose request stalls for REQUEST_TIMEOUT_MS', async () => {
    const app = await buildTestApp({ REQUEST_TIMEOUT_MS: '1000' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => {});
    // Half a request line, then nothing: a client that holds a connection open.
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const { ms } = await timed(once(socket, 'close'));
    expect(ms).toBeGreaterThan(800);
    expect(ms).toBeLessThan(5000);
  });
});

describe('database timeouts', () => {
  itOnPostgres('cancel a statement that runs longer than DB_STATEMENT_TIMEOUT_MS; the request fails at once, audited', async () => {
    const [row] = await query<{ name: string }>(sql`select current_database() as name`);
    if (target.kind !== 'postgres' || !row) throw new Error('needs PostgreSQL');
    const url = withDatabase(target.adminUrl, row.name);
    const database = await openDatabase(databaseOptions(testConfig({ DATABASE_URL: url, DB_STATEMENT_TIMEOUT_MS: '300' })));
    const app = await buildTestApp({}, database);
    const { admin } = await createClinic();

    const slow = await database.db.execute(sql`select pg_sleep(2)`).catch((error: unknown) => error);
    expect(sqlState(slow)).toBe('57014');
    expect((await database.db.execute(sql`select 1 as one`)).rows).toEqual([{ one: 1 }]);

    // The staff table held by another session: the sign-in query waits until the timeout cancels it.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('begin; lock table staff in access exclusive mode');
    const requestId = newRequestId();
    const request = app.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(tokenFor(app, admin)), 'x-request-id': requestId } });
    const deadline = new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 5000));
    const { result, ms } = await timed(Promise.race([request, deadline]));
    await locker.query('rollback');
    await locker.end();

    expect(result).not.toBe('still waiting');
    const response = result as Awaited<typeof request>;
    expectProblem(response, 503);
    expect(response.headers['retry-after']).toBe('5');
    expect(ms).toBeLessThan(3000);
    const records = await query(sql`select http_status from audit_events where request_id = ${requestId}`);
    expect(records).toEqual([{ http_status: response.statusCode }]);
    await app.close();
    await database.close();
  });

  it('give up on a database host that does not answer after DB_CONNECT_TIMEOUT_MS: 503', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket.on('error', () => {}))).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    const config = testConfig({ DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`, DB_CONNECT_TIMEOUT_MS: '300' });
    const database = await openDatabase(databaseOptions(config));
    const app = await buildTestApp({}, database);
    const { admin } = await createClinic();

    const { result: response, ms } = await timed(app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokenFor(app, admin)) }));
    expectProblem(response, 503);
    // One wait for the sign-in query's connection, one for the audit record's.
    expect(ms).toBeGreaterThan(250);
    expect(ms).toBeLessThan(2500);

    await app.close();
    await database.close();
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
});
