import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, createFileDatabase, query } from '../helpers/app.js';
import { bearer, createClinic, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp({ BODY_LIMIT_BYTES: '2048' });

describe('operations', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().status).toBe('ready');
  });

  it('accepts a sane X-Request-Id and echoes it; replaces an unsafe one', async () => {
    const given = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'front-end.42:abc' } });
    expect(given.headers['x-request-id']).toBe('front-end.42:abc');
    const unsafe = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('problem+json errors', () => {
  it('404 for an unknown route', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: '/v1/no-such-thing' }), 404);
    expect(body.detail).toContain('/v1/no-such-thing');
  });

  it('400 for malformed JSON', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expectProblem(response, 400);
  });

  it('415 for a content type the API does not take', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expectProblem(response, 415);
  });

  it('413 for a body over the limit', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ clinic: 'x', email: 'a@b.test', password: 'p'.repeat(4096) }),
    });
    expectProblem(response, 413);
  });

  it('400 listing each failing field, and unknown fields are rejected', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { clinic: '', email: 'not-an-email', password: 7, extra: true },
    });
    const body = expectProblem(response, 400);
    const fields = (body.errors as Array<{ in: string; field: string }>).map((e) => `${e.in}.${e.field}`);
    expect(fields).toEqual(expect.arrayContaining(['body.clinic', 'body.email', 'body.password', 'body.extra']));
    expect(body.detail).toContain('body.email');
  });

  it('400 naming the field for a NUL character in a body, a query or a path, which the database cannot store; nothing is written', async () => {
    const { clinic, admin } = await createClinic();
    const auth = bearer(tokenFor(app, admin));
    const staffCount = async () =>
      (await query<{ n: number }>(sql`select count(*)::int as n from staff where clinic_id = ${clinic.id}`))[0]?.n;
    const before = await staffCount();
    const body = { email: 'nul-probe@example.test', displayName: 'Synthetic\u0000Hire', roles: ['therapist'], password: TEST_PASSWORD };
    const cases = [
      { method: 'POST' as const, url: '/v1/staff', payload: body, at: 'body.displayName' },
      {
        method: 'POST' as const,
        url: '/v1/staff',
        payload: { ...body, displayName: 'Synthetic Hire', roles: ['a\u0000'] },
        at: 'body.roles.0',
      },
      { method: 'GET' as const, url: '/v1/staff?cursor=a%00b', at: 'query.cursor' },
      { method: 'GET' as const, url: `/v1/staff/${admin.id.slice(0, 8)}%00`, at: 'params.id' },
    ];
    for (const { at, ...request } of cases) {
      const response = await app.inject({ ...request, headers: auth });
      const problem = expectProblem(response, 400);
      const fields = (problem.errors as Array<{ in: string; field: string }>).map((e) => `${e.in}.${e.field}`);
      expect(fields, request.url).toEqual([at]);
      expect(problem.detail).toContain('NUL');
    }
    expect(await staffCount()).toBe(before);
  });

  it('500 with no internals when the database fails in a way nobody expected', async () => {
    const database = await createFileDatabase();
    const broken = await buildTestApp({}, database);
    const { admin } = await createClinic(database);
    await database.db.execute(sql.raw('ALTER TABLE clinics RENAME COLUMN name TO secret_column_name'));
    const response = await broken.inject({ method: 'GET', url: '/v1/me', headers: bearer(tokenFor(broken, admin)) });
    const body = expectProblem(response, 500);
    expect(JSON.stringify(body)).not.toMatch(/secret_column_name|select|column|at .*\.ts/i);
    const [record] = (
      await database.db.execute(
        sql`select http_status, outcome from audit_events where request_id = ${response.headers['x-request-id'] as string}`,
      )
    ).rows;
    expect(record).toEqual({ http_status: 500, outcome: 'error' });
    await broken.close();
    await database.close();
  });
});

describe('requests Fastify refuses before routing', () => {
  it('a malformed URL and an over-long path parameter get problem+json and one audit record each', async () => {
    const cases = [
      { url: '/v1/staff/%zz', status: 400 },
      { url: `/v1/staff/${'a'.repeat(200)}`, status: 414 },
    ];
    for (const { url, status } of cases) {
      const response = await app.inject({ method: 'GET', url, headers: { 'x-request-id': `framework-${status}` } });
      expectProblem(response, status);
      const records = await query(sql`select http_status, outcome, subtype from audit_events where request_id = ${`framework-${status}`}`);
      expect(records).toEqual([{ http_status: status, outcome: 'failure', subtype: 'unrouted' }]);
    }
  });
});
