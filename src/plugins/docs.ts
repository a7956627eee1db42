import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { documentIdempotencyKey } from './idempotency.js';

/** OpenAPI 3.1 generated from the routes' zod schemas; served at /openapi.json, browsable at /docs. */
export default fp(
  async (app: FastifyInstance, opts: { version: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Dialectic API',
          version: opts.version,
          description:
            'REST backend for Dialectical Behavior Therapy clinics. Every access is authorized by an explicit rule and audited. Errors are application/problem+json (RFC 9457).',
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
      transform: (input) => documentIdempotencyKey(input.route, jsonSchemaTransform(input)),
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(async (docs) => {
      // The UI's own routes are public, static and carry no PHI: mark them so the route check passes.
      docs.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: 'public', audit: false };
        route.schema = { ...route.schema, hide: true };
      });
      await docs.register(swaggerUi, { routePrefix: '/docs' });
    });
    app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public', audit: false } }, async () => app.swagger());
  },
  { name: 'docs' },
);
