import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RequestContext } from '../lib/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
}

/** Accept a caller's X-Request-Id when it is a sane token; otherwise the app's own id stands. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The context every request carries from its first hook to its audit record. */
export function createRequestContext(request: FastifyRequest, serviceVersion: string): RequestContext {
  const routed = request.routeOptions?.url !== undefined;
  const config: FastifyContextConfig = routed ? request.routeOptions.config : {};
  const userAgent = request.headers['user-agent'];
  return {
    requestId: request.id,
    route: {
      method: request.method,
      pattern: routed ? (request.routeOptions.url as string) : (request.url.split('?')[0] ?? '').slice(0, 2048),
      audit: routed ? (config.audit ?? false) : 'request.unrouted',
      successStatus: config.successStatus ?? 200,
      serviceVersion,
    },
    ip: request.ip,
    userAgent: userAgent ? userAgent.slice(0, 512) : null,
    receivedAt: new Date(),
    actor: null,
    clinicId: null,
    basis: null,
    audit: { clientIds: [], written: false },
  };
}

export default fp(
  async (app: FastifyInstance, opts: { serviceVersion: string }) => {
    app.decorateRequest('ctx', null as unknown as RequestContext);
    app.addHook('onRequest', async (request, reply) => {
      request.ctx = createRequestContext(request, opts.serviceVersion);
      reply.header('x-request-id', request.id);
    });
  },
  { name: 'request-context' },
);
