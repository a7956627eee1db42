import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, newRequestId } from '../helpers/app.js';
import { bearer, createClinic, signToken, tokenFor } from '../helpers/factories.js';
import { auditRecord } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const LIMIT = 3;
const app = await buildTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT), RATE_LIMIT_PER_ADDRESS_PER_MINUTE: String(LIMIT) });

let addresses = 0;
/** Each test its own source address, so the counters of one do not reach into another. */
const freshAddress = () => `10.77.${Math.floor(addresses / 250)}.${(addresses++ % 250) + 1}`;

function send(target: App, remoteAddress: string, headers: Record<string, string> = {}, url = '/v1/me') {
  const requestId = newRequestId();
  return target
    .inject({ method: 'GET', url, remoteAddress, headers: { ...headers, 'x-request-id': requestId } })
    .then((response) => ({ response, requestId }));
}

function expectRateLimited(response: Awaited<ReturnType<App['inject']>>) {
  const body = expectProblem(response, 429);
  expect(body.type).toBe('/problems/rate-limited');
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(body.detail).toContain(`${retryAfter} seconds`);
}

describe('rate limiting by source address', () => {
  it('answers a 429 problem with Retry-After past the limit, audited as denied; another address is unaffected', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT; i++) expect((await send(app, address)).response.statusCode).toBe(401);
    const { response, requestId } = await send(app, address);
    expectRateLimited(response);
    expect(await auditRecord(requestId)).toMatchObject({
      http_status: 429,
      outcome: 'denied',
      denial_reason: 'rate-limited-address',
      actor_id: null,
      source_ip: address,
    });
    expect((await send(app, freshAddress())).response.statusCode).toBe(401);
  });

  it('counts unknown routes and invented tokens against the address, each a new one', async () => {
    const address = freshAddress();
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < LIMIT; i++) {
      const invented = signToken(randomBytes(32).toString('hex'), {
        sub: uuidv7(),
        cid: uuidv7(),
        roles: [],
        jti: uuidv7(),
        iat: now,
        exp: now + 60,
      });
      expect((await send(app, address, bearer(invented))).response.statusCode).toBe(401);
    }
    expectRateLimited((await send(app, address, {}, '/v1/no-such-route')).response);
  });

  it('leaves the unaudited probes and docs alone', async () => {
    const address = freshAddress();
    for (let i = 0; i <= LIMIT; i++) expect((await send(app, address, {}, '/healthz')).response.statusCode).toBe(200);
    expect((await send(app, address, {}, '/openapi.json')).response.statusCode).toBe(200);
    expect((await send(app, address)).response.statusCode).toBe(401);
  });
});

describe('rate limiting by token', () => {
  it('limits each token on its own, without spending its address, and names the token in the audit record', async () => {
    const { clinic, admin } = await createClinic();
    const address = freshAddress();
    const first = tokenFor(app, admin);
    for (let i = 0; i < LIMIT; i++) expect((await send(app, address, bearer(first))).response.statusCode).toBe(200);
    const { response, requestId } = await send(app, address, bearer(first));
    expectRateLimited(response);
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({ http_status: 429, outcome: 'denied', denial_reason: 'rate-limited-token', clinic_id: clinic.id });
    expect(record.details).toMatchObject({ staffId: admin.id, tokenId: app.jwt.decode<{ jti: string }>(first)?.jti });

    // A second token of the same person from the same address has its own allowance,
    expect((await send(app, address, bearer(tokenFor(app, admin)))).response.statusCode).toBe(200);
    // and the address has spent none of its own.
    for (let i = 0; i < LIMIT; i++) expect((await send(app, address)).response.statusCode).toBe(401);
  });

  it('is off when both limits are 0', async () => {
    const unlimited = await buildTestApp({ RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '0' });
    const { admin } = await createClinic();
    const token = tokenFor(unlimited, admin);
    const address = freshAddress();
    for (let i = 0; i < LIMIT * 3; i++) {
      expect((await send(unlimited, address, bearer(token))).response.statusCode).toBe(200);
      expect((await send(unlimited, address)).response.statusCode).toBe(401);
    }
  });
});
