import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';

/** Headers a browser front-end may send and read; everything else stays invisible to it. */
const corsHeaders = {
  allowedHeaders: ['accept', 'authorization', 'content-type', 'idempotency-key', 'if-match', 'x-request-id'],
  exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id'],
};

/**
 * Security headers on every response: helmet's defaults (HSTS, nosniff, frame, referrer and
 * cross-origin policies, a same-origin Content-Security-Policy the /docs page works under).
 * CORS only for the origins CORS_ORIGINS names; with none, no CORS header is ever sent and
 * browsers keep the API to its own origin.
 */
export default fp(
  async (app: FastifyInstance, opts: { config: Pick<Config, 'CORS_ORIGINS'> }) => {
    // Plain-HTTP deployments (the embedded demo) would have the browser rewrite /docs assets to https.
    await app.register(helmet, { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
    if (opts.config.CORS_ORIGINS.length === 0) return;

    // @fastify/cors answers preflights in its onRequest hook, before authentication; its `OPTIONS *`
    // route only makes them routable. A preflight carries no credentials and returns no data.
    app.addHook('onRoute', (route) => {
      if (route.method === 'OPTIONS' && route.url === '*') route.config = { ...route.config, access: 'public', audit: false };
    });
    await app.register(cors, {
      origin: opts.config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      ...corsHeaders,
      maxAge: 600,
      // A bare OPTIONS request gets the same empty 204, not a text/plain 400.
      strictPreflight: false,
    });
  },
  { name: 'security', dependencies: ['access'] },
);
