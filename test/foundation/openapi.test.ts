import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPI } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTestApp } from '../helpers/app.js';
import { buildOpenApiYaml } from '../helpers/openapi.js';

describe('OpenAPI', () => {
  it('the committed openapi.yaml is what the code generates (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(await buildOpenApiYaml());
  });

  it('is a valid OpenAPI 3.1 document and documents every route', async () => {
    const document = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as OpenAPI.Document;
    const validated = (await SwaggerParser.validate(structuredClone(document))) as { openapi: string; paths: Record<string, object> };
    expect(validated.openapi).toBe('3.1.0');
    expect(Object.keys(validated.paths)).toEqual(
      expect.arrayContaining(['/v1/auth/login', '/v1/me', '/v1/staff', '/v1/staff/{id}', '/v1/audit/verify']),
    );
    const createStaff = (
      validated.paths['/v1/staff'] as { post: { requestBody: unknown; responses: Record<string, { content?: object }> } }
    ).post;
    expect(Object.keys(createStaff.responses)).toEqual(expect.arrayContaining(['201', '4XX', '5XX']));
    // Errors are documented with the media type they are sent with.
    for (const [path, operations] of Object.entries(validated.paths as Record<string, Record<string, { responses?: object }>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, { content?: object }>)) {
          if (/^[45]XX$/.test(status))
            expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual(['application/problem+json']);
        }
      }
    }
  });

  it('is served at /openapi.json with interactive docs at /docs', async () => {
    const app = await buildTestApp();
    const json = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(json.statusCode).toBe(200);
    expect(json.json().info.title).toBe('Dialectic API');
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });
});
