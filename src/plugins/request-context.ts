import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { RequestContext } from '../lib/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
}

/** Accept a caller's X-Request-Id when it is a sane token; otherwise the app's own id stands. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export default fp(
  async (app: FastifyInstance, opts: { serviceVersion: string }) => {
    app.decorateRequest('ctx', null as unknown as RequestContext);
    app.addHook('onRequest', async (request, reply) => {
      const config = request.routeOptions.config;
      const userAgent = request.headers['user-agent'];
      request.ctx = {
        requestId: request.id,
        route: {
          method: request.method,
          pattern: request.routeOptions.url ?? request.url.split('?')[0] ?? '',
          audit: request.routeOptions.url ? (config.audit ?? false) : 'request.unrouted',
          successStatus: config.successStatus ?? 200,
          serviceVersion: opts.serviceVersion,
        },
        ip: request.ip,
        userAgent: userAgent ? userAgent.slice(0, 512) : null,
        receivedAt: new Date(),
        actor: null,
        clinicId: null,
        basis: null,
        audit: { clientIds: [], written: false },
      };
      reply.header('x-request-id', request.id);
    });
  },
  { name: 'request-context' },
);
