import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { NIL_UUID, uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, createFileDatabase, newRequestId, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { type AuditRecord, countRows, forgedToken, recordsFor, run } from './support.js';

const database = await testDatabase();
const app = await buildTestApp();
const { clinic, admin } = await createClinic();
const otherClinic = await createClinic();
const therapist = await createStaffMember(clinic.id, ['therapist']);
const adminAuth = bearer(tokenFor(app, admin));

/** Sends one request with a fresh X-Request-Id and returns the response with its audit records. */
async function send(options: InjectOptions, on: App = app) {
  const requestId = newRequestId();
  const response = await on.inject({ ...options, headers: { ...options.headers, 'x-request-id': requestId } });
  expect(response.headers['x-request-id']).toBe(requestId);
  const records = await recordsFor(database, requestId);
  return { response, records, requestId };
}

/** Exactly one record for the request, with the response's status and the expected fields. */
function expectOne(result: Awaited<ReturnType<typeof send>>, expected: Partial<AuditRecord>): AuditRecord {
  expect(result.records, `audit records for ${result.requestId}`).toHaveLength(1);
  const [record] = result.records as [AuditRecord];
  expect(record.http_status).toBe(result.response.statusCode);
  expect(record).toMatchObject({ request_id: result.requestId, ...expected });
  return record;
}

const newStaffBody = () => ({
  email: `new-${uuidv7()}@example.test`,
  displayName: 'Synthetic New Hire',
  roles: ['therapist'],
  password: TEST_PASSWORD,
});

describe('one audit record per request, with the status and outcome it answered with', () => {
  it('200 read: GET /v1/me records actor, basis, resource and caller details', async () => {
    const result = await send({ method: 'GET', url: '/v1/me', headers: { ...adminAuth, 'user-agent': 'synthetic-agent/1.0' } });
    expect(result.response.statusCode).toBe(200);
    expectOne(result, {
      clinic_id: clinic.id,
      actor_type: 'staff',
      actor_id: admin.id,
      actor_roles: ['admin'],
      action: 'R',
      subtype: 'read',
      outcome: 'success',
      denial_reason: null,
      method: 'GET',
      route: '/v1/me',
      resource_type: 'staff',
      resource_id: admin.id,
      access_basis: { rule: 'self', relationship: 'self' },
      result_count: 1,
      source_ip: '127.0.0.1',
      user_agent: 'synthetic-agent/1.0',
    });
  });

  it('201 create: POST /v1/staff is recorded once, inside its own transaction, naming the new account', async () => {
    const result = await send({ method: 'POST', url: '/v1/staff', headers: adminAuth, payload: newStaffBody() });
    expect(result.response.statusCode).toBe(201);
    expectOne(result, {
      action: 'C',
      subtype: 'create',
      outcome: 'success',
      actor_id: admin.id,
      resource_id: result.response.json().id,
      access_basis: { rule: 'staff.manage', role: 'admin' },
      details: { roles: { from: [], to: ['therapist'] } },
    });
  });

  it('400 validation: recorded as a failure and nothing is created', async () => {
    const before = await countRows(database, 'staff', clinic.id);
    const result = await send({
      method: 'POST',
      url: '/v1/staff',
      headers: adminAuth,
      payload: { ...newStaffBody(), email: 'not-an-email', password: 'short' },
    });
    expect(result.response.statusCode).toBe(400);
    expectOne(result, { subtype: 'create', outcome: 'failure', actor_id: admin.id, denial_reason: null });
    expect(await countRows(database, 'staff', clinic.id)).toBe(before);
  });

  it('401 without a token: denied, missing-token, anonymous', async () => {
    const result = await send({ method: 'GET', url: '/v1/me' });
    expect(result.response.statusCode).toBe(401);
    expectOne(result, {
      clinic_id: NIL_UUID,
      actor_type: 'anonymous',
      actor_id: null,
      outcome: 'denied',
      denial_reason: 'missing-token',
      access_basis: null,
    });
  });

  it('401 with a forged token: denied, invalid-token, the claimed identity is not recorded as the actor', async () => {
    const forged = forgedToken({ sub: admin.id, cid: clinic.id, roles: ['admin'], jti: uuidv7(), iat: Math.floor(Date.now() / 1000) });
    const result = await send({ method: 'GET', url: '/v1/me', headers: bearer(forged) });
    expect(result.response.statusCode).toBe(401);
    expectOne(result, { actor_type: 'anonymous', actor_id: null, outcome: 'denied', denial_reason: 'invalid-token' });
  });

  it('403 wrong role: denied with the rule named, and the actor recorded', async () => {
    const result = await send({ method: 'GET', url: '/v1/staff', headers: bearer(tokenFor(app, therapist)) });
    expect(result.response.statusCode).toBe(403);
    const record = expectOne(result, {
      clinic_id: clinic.id,
      actor_id: therapist.id,
      subtype: 'search',
      outcome: 'denied',
      access_basis: null,
    });
    expect(record.denial_reason).toMatch(/^role-not-permitted/);
  });

  it('404 unknown route: recorded as unrouted under the raw path', async () => {
    const result = await send({ method: 'GET', url: '/v1/no-such-thing?x=1' });
    expect(result.response.statusCode).toBe(404);
    expectOne(result, { subtype: 'unrouted', outcome: 'failure', route: '/v1/no-such-thing', method: 'GET' });
  });

  it("404 for another clinic's staff id: recorded in the caller's clinic, naming the id asked for", async () => {
    const result = await send({ method: 'GET', url: `/v1/staff/${otherClinic.admin.id}`, headers: adminAuth });
    expect(result.response.statusCode).toBe(404);
    expectOne(result, {
      clinic_id: clinic.id,
      actor_id: admin.id,
      subtype: 'read',
      outcome: 'failure',
      resource_id: otherClinic.admin.id,
      result_count: null,
    });
  });

  it('409 duplicate email: one failure record, not the rolled-back success record', async () => {
    const body = newStaffBody();
    expect((await send({ method: 'POST', url: '/v1/staff', headers: adminAuth, payload: body })).response.statusCode).toBe(201);
    const result = await send({ method: 'POST', url: '/v1/staff', headers: adminAuth, payload: { ...body, displayName: 'Again' } });
    expect(result.response.statusCode).toBe(409);
    expectOne(result, { subtype: 'create', outcome: 'failure', actor_id: admin.id });
  });

  it('412 stale If-Match and 428 missing If-Match are each recorded once', async () => {
    const member = await createStaffMember(clinic.id, ['skills_trainer']);
    const url = `/v1/staff/${member.id}`;
    const stale = await send({ method: 'PATCH', url, headers: { ...adminAuth, 'if-match': '"999"' }, payload: { displayName: 'X' } });
    expect(stale.response.statusCode).toBe(412);
    expectOne(stale, { subtype: 'update', outcome: 'failure', resource_id: member.id });
    const missing = await send({ method: 'PATCH', url, headers: adminAuth, payload: { displayName: 'X' } });
    expect(missing.response.statusCode).toBe(428);
    expectOne(missing, { subtype: 'update', outcome: 'failure', resource_id: member.id });
  });

  it('413 body over the limit', async () => {
    const small = await buildTestApp({ BODY_LIMIT_BYTES: '2048' });
    const result = await send(
      {
        method: 'POST',
        url: '/v1/staff',
        headers: bearer(tokenFor(small, admin)),
        payload: { ...newStaffBody(), displayName: 'n'.repeat(4096) },
      },
      small,
    );
    expect(result.response.statusCode).toBe(413);
    expectOne(result, { subtype: 'create', outcome: 'failure', actor_id: admin.id });
  });

  it('415 text/plain body', async () => {
    const result = await send({
      method: 'POST',
      url: '/v1/staff',
      headers: { ...adminAuth, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(result.response.statusCode).toBe(415);
    expectOne(result, { subtype: 'create', outcome: 'failure', actor_id: admin.id });
  });

  it('login: success, failure (login-failed, no password in the record) and 429 once throttled', async () => {
    const strict = await buildTestApp({ LOGIN_MAX_FAILURES: '2' });
    const login = (password: string) =>
      send(
        {
          method: 'POST',
          url: '/v1/auth/login',
          remoteAddress: '198.51.100.7',
          payload: { clinic: clinic.slug, email: admin.email, password },
        },
        strict,
      );
    const ok = await login(TEST_PASSWORD);
    expect(ok.response.statusCode).toBe(200);
    expectOne(ok, { subtype: 'login', action: 'E', outcome: 'success', actor_id: admin.id, clinic_id: clinic.id });

    const wrong = 'synthetic-wrong-password';
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await login(wrong);
      expect(failed.response.statusCode).toBe(401);
      const record = expectOne(failed, {
        subtype: 'login-failed',
        outcome: 'denied',
        denial_reason: 'wrong-password',
        clinic_id: clinic.id,
        actor_id: null,
        resource_id: admin.id,
        source_ip: '198.51.100.7',
        query: { clinic: clinic.slug, email: admin.email },
      });
      expect(JSON.stringify(record)).not.toContain(wrong);
    }
    const throttled = await login(TEST_PASSWORD);
    expect(throttled.response.statusCode).toBe(429);
    expect(throttled.response.headers['retry-after']).toBeDefined();
    expectOne(throttled, { subtype: 'login-failed', outcome: 'denied', denial_reason: 'login-throttled' });
  });

  it('500: recorded as an error even when the handler fails unexpectedly', async () => {
    const broken = await createFileDatabase();
    const brokenApp = await buildTestApp({}, broken);
    const { admin: brokenAdmin } = await createClinic(broken);
    await run(broken, 'ALTER TABLE clinics RENAME COLUMN name TO renamed_name');
    const requestId = newRequestId();
    const response = await brokenApp.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { ...bearer(tokenFor(brokenApp, brokenAdmin)), 'x-request-id': requestId },
    });
    expect(response.statusCode).toBe(500);
    const records = await recordsFor(broken, requestId);
    expect(records).toHaveLength(1);
    // Where the failure strikes (token check or handler) decides whether the actor is known yet.
    expect(records[0]).toMatchObject({ http_status: 500, outcome: 'error', subtype: 'read', route: '/v1/me', denial_reason: null });
    await brokenApp.close();
    await broken.close();
  });
});

describe('operational probes are the documented exemption', () => {
  it.each(['/healthz', '/readyz', '/openapi.json', '/docs'])('GET %s writes no audit record', async (url) => {
    const before = await countRows(database, 'audit_events');
    const result = await send({ method: 'GET', url });
    expect(result.response.statusCode).toBeLessThan(400);
    expect(result.records).toHaveLength(0);
    expect(await countRows(database, 'audit_events')).toBe(before);
  });
});

describe('concurrent mixed traffic', () => {
  it('adds exactly one record per request, each under its own request id', async () => {
    const before = await countRows(database, 'audit_events');
    const therapistAuth = bearer(tokenFor(app, therapist));
    const requests: InjectOptions[] = [
      ...Array.from({ length: 10 }, () => ({ method: 'GET' as const, url: '/v1/me', headers: adminAuth })),
      ...Array.from({ length: 5 }, () => ({ method: 'GET' as const, url: '/v1/staff', headers: therapistAuth })),
      ...Array.from({ length: 5 }, () => ({ method: 'GET' as const, url: '/v1/nowhere' })),
      ...Array.from({ length: 5 }, () => ({ method: 'POST' as const, url: '/v1/staff', headers: adminAuth, payload: newStaffBody() })),
      ...Array.from({ length: 5 }, () => ({ method: 'GET' as const, url: '/healthz' })),
    ];
    const ids = requests.map(() => newRequestId());
    const responses = await Promise.all(requests.map((r, i) => app.inject({ ...r, headers: { ...r.headers, 'x-request-id': ids[i] } })));
    const rows = await run<{ request_id: string; n: number; status: number }>(
      database,
      `select request_id, count(*)::int as n, max(http_status)::int as status from audit_events
        where request_id in (${ids.map((id) => `'${id}'`).join(',')}) group by request_id`,
    );
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    responses.forEach((response, i) => {
      const row = byId.get(ids[i] as string);
      if (requests[i]?.url === '/healthz') expect(row).toBeUndefined();
      else expect(row).toEqual({ request_id: ids[i], n: 1, status: response.statusCode });
    });
    expect(await countRows(database, 'audit_events')).toBe(before + requests.length - 5);
  });
});
