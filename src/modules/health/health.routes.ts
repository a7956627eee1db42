import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { AppError } from '../../lib/errors.js';
import { problemResponse } from '../../plugins/errors.js';

const healthResponse = z.object({ status: z.literal('ok') });
const readyResponse = z.object({ status: z.literal('ready'), database: z.enum(['postgres', 'pglite']) });

/** Operational probes: public, unaudited (they touch no PHI), answered without authentication. */
export const healthRoutes: FastifyPluginAsyncZod<{ database: Database }> = async (app, { database }) => {
  app.get(
    '/healthz',
    {
      schema: { tags: ['operations'], summary: 'The process is up', security: [], response: { 200: healthResponse } },
      config: { access: 'public', audit: false },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'The database answers',
        security: [],
        response: { 200: readyResponse, 503: problemResponse },
      },
      config: { access: 'public', audit: false },
    },
    async () => {
      try {
        await withTimeout(database.ping(), 3000);
      } catch (error) {
        throw new AppError('unavailable', 'The database is not answering', { cause: error, retryAfter: 5 });
      }
      return { status: 'ready' as const, database: database.kind };
    },
  );
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
