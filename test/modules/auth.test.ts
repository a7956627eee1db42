import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp, newRequestId, query } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, signToken, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { auditRecord } from '../helpers/http.js';
import { expectProblem, type ProblemBody } from '../helpers/problems.js';

const JWT_SECRET = randomBytes(32).toString('hex');
const app = await buildTestApp({ JWT_SECRET });

type Reply = Awaited<ReturnType<App['inject']>>;
type Credentials = { clinic: string; email: string; password: string };

/** Each test signs in from its own address, so per-address failure counters never cross tests. */
let addressCounter = 0;
const freshAddress = () => `10.${randomBytes(1)[0]}.${Math.floor(addressCounter / 250)}.${(addressCounter++ % 250) + 1}`;

/** Every response of this file is checked: no password hash, in any shape, ever leaves the API. */
function noSecrets(response: Reply): Reply {
  expect(response.body).not.toMatch(/\$argon2|passwordHash|password_hash/i);
  return response;
}

async function login(target: App, body: Credentials, remoteAddress: string) {
  const requestId = newRequestId();
  const response = await target.inject({
    method: 'POST',
    url: '/v1/auth/login',
    headers: { 'x-request-id': requestId },
    payload: body,
    remoteAddress,
  });
  return { response: noSecrets(response), requestId };
}

async function me(target: App, token: string) {
  const requestId = newRequestId();
  const response = await target.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(token), 'x-request-id': requestId } });
  return { response: noSecrets(response), requestId };
}

const withoutInstance = (body: ProblemBody | undefined) => ({ ...body, instance: undefined });

/** Sleeps until just after the next whole second, where JWT iat (whole seconds) ticks. */
const untilNextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function deactivate(adminToken: string, staffId: string) {
  const response = await app.inject({ method: 'POST', url: `/v1/staff/${staffId}/deactivate`, headers: bearer(adminToken) });
  expect(noSecrets(response).statusCode).toBe(200);
  expect(response.json().active).toBe(false);
}

