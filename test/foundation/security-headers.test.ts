import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildTestApp, newRequestId, query } from '../helpers/app.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const allowed = 'https://app.dialectic.example';
const foreign = 'https://elsewhere.example';
const withCors = await buildTestApp({ CORS_ORIGINS: `${allowed}, https://admin.dialectic.example` });

const auditRows = (requestId: string) => query(sql`select http_status from audit_events where request_id = ${requestId}`);

describe('security headers', () => {
  it('are on JSON answers, problems included', async () => {
    for (const response of [await app.inject({ method: 'GET', url: '/healthz' }), await app.inject({ method: 'GET', url: '/v1/me' })]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'strict-transport-security': expect.stringMatching(/max-age=\d+/),
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    }
    expectProblem(await app.inject({ method: 'GET', url: '/v1/me' }), 401);
  });

  it('leave /docs working: the page, its scripts and the document it loads', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    // The page loads only same-origin scripts, which the policy allows.
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((match) => new URL(match[1] as string, 'http://api.test/docs/'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.origin).toBe('http://api.test');
      expect((await app.inject({ method: 'GET', url: script.pathname })).statusCode).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).json().openapi).toBe('3.1.0');
  });
});

describe('CORS', () => {
  it('sends no CORS header at all by default, and a preflight finds no route', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: allowed } });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/v1/clients',
      headers: { origin: allowed, 'access-control-request-method': 'POST' },
    });
    expectProblem(preflight, 404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('echoes an allowed origin and ignores a foreign one', async () => {
    const ok = await withCors.inject({ method: 'GET', url: '/v1/me', headers: { origin: allowed } });
    expectProblem(ok, 401);
    expect(ok.headers['access-control-allow-origin']).toBe(allowed);
    expect(ok.headers.vary).toMatch(/origin/i);
    expect(ok.headers['access-control-expose-headers']).toContain('x-request-id');
    const other = await withCors.inject({ method: 'GET', url: '/v1/me', headers: { origin: foreign } });
    expect(other.statusCode).toBe(401);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight for an allowed origin before authentication, unaudited; a foreign origin gets no allowance', async () => {
    const preflight = (origin: string) => {
      const requestId = newRequestId();
      const headers = {
        origin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, if-match, content-type',
        'x-request-id': requestId,
      };
      return withCors.inject({ method: 'OPTIONS', url: '/v1/clients/01a00000-0000-7000-8000-000000000000', headers }).then((response) => ({
        response,
        requestId,
      }));
    };
    const { response, requestId } = await preflight(allowed);
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(allowed);
    expect(String(response.headers['access-control-allow-methods'])).toContain('PATCH');
    expect(String(response.headers['access-control-allow-headers'])).toMatch(/authorization.*if-match|if-match.*authorization/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(await auditRows(requestId)).toEqual([]);

    const refused = await preflight(foreign);
    expect(refused.response.headers['access-control-allow-origin']).toBeUndefined();

    // The actual request after the preflight is authenticated and audited as usual.
    const actualId = newRequestId();
    const actual = await withCors.inject({ method: 'GET', url: '/v1/me', headers: { origin: allowed, 'x-request-id': actualId } });
    expect(actual.statusCode).toBe(401);
    expect(await auditRows(actualId)).toEqual([{ http_status: 401 }]);
  });

  it('takes only exact origins in CORS_ORIGINS', () => {
    const secrets = { JWT_SECRET: 'j'.repeat(32), AUDIT_HMAC_KEY: 'a'.repeat(32), DATABASE_URL: 'postgres://u@localhost/db' };
    expect(loadConfig(secrets).CORS_ORIGINS).toEqual([]);
    expect(loadConfig({ ...secrets, CORS_ORIGINS: `${allowed},http://localhost:5173` }).CORS_ORIGINS).toEqual([
      allowed,
      'http://localhost:5173',
    ]);
    for (const bad of ['*', 'app.example', `${allowed}/`, `${allowed}/path`]) {
      expect(() => loadConfig({ ...secrets, CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
