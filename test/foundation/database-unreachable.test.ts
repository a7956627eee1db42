import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { isDatabaseUnreachable } from '../../src/db/errors.js';
import { toAppError } from '../../src/plugins/errors.js';
import { buildTestApp, createFileDatabase, newRequestId, target, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, tokenFor } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problems.js';
import { withDatabase } from '../helpers/target.js';

const CLOSED_PORT_URL = 'postgres://nobody@127.0.0.1:1/none';
const itOnPostgres = target.kind === 'postgres' ? it : () => undefined;

/** A port that accepts TCP connections and never answers: a database host that hangs. */
async function silentServer() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('a database that cannot be reached', () => {
  it('answers 503 problem+json with Retry-After at once when the port refuses connections', async () => {
    const { admin } = await createClinic();
    const database = await openDatabase({ url: CLOSED_PORT_URL, poolMax: 2 });
    const app = await buildTestApp({}, database);
    const started = performance.now();
    const response = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokenFor(app, admin)) });
    expect(performance.now() - started).toBeLessThan(2000);
    const body = expectProblem(response, 503);
    expect(response.headers['retry-after']).toBe('5');
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|nobody/);
    await database.close();
  });

  it("maps the driver's refused and timed-out connections to 503 unavailable, and leaves a wrong statement at 500", async () => {
    const refusing = await openDatabase({ url: CLOSED_PORT_URL, poolMax: 1 });
    const refused = await refusing.db.execute(sql`select 1`).catch((error: unknown) => error);
    await refusing.close();

    const silent = await silentServer();
    const pool = new pg.Pool({ connectionString: `postgres://nobody@127.0.0.1:${silent.port}/none`, connectionTimeoutMillis: 200 });
    const timedOut = await pool.query('select 1').catch((error: unknown) => error);
    await pool.end();
    silent.close();

    for (const error of [refused, timedOut]) {
      expect(error).toBeInstanceOf(Error);
      expect(isDatabaseUnreachable(error)).toBe(true);
      expect(toAppError(error as Error)).toMatchObject({ code: 'unavailable', status: 503, options: { retryAfter: 5 } });
    }

    const wrong = await (await testDatabase()).db.execute(sql`select * from no_such_table`).catch((error: unknown) => error);
    expect(isDatabaseUnreachable(wrong)).toBe(false);
    expect(toAppError(wrong as Error)).toMatchObject({ code: 'internal', status: 500 });
  });

  itOnPostgres('answers 503 and audits it when the server ends the connection under a running request (57P01)', async () => {
    const database = await createFileDatabase();
    const app = await buildTestApp({}, database);
    const { admin } = await createClinic(database);
    const { rows } = await database.db.execute<{ name: string }>(sql`select current_database() as name`);
    if (target.kind !== 'postgres') throw new Error('needs PostgreSQL');
    const locker = new pg.Client({ connectionString: withDatabase(target.adminUrl, rows[0]?.name as string) });
    await locker.connect();
    // Hold the staff table so the request's sign-in query waits on a backend we can find and end.
    await locker.query('begin; lock table staff in access exclusive mode');
    const requestId = newRequestId();
    const pending = app.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(tokenFor(app, admin)), 'x-request-id': requestId } });
    let terminated = false;
    for (let attempt = 0; attempt < 100 && !terminated; attempt++) {
      // Inside the locker's transaction the activity view is a snapshot: take a fresh one each time.
      await locker.query('select pg_stat_clear_snapshot()');
      const { rows: waiting } = await locker.query<{ ended: boolean }>(
        `select pg_terminate_backend(pid) as ended from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`,
      );
      terminated = waiting.some((row) => row.ended);
      if (!terminated) await sleep(20);
    }
    await locker.query('rollback');
    await locker.end();
    expect(terminated).toBe(true);

    const response = await pending;
    expectProblem(response, 503);
    expect(response.headers['retry-after']).toBe('5');
    const { rows: records } = await database.db.execute(sql`select http_status, outcome from audit_events where request_id = ${requestId}`);
    expect(records).toEqual([{ http_status: 503, outcome: 'error' }]);
    await app.close();
    await database.close();
  });
});
