import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp } from '../helpers/app.js';
import { createClinic } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const JWT_SECRET = 'jwt-hardening-test-secret-0123456789abcdef';
const SKEW = 30;
const app = await buildTestApp({ JWT_SECRET, JWT_CLOCK_SKEW_SECONDS: String(SKEW) });
const exact = await buildTestApp({ JWT_SECRET, JWT_CLOCK_SKEW_SECONDS: '0' });

const hashes = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;

/** A token signed with the service's own secret, with any algorithm and any claims. */
function sign(claims: Record<string, unknown>, alg: keyof typeof hashes = 'HS256') {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode({ alg, typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac(hashes[alg], JWT_SECRET).update(unsigned).digest('base64url')}`;
}

async function claimsFor() {
  const { admin } = await createClinic();
  const now = Math.floor(Date.now() / 1000);
  return { now, claims: { sub: admin.id, cid: admin.clinicId, roles: admin.roles, jti: uuidv7(), iat: now, exp: now + 600 } };
}

async function me(target: App, token: string) {
  return caller(target)(token, 'GET', '/v1/me');
}

async function expectRefused(target: App, token: string, reason: string) {
  const { response, requestId } = await me(target, token);
  expectProblem(response, 401);
  expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', actor_id: null, denial_reason: reason });
}

describe('bearer tokens', () => {
  it('are accepted as the service signs them: HS256 with every claim', async () => {
    const { claims } = await claimsFor();
    expect((await me(app, sign(claims))).response.statusCode).toBe(200);
  });

  it('must be HS256: the same secret under HS384 or HS512 is refused, and so is an unsigned token', async () => {
    const { claims } = await claimsFor();
    await expectRefused(app, sign(claims, 'HS384'), 'invalid-token');
    await expectRefused(app, sign(claims, 'HS512'), 'invalid-token');
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    await expectRefused(app, `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`, 'invalid-token');
  });

  it.each(['exp', 'iat', 'jti', 'sub', 'cid', 'roles'])('must carry %s', async (claim) => {
    const { claims } = await claimsFor();
    const { [claim]: _left, ...rest } = claims as Record<string, unknown>;
    await expectRefused(app, sign(rest), 'invalid-token');
  });

  it(`are still accepted within ${SKEW} seconds of clock skew, and not beyond`, async () => {
    const { now, claims } = await claimsFor();
    // Expired by another instance's clock a little ahead of this one.
    expect((await me(app, sign({ ...claims, iat: now - 600, exp: now - 10 }))).response.statusCode).toBe(200);
    await expectRefused(app, sign({ ...claims, iat: now - 600, exp: now - SKEW - 5 }), 'expired-token');
    // Issued by an instance whose clock runs a little ahead.
    expect((await me(app, sign({ ...claims, iat: now + 10, exp: now + 600 }))).response.statusCode).toBe(200);
    await expectRefused(app, sign({ ...claims, iat: now + SKEW + 30, exp: now + 600 }), 'invalid-token');
  });

  it('expire on the second, and may not be issued in the future, without skew', async () => {
    const { now, claims } = await claimsFor();
    await expectRefused(exact, sign({ ...claims, iat: now - 600, exp: now - 1 }), 'expired-token');
    const { response } = await me(exact, sign({ ...claims, iat: now, exp: now + 60 }));
    expect(response.statusCode).toBe(200);
    await expectRefused(exact, sign({ ...claims, iat: now + 5 }), 'invalid-token');
  });

  it('allow a clock skew of at most 300 seconds', () => {
    const base = { JWT_SECRET, AUDIT_HMAC_KEY: 'a'.repeat(32), DATABASE_URL: 'postgres://u@localhost/db' };
    expect(loadConfig(base).JWT_CLOCK_SKEW_SECONDS).toBe(30);
    expect(loadConfig({ ...base, JWT_CLOCK_SKEW_SECONDS: '300' }).JWT_CLOCK_SKEW_SECONDS).toBe(300);
    expect(() => loadConfig({ ...base, JWT_CLOCK_SKEW_SECONDS: '301' })).toThrow(/JWT_CLOCK_SKEW_SECONDS/);
  });
});