describe('POST /v1/auth/login', () => {
  it('signs in with the clinic slug, email and password; the token works on /v1/me', async () => {
    const { clinic, admin } = await createClinic();
    const { response, requestId } = await login(app, { clinic: clinic.slug, email: admin.email, password: TEST_PASSWORD }, freshAddress());
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
    expect(body.staff).toEqual({
      id: admin.id,
      email: admin.email,
      displayName: 'Synthetic Admin',
      roles: ['admin'],
      active: true,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(body.staff).not.toHaveProperty('password');
    expect(body.staff).not.toHaveProperty('passwordHash');

    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      clinic_id: clinic.id,
      actor_id: admin.id,
      subtype: 'login',
      outcome: 'success',
      http_status: 200,
      denial_reason: null,
      resource_id: admin.id,
    });
    expect(record.details).toEqual({ tokenId: expect.any(String) });

    const profile = await me(app, body.accessToken);
    expect(profile.response.statusCode).toBe(200);
    expect(profile.response.json()).toMatchObject({ id: admin.id, email: admin.email, clinicId: clinic.id, clinicName: clinic.name });
    expect(await auditRecord(profile.requestId)).toMatchObject({
      actor_id: admin.id,
      subtype: 'read',
      outcome: 'success',
      http_status: 200,
    });
  });

  it('treats the email (and the clinic slug) case-insensitively', async () => {
    const { clinic, admin } = await createClinic();
    const { response } = await login(
      app,
      { clinic: clinic.slug.toUpperCase(), email: admin.email.toUpperCase(), password: TEST_PASSWORD },
      freshAddress(),
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().staff.id).toBe(admin.id);
  });

  it('answers a wrong password, an unknown email and an unknown clinic with the same 401, and audits each', async () => {
    const { clinic, admin } = await createClinic();
    const address = freshAddress();
    const wrongPassword = await login(app, { clinic: clinic.slug, email: admin.email, password: 'not the password at all' }, address);
    const unknownEmail = await login(app, { clinic: clinic.slug, email: 'nobody@example.test', password: TEST_PASSWORD }, address);
    const unknownClinic = await login(app, { clinic: 'no-such-clinic-xyz', email: admin.email, password: TEST_PASSWORD }, address);

    const bodies = [wrongPassword, unknownEmail, unknownClinic].map(({ response }) => expectProblem(response, 401));
    expect(withoutInstance(bodies[1])).toEqual(withoutInstance(bodies[0]));
    expect(withoutInstance(bodies[2])).toEqual(withoutInstance(bodies[0]));
    expect(wrongPassword.response.headers['www-authenticate']).toBe(unknownClinic.response.headers['www-authenticate']);

    const failed = { actor_id: null, subtype: 'login-failed', outcome: 'denied', http_status: 401 };
    expect(await auditRecord(wrongPassword.requestId)).toMatchObject({
      ...failed,
      clinic_id: clinic.id,
      resource_id: admin.id,
      denial_reason: 'wrong-password',
    });
    expect(await auditRecord(unknownEmail.requestId)).toMatchObject({ ...failed, clinic_id: clinic.id, denial_reason: 'unknown-account' });
    expect(await auditRecord(unknownClinic.requestId)).toMatchObject({
      ...failed,
      clinic_id: '00000000-0000-0000-0000-000000000000',
      denial_reason: 'unknown-account',
    });
  });

  it('takes about as long for an unknown account as for a wrong password', async () => {
    // Its own app with a high limit, so the repeated failures are timed rather than throttled.
    const timed = await buildTestApp({ LOGIN_MAX_FAILURES: '1000' });
    const { clinic, admin } = await createClinic();
    const address = freshAddress();
    const attempts: Record<string, Credentials> = {
      wrongPassword: { clinic: clinic.slug, email: admin.email, password: 'wrong password, same length' },
      unknownEmail: { clinic: clinic.slug, email: `nobody-${randomBytes(3).toString('hex')}@example.test`, password: TEST_PASSWORD },
      unknownClinic: { clinic: `no-clinic-${randomBytes(3).toString('hex')}`, email: admin.email, password: TEST_PASSWORD },
    };
    const durations: Record<string, number[]> = { wrongPassword: [], unknownEmail: [], unknownClinic: [] };
    await login(timed, attempts.unknownEmail as Credentials, address); // warm-up
    for (let round = 0; round < 7; round++) {
      for (const [name, body] of Object.entries(attempts)) {
        const started = performance.now();
        const { response } = await login(timed, body, address);
        durations[name]?.push(performance.now() - started);
        expect(response.statusCode).toBe(401);
      }
    }
    const reference = median(durations.wrongPassword as number[]);
    for (const name of ['unknownEmail', 'unknownClinic']) {
      const ratio = median(durations[name] as number[]) / reference;
      expect(ratio, `${name} / wrongPassword median time`).toBeGreaterThan(0.5);
      expect(ratio, `${name} / wrongPassword median time`).toBeLessThan(2);
    }
  });

  it('locks an account after LOGIN_MAX_FAILURES failures: even the right password gets 429 with Retry-After', async () => {
    const throttled = await buildTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '60' });
    const { clinic, admin } = await createClinic();
    const other = await createStaffMember(clinic.id, ['therapist']);
    const address = freshAddress();
    for (let attempt = 0; attempt < 3; attempt++) {
      const { response } = await login(throttled, { clinic: clinic.slug, email: admin.email, password: `wrong-${attempt}` }, address);
      expectProblem(response, 401);
    }
    // The lock is keyed on the account, whatever the case of the email.
    const { response, requestId } = await login(
      throttled,
      { clinic: clinic.slug, email: admin.email.toUpperCase(), password: TEST_PASSWORD },
      address,
    );
    const body = expectProblem(response, 429);
    expect(body.type).toBe('/problems/rate-limited');
    const retryAfter = String(response.headers['retry-after']);
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(body).not.toHaveProperty('accessToken');
    expect(await auditRecord(requestId)).toMatchObject({
      subtype: 'login-failed',
      outcome: 'denied',
      http_status: 429,
      denial_reason: 'login-throttled',
    });

    // Another account from the same address is not locked out.
    const unaffected = await login(throttled, { clinic: clinic.slug, email: other.email, password: TEST_PASSWORD }, address);
    expect(unaffected.response.statusCode).toBe(200);
  });

  it('forgets earlier failures after a successful sign-in', async () => {
    const throttled = await buildTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '60' });
    const { clinic, admin } = await createClinic();
    const address = freshAddress();
    const wrong = { clinic: clinic.slug, email: admin.email, password: 'wrong password' };
    const right = { ...wrong, password: TEST_PASSWORD };
    for (const body of [wrong, wrong, right, wrong, wrong, right]) {
      const { response } = await login(throttled, body, address);
      expect(response.statusCode).toBe(body === right ? 200 : 401);
    }
  });
});

