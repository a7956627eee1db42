import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, newRequestId, query, target } from '../helpers/app.js';
import { bearer, createClinic, tokenFor } from '../helpers/factories.js';

const metricsToken = randomBytes(24).toString('hex');
const app = await buildTestApp({ METRICS_TOKEN: metricsToken });
/** TEST-NET-3 (RFC 5737): outside the default allowlist. */
const outside = '203.0.113.7';

function scrape(on: App, headers: Record<string, string> = bearer(metricsToken), remoteAddress = outside, requestId = newRequestId()) {
  return on.inject({ method: 'GET', url: '/metrics', headers: { ...headers, 'x-request-id': requestId }, remoteAddress });
}

/** The value of the sample `name{labels}` in a Prometheus text body, or undefined when it is absent. */
function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = match[2] ? match[2].split(',') : [];
    if (given.length === wanted.length && wanted.every((label) => given.includes(label))) return Number(match[3]);
  }
  return undefined;
}

const staffById = (status: string) => ({ method: 'GET', route: '/v1/staff/:id', status });

describe('GET /metrics', () => {
  it('counts requests and their latency by route pattern and status, never by raw URL, and keeps counting', async () => {
    const { admin } = await createClinic();
    const auth = bearer(tokenFor(app, admin));
    const before = (await scrape(app)).body;
    const found = sample(before, 'http_requests_total', staffById('200')) ?? 0;
    const missing = sample(before, 'http_requests_total', staffById('404')) ?? 0;
    const unmatched = sample(before, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }) ?? 0;

    for (let i = 0; i < 2; i++) expect((await app.inject({ url: `/v1/staff/${admin.id}`, headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ url: `/v1/staff/${uuidv7()}`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ url: `/no-such-route/${admin.id}` })).statusCode).toBe(404);

    const response = await scrape(app);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const after = response.body;
    expect(sample(after, 'http_requests_total', staffById('200'))).toBe(found + 2);
    expect(sample(after, 'http_requests_total', staffById('404'))).toBe(missing + 1);
    expect(sample(after, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(unmatched + 1);
    expect(sample(after, 'http_request_duration_seconds_count', staffById('200'))).toBe(found + 2);
    expect(sample(after, 'http_request_duration_seconds_sum', staffById('200'))).toBeGreaterThan(0);
    expect(sample(after, 'http_request_duration_seconds_bucket', { ...staffById('200'), le: '+Inf' })).toBe(found + 2);
    expect(sample(after, 'http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(admin.id);

    await app.inject({ url: `/v1/staff/${admin.id}`, headers: auth });
    expect(sample((await scrape(app)).body, 'http_requests_total', staffById('200'))).toBe(found + 3);
  });

  it('observes audit group-commit batches after a read, and reports the database pool and the process', async () => {
    const { admin } = await createClinic();
    await app.auditWriter.drain();
    const before = (await scrape(app)).body;
    const batches = sample(before, 'audit_batch_size_count') ?? 0;
    const records = sample(before, 'audit_batch_size_sum') ?? 0;

    expect((await app.inject({ url: '/v1/me', headers: bearer(tokenFor(app, admin)) })).statusCode).toBe(200);
    await app.auditWriter.drain();

    const after = (await scrape(app)).body;
    const newBatches = (sample(after, 'audit_batch_size_count') ?? 0) - batches;
    expect(newBatches).toBeGreaterThanOrEqual(1);
    expect((sample(after, 'audit_batch_size_sum') ?? 0) - records).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'audit_flush_duration_seconds_count')).toBe(batches + newBatches);
    expect(sample(after, 'audit_flush_duration_seconds_sum')).toBeGreaterThan(0);

    if (target.kind === 'postgres') {
      expect(sample(after, 'db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
      expect(sample(after, 'db_pool_connections', { state: 'waiting' })).toBe(0);
      expect(sample(after, 'db_pool_connections', { state: 'ended_read' })).toBeGreaterThanOrEqual(0);
    } else {
      // The embedded database has no pool, so the gauge is not registered at all.
      expect(after).not.toContain('db_pool_connections');
    }
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('refuses a scrape from outside the allowlist without the metrics token, as an unaudited problem', async () => {
    const { admin } = await createClinic();
    const refusals = [
      {},
      bearer('not-the-metrics-token'),
      bearer(`${metricsToken}x`),
      bearer(metricsToken.slice(0, -1)),
      { authorization: metricsToken },
      { authorization: `Basic ${metricsToken}` },
      bearer(tokenFor(app, admin)),
    ];
    for (const headers of refusals) {
      const requestId = newRequestId();
      const response = await scrape(app, headers, outside, requestId);
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 403, instance: requestId });
      expect(response.body).not.toContain('http_requests_total');
      expect(await query(`SELECT 1 FROM audit_events WHERE request_id = '${requestId}'`)).toHaveLength(0);
    }
    const admitted = newRequestId();
    expect((await scrape(app, bearer(metricsToken), outside, admitted)).statusCode).toBe(200);
    expect(await query(`SELECT 1 FROM audit_events WHERE request_id = '${admitted}'`)).toHaveLength(0);
  });

  it('admits the loopback addresses by default, and the listed ones when METRICS_ALLOW names them', async () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect((await scrape(app, {}, address)).statusCode).toBe(200);

    const listed = await buildTestApp({ METRICS_ALLOW: '10.0.0.0/8, 192.0.2.10' });
    for (const address of ['10.20.30.40', '::ffff:10.1.1.1', '192.0.2.10'])
      expect((await scrape(listed, {}, address)).statusCode).toBe(200);
    for (const address of ['192.0.2.11', '11.0.0.1', '127.0.0.1']) expect((await scrape(listed, {}, address)).statusCode).toBe(403);
    // No token is configured, so no token opens it.
    expect((await scrape(listed, bearer(metricsToken), '127.0.0.1')).statusCode).toBe(403);

    const tokenOnly = await buildTestApp({ METRICS_ALLOW: 'none', METRICS_TOKEN: metricsToken });
    expect((await scrape(tokenOnly, {}, '127.0.0.1')).statusCode).toBe(403);
    expect((await scrape(tokenOnly, bearer(metricsToken), '127.0.0.1')).statusCode).toBe(200);
  });

  it("keeps each app's counts in its own registry", async () => {
    const { admin } = await createClinic();
    await app.inject({ url: `/v1/staff/${admin.id}`, headers: bearer(tokenFor(app, admin)) });
    const other = await buildTestApp({ METRICS_TOKEN: metricsToken });
    const body = (await scrape(other)).body;
    expect(sample((await scrape(app)).body, 'http_requests_total', staffById('200'))).toBeGreaterThanOrEqual(1);
    expect(sample(body, 'http_requests_total', staffById('200'))).toBeUndefined();
    expect(sample(body, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

describe('metrics configuration', () => {
  const base = { JWT_SECRET: 'j'.repeat(32), AUDIT_HMAC_KEY: 'a'.repeat(32), DATABASE_URL: 'postgres://u@localhost/db' };

  it('allows the loopback addresses and needs no token by default', () => {
    const config = loadConfig(base);
    expect(config.METRICS_ALLOW).toBe('127.0.0.1/32,::1/128');
    expect(config.METRICS_TOKEN).toBeUndefined();
  });

  it('refuses a short token and an allowlist that is not addresses or CIDR ranges', () => {
    for (const bad of ['10.0.0.0/33', 'localhost', '10.0.0.1,,10.0.0.2', '::1/129', '10.0.0.0/']) {
      expect(() => loadConfig({ ...base, METRICS_ALLOW: bad }), bad).toThrow(/METRICS_ALLOW/);
    }
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 32 characters/);
    expect(loadConfig({ ...base, METRICS_ALLOW: '10.0.0.0/8, 2001:db8::/32, 192.0.2.1' }).METRICS_ALLOW).toContain('2001:db8::/32');
  });
});
