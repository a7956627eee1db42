import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { addressAllowlist, type Config } from '../../config.js';
import { AppError } from '../../lib/errors.js';
import { problemResponse } from '../../plugins/errors.js';

type MetricsAccess = Pick<Config, 'METRICS_TOKEN' | 'METRICS_ALLOW'>;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A scrape is admitted from a connecting address in METRICS_ALLOW, or with
 * `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). The address is the socket's:
 * forwarding headers are not trusted.
 */
function scrapeGuard(config: MetricsAccess) {
  const allowed = addressAllowlist(config.METRICS_ALLOW);
  const token = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : null;
  return (request: FastifyRequest) => {
    if (allowed.check(request.ip, isIP(request.ip) === 6 ? 'ipv6' : 'ipv4')) return true;
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    return token !== null && given !== undefined && timingSafeEqual(digest(given), token);
  };
}

/** The Prometheus scrape: public and unaudited like the health probes (it carries no PHI), guarded by address or token. */
export const metricsRoutes: FastifyPluginAsyncZod<{ config: MetricsAccess }> = async (app, { config }) => {
  const admitted = scrapeGuard(config);
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Metrics in the Prometheus text format: requests and latency by route pattern and status, audit batches, the database pool, the process. Served to addresses in METRICS_ALLOW or with Authorization: Bearer <METRICS_TOKEN>; anyone else gets 403',
        security: [],
        response: {
          200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
          403: problemResponse,
        },
      },
      config: { access: 'public', audit: false },
    },
    async (request, reply) => {
      if (!admitted(request)) throw new AppError('forbidden', 'Metrics are served to allowed addresses or with the metrics token');
      return reply.type(app.metrics.contentType).send(await app.metrics.metrics());
    },
  );
};
