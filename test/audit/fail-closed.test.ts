import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { AuditWriter } from '../../src/audit/writer.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, createFileDatabase, newRequestId } from '../helpers/app.js';
import { bearer, createClinic, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { countRows, recordsFor, run } from './support.js';

// A private database: the broken audit trigger must not leak into other test files.
const database = await createFileDatabase();
const app = await buildTestApp({}, database);
const { clinic, admin } = await createClinic(database);
const adminAuth = bearer(tokenFor(app, admin));

/**
 * Makes every audit insert fail (or only the one for `requestId`) while `work` runs, the way a full
 * disk, a revoked grant or a broken partition would. The trigger is dropped again afterwards.
 */
async function withAuditOutage<T>(work: () => Promise<T>, requestId?: string): Promise<T> {
  const condition = requestId ? `NEW.request_id = '${requestId}'` : 'true';
  await run(
    database,
    `CREATE FUNCTION test_audit_outage() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF ${condition} THEN RAISE EXCEPTION 'synthetic audit outage'; END IF;
       RETURN NEW;
     END $$`,
  );
  await run(database, 'CREATE TRIGGER test_audit_outage BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_audit_outage()');
  try {
    return await work();
  } finally {
    await run(database, 'DROP TRIGGER test_audit_outage ON audit_events');
    await run(database, 'DROP FUNCTION test_audit_outage()');
  }
}

async function send(options: InjectOptions, requestId = newRequestId()) {
  const response = await app.inject({ ...options, headers: { ...options.headers, 'x-request-id': requestId } });
  return { response, requestId, records: () => recordsFor(database, requestId) };
}

/** A 503 problem that carries none of the data the request was about. */
function expectWithheld(response: LightMyRequestResponse, secrets: string[]) {
  expect(response.statusCode).toBe(503);
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(response.headers['retry-after']).toBe('5');
  expect(response.headers.etag).toBeUndefined();
  const body = response.json();
  expect(body).toMatchObject({ status: 503, type: '/problems/unavailable', instance: response.headers['x-request-id'] });
  expect(body.detail).toMatch(/audit/i);
  for (const secret of secrets) expect(response.body).not.toContain(secret);
  expect(response.body).not.toMatch(/synthetic audit outage|trigger|insert/i);
}

const newStaffBody = () => ({
  email: `outage-${uuidv7()}@example.test`,
  displayName: 'Synthetic Outage Hire',
  roles: ['therapist'],
  password: TEST_PASSWORD,
});

describe('fail closed: no audit record, no response data', () => {
  it('GET /v1/me answers 503 without the staff member it would have shown', async () => {
    const { response, records } = await withAuditOutage(() => send({ method: 'GET', url: '/v1/me', headers: adminAuth }));
    expectWithheld(response, [admin.email, admin.displayName, admin.id, clinic.name]);
    expect(await records()).toHaveLength(0);
  });

  it('GET /v1/staff/:id answers 503 and drops the ETag it had set', async () => {
    const { response, records } = await withAuditOutage(() => send({ method: 'GET', url: `/v1/staff/${admin.id}`, headers: adminAuth }));
    expectWithheld(response, [admin.email, admin.displayName]);
    expect(await records()).toHaveLength(0);
  });

  it('POST /v1/staff answers 503 and the account is not created (the change rolls back with its record)', async () => {
    const body = newStaffBody();
    const before = await countRows(database, 'staff', clinic.id);
    const { response, records } = await withAuditOutage(() =>
      send({ method: 'POST', url: '/v1/staff', headers: adminAuth, payload: body }),
    );
    expectWithheld(response, [body.email, body.displayName]);
    expect(response.headers.location).toBeUndefined();
    expect(await countRows(database, 'staff', clinic.id)).toBe(before);
    expect(await run(database, `SELECT 1 FROM staff WHERE email = '${body.email}'`)).toHaveLength(0);
    expect(await records()).toHaveLength(0);
  });

  it('a successful sign-in does not hand out a token it could not record', async () => {
    const { response } = await withAuditOutage(() =>
      send({ method: 'POST', url: '/v1/auth/login', payload: { clinic: clinic.slug, email: admin.email, password: TEST_PASSWORD } }),
    );
    expectWithheld(response, [admin.email, admin.displayName]);
    expect(response.body).not.toMatch(/accessToken|eyJ/);
  });

  it('denials and unknown routes fail closed too: 503 rather than an unrecorded 401 or 404', async () => {
    const results = await withAuditOutage(() =>
      Promise.all([send({ method: 'GET', url: '/v1/me' }), send({ method: 'GET', url: '/v1/nothing-here' })]),
    );
    for (const { response, records } of results) {
      expectWithheld(response, []);
      expect(await records()).toHaveLength(0);
    }
  });

  it('operational probes keep answering during an audit outage (they write no record)', async () => {
    const [health, ready] = await withAuditOutage(() =>
      Promise.all([app.inject({ method: 'GET', url: '/healthz' }), app.inject({ method: 'GET', url: '/readyz' })]),
    );
    expect(health?.statusCode).toBe(200);
    expect(ready?.statusCode).toBe(200);
  });

  it('one unwritable record in a group commit fails only its own request', async () => {
    const poisoned = newRequestId();
    const ids = [poisoned, ...Array.from({ length: 19 }, () => newRequestId())];
    const results = await withAuditOutage(
      () => Promise.all(ids.map((id) => send({ method: 'GET', url: '/v1/me', headers: adminAuth }, id))),
      poisoned,
    );
    const [first, ...rest] = results;
    expectWithheld((first as (typeof results)[number]).response, [admin.email]);
    expect(await (first as (typeof results)[number]).records()).toHaveLength(0);
    for (const { response, records } of rest) {
      expect(response.statusCode).toBe(200);
      expect(response.json().email).toBe(admin.email);
      expect(await records()).toHaveLength(1);
    }
  });
});

describe('the group-commit writer', () => {
  it('retries a failed batch row by row, so only the unwritable record is refused', async () => {
    const writer = new AuditWriter(database.db);
    const row = (requestId: string) => ({
      clinicId: clinic.id,
      id: uuidv7(),
      occurredAt: new Date(),
      requestId,
      actorType: 'system' as const,
      actorRoles: [],
      clientIds: [],
      action: 'E' as const,
      subtype: 'synthetic',
      outcome: 'success' as const,
      httpStatus: 200,
      method: 'TEST',
      route: 'writer-test',
      serviceVersion: 'test',
    });
    const poisoned = newRequestId();
    const ids = [newRequestId(), poisoned, newRequestId(), newRequestId()];
    // Queued in one turn of the event loop, so they share one multi-row INSERT first.
    const outcomes = await withAuditOutage(() => Promise.allSettled(ids.map((id) => writer.write(row(id)))), poisoned);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    for (const id of ids) expect(await recordsFor(database, id)).toHaveLength(id === poisoned ? 0 : 1);
    await writer.drain();
  });
});

describe('recovery', () => {
  it('once the audit trail is writable again, the same requests succeed and are recorded', async () => {
    const me = await send({ method: 'GET', url: '/v1/me', headers: adminAuth });
    expect(me.response.statusCode).toBe(200);
    expect(me.response.json()).toMatchObject({ id: admin.id, email: admin.email });
    expect(await me.records()).toMatchObject([{ http_status: 200, outcome: 'success', actor_id: admin.id }]);

    const before = await countRows(database, 'staff', clinic.id);
    const created = await send({ method: 'POST', url: '/v1/staff', headers: adminAuth, payload: newStaffBody() });
    expect(created.response.statusCode).toBe(201);
    expect(await countRows(database, 'staff', clinic.id)).toBe(before + 1);
    expect(await created.records()).toMatchObject([
      { http_status: 201, outcome: 'success', subtype: 'create', resource_id: created.response.json().id },
    ]);

    const denied = await send({ method: 'GET', url: '/v1/me' });
    expect(denied.response.statusCode).toBe(401);
    expect(await denied.records()).toMatchObject([{ http_status: 401, outcome: 'denied', denial_reason: 'missing-token' }]);
  });
});