describe('tokens', () => {
  it('a deactivated account cannot sign in, and its unexpired token stops working at once', async () => {
    const { clinic, admin } = await createClinic();
    const member = await createStaffMember(clinic.id, ['therapist']);
    const token = tokenFor(app, member);
    expect((await me(app, token)).response.statusCode).toBe(200);

    await deactivate(tokenFor(app, admin), member.id);

    const refused = await me(app, token);
    expectProblem(refused.response, 401);
    expect(await auditRecord(refused.requestId)).toMatchObject({
      outcome: 'denied',
      http_status: 401,
      denial_reason: 'revoked-or-inactive',
    });

    const address = freshAddress();
    const attempt = await login(app, { clinic: clinic.slug, email: member.email, password: TEST_PASSWORD }, address);
    const wrong = await login(app, { clinic: clinic.slug, email: member.email, password: 'not the password' }, address);
    expect(withoutInstance(expectProblem(attempt.response, 401))).toEqual(withoutInstance(expectProblem(wrong.response, 401)));
    expect(await auditRecord(attempt.requestId)).toMatchObject({ subtype: 'login-failed', denial_reason: 'inactive-account' });
  });

  it('reactivation does not bring back tokens issued before the deactivation', async () => {
    const { clinic, admin } = await createClinic();
    const member = await createStaffMember(clinic.id, ['therapist']);
    // Token, deactivation and reactivation all fall in one second, where iat cannot order them.
    await untilNextSecond();
    const oldToken = tokenFor(app, member);
    const adminToken = tokenFor(app, admin);
    await deactivate(adminToken, member.id);
    const reactivated = await app.inject({ method: 'POST', url: `/v1/staff/${member.id}/reactivate`, headers: bearer(adminToken) });
    expect(reactivated.statusCode).toBe(200);
    expect(reactivated.json().active).toBe(true);
    expectProblem((await me(app, oldToken)).response, 401);

    // A token issued once the reactivation's second has passed works again.
    await untilNextSecond();
    expect((await me(app, tokenFor(app, member))).response.statusCode).toBe(200);
  });

  it('refuses an expired token', async () => {
    const { admin } = await createClinic();
    const now = Math.floor(Date.now() / 1000);
    const expired = signToken(JWT_SECRET, {
      sub: admin.id,
      cid: admin.clinicId,
      roles: admin.roles,
      jti: 'expired',
      iat: now - 120,
      exp: now - 60,
    });
    const refused = await me(app, expired);
    expectProblem(refused.response, 401);
    expect(await auditRecord(refused.requestId)).toMatchObject({ actor_id: null, outcome: 'denied', denial_reason: 'expired-token' });

    // The same claims, unexpired and signed with the same key, are accepted: only exp differs.
    const valid = signToken(JWT_SECRET, { sub: admin.id, cid: admin.clinicId, roles: admin.roles, jti: 'valid', iat: now, exp: now + 60 });
    expect((await me(app, valid)).response.statusCode).toBe(200);
  });

  it('refuses a token that expires while it is held', async () => {
    const { admin } = await createClinic();
    const token = tokenFor(app, admin, { expiresIn: 1 });
    expect((await me(app, token)).response.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expectProblem((await me(app, token)).response, 401);
  });

  it('refuses a token signed with another secret, an unsigned token and a malformed header', async () => {
    const { admin } = await createClinic();
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: admin.id, cid: admin.clinicId, roles: admin.roles, jti: 'forged', iat: now, exp: now + 600 };
    const forged = await me(app, signToken(randomBytes(32).toString('hex'), claims));
    expectProblem(forged.response, 401);
    expect(await auditRecord(forged.requestId)).toMatchObject({ actor_id: null, outcome: 'denied', denial_reason: 'invalid-token' });

    const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    expectProblem((await me(app, unsigned)).response, 401);

    const otherApp = await buildTestApp();
    expectProblem((await me(app, tokenFor(otherApp, admin))).response, 401);

    const garbage = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expectProblem(noSecrets(garbage), 401);
    expectProblem(noSecrets(await app.inject({ method: 'GET', url: '/v1/me' })), 401);
  });

  it('never returns a password hash from login, /v1/me or the staff routes', async () => {
    const { clinic, admin } = await createClinic();
    const { response } = await login(app, { clinic: clinic.slug, email: admin.email, password: TEST_PASSWORD }, freshAddress());
    const token = response.json().accessToken as string;
    const created = noSecrets(
      await app.inject({
        method: 'POST',
        url: '/v1/staff',
        headers: bearer(token),
        payload: { email: 'hash-check@example.test', displayName: 'Synthetic Hash Check', roles: ['therapist'], password: TEST_PASSWORD },
      }),
    );
    expect(created.statusCode).toBe(201);
    const bodies = [
      response,
      (await me(app, token)).response,
      created,
      noSecrets(await app.inject({ method: 'GET', url: '/v1/staff', headers: bearer(token) })),
      noSecrets(await app.inject({ method: 'GET', url: `/v1/staff/${created.json().id}`, headers: bearer(token) })),
    ].map((reply) => reply.body);
    const [stored] = await query<{ password_hash: string }>(sql`select password_hash from staff where id = ${admin.id}`);
    expect(stored?.password_hash).toMatch(/^\$argon2id\$/);
    for (const body of bodies) {
      expect(body).not.toContain(stored?.password_hash);
      expect(body).not.toContain(TEST_PASSWORD);
    }
  });
});
