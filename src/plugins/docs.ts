import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { documentIdempotencyKey } from './idempotency.js';

type Transformed = ReturnType<typeof jsonSchemaTransform>;

/**
 * Error responses are sent as application/problem+json (sendProblem); the document says so,
 * instead of the generator's default application/json. Documentation only: the routes' own
 * schemas are untouched.
 */
function asProblemJson(transformed: Transformed): Transformed {
  const response = (transformed.schema as { response?: Record<string, unknown> }).response;
  if (!response) return transformed;
  const documented = Object.fromEntries(
    Object.entries(response).map(([status, schema]) =>
      /^[45]xx$/i.test(status) ? [status, { content: { 'application/problem+json': { schema } } }] : [status, schema],
    ),
  );
  return { ...transformed, schema: { ...transformed.schema, response: documented } };
}

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
      transform: (input) => documentIdempotencyKey(input.route, asProblemJson(jsonSchemaTransform(input))),
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
