import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditActions } from '../src/audit/actions.js';
import { uuidv7 } from '../src/lib/ids.js';
import { buildTestApp, newRequestId, query } from './helpers/app.js';
import { bearer, createClinic, createStaffMember, signToken, tokenFor } from './helpers/factories.js';
import { describeRoutes, fillPath, resourceFactories, rolesFor, routeSamples } from './helpers/route-contract.js';

const secret = randomBytes(32).toString('hex');
const app = await buildTestApp({ JWT_SECRET: secret });
const routes = describeRoutes(app);
const guarded = routes.filter((route) => route.access !== 'public');

/** Operational probes, metrics and the API docs: public, static, health or counters only, and the only unaudited routes. */
const unaudited = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json'];

async function auditFor(requestId: string) {
  return query<{ outcome: string; http_status: number; denial_reason: string | null }>(
    `SELECT outcome, http_status, denial_reason FROM audit_events WHERE request_id = '${requestId}'`,
  );
}

async function send(route: { method: string; url: string }, path: string, headers: Record<string, string>) {
  const sample = routeSamples[`${route.method} ${route.url}`] ?? {};
  const requestId = newRequestId();
  const response = await app.inject({
    method: route.method as 'GET',
    url: sample.query ? `${path}?${new URLSearchParams(sample.query)}` : path,
    headers: { ...sample.headers, ...headers, 'x-request-id': requestId },
    ...(sample.body === undefined ? {} : { payload: sample.body as object }),
  });
  return { response, records: await auditFor(requestId) };
}

describe('route contract', () => {
  it('every route declares an access rule and an audit action; only probes and docs go unaudited', () => {
    expect(guarded.length).toBeGreaterThan(5);
    for (const route of routes) {
      expect(route.access, `${route.method} ${route.url}`).toBeDefined();
      if (route.audit === false) {
        const name = `${route.method} ${route.url}`;
        expect(unaudited.includes(name) || route.url.startsWith('/docs'), name).toBe(true);
      } else {
        expect(Object.keys(auditActions)).toContain(route.audit);
      }
    }
  });

  it('a route without a rule or with an unknown one stops start-up', async () => {
    const { buildApp } = await import('../src/app.js');
    const { testConfig, testDatabase } = await import('./helpers/app.js');
    for (const config of [{}, { access: 'no-such-rule', audit: 'staff.read' }, { access: 'staff.manage', audit: 'no-such-action' }]) {
      const broken = await buildApp(testConfig(), { database: await testDatabase(), logger: false });
      broken.get('/v1/unguarded', { config: config as never }, async () => ({}));
      await expect(broken.ready()).rejects.toThrow(/access rule|audit action/);
      await broken.close();
    }
  });

  it('every route that takes a body or a required query has a sample request in the contract table', () => {
    const missing = guarded.filter((route) => {
      const sample = routeSamples[`${route.method} ${route.url}`];
      return (route.hasBody && !sample) || (route.needsQuery && !sample?.query);
    });
    expect(missing.map((route) => `${route.method} ${route.url}`)).toEqual([]);
  });

  describe.each(guarded.map((route) => [`${route.method} ${route.url}`, route] as const))('%s', (_name, route) => {
    const path = fillPath(route.url, uuidv7());

    it('401 without a token, with an expired token and with a forged one — each audited once as denied', async () => {
      const { admin } = await createClinic();
      const claims = { sub: admin.id, cid: admin.clinicId, roles: ['admin'], jti: uuidv7() };
      const now = Math.floor(Date.now() / 1000);
      const expired = signToken(secret, { ...claims, iat: now - 3600, exp: now - 60 });
      const forged = signToken(randomBytes(32).toString('hex'), { ...claims, iat: now, exp: now + 600 });
      for (const headers of [{}, bearer(expired), bearer(forged), { authorization: 'Basic abc' }]) {
        const { response, records } = await send(route, path, headers);
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toMatch(/problem\+json/);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ outcome: 'denied', http_status: 401 });
      }
    });

    const { allowed, refused } = rolesFor(route.access);
    if (refused) {
      it(`403 for a ${refused}, audited once as denied`, async () => {
        const { clinic } = await createClinic();
        const member = await createStaffMember(clinic.id, [refused]);
        const { response, records } = await send(route, path, bearer(tokenFor(app, member)));
        expect(response.statusCode).toBe(403);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({
          outcome: 'denied',
          http_status: 403,
          denial_reason: expect.stringMatching(/^role-not-permitted/),
        });
      });
    }

    const owner = route.url.split('/:')[0] as string;
    if (route.url.includes('/:')) {
      it("another clinic's id answers 404, audited once", async () => {
        const factory = resourceFactories[owner];
        expect(factory, `no factory for ${owner}`).toBeDefined();
        const other = await createClinic();
        const foreignId = await (factory as (clinicId: string) => Promise<string>)(other.clinic.id);
        const { clinic } = await createClinic();
        const member = await createStaffMember(clinic.id, [allowed]);
        const { response, records } = await send(route, fillPath(route.url, foreignId), bearer(tokenFor(app, member)));
        expect(response.statusCode).toBe(404);
        expect(records).toHaveLength(1);
        expect(records[0]).toMatchObject({ outcome: 'failure', http_status: 404 });
      });
    }
  });
});
