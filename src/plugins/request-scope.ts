import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/client.js';
import { RequestScope } from '../db/scope.js';
import { AppError } from '../lib/errors.js';
import { PROBLEM_CONTENT_TYPE, problemFor } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's transaction under row-level security; null when the database has none (PGlite, or turned off). */
    scope: RequestScope | null;
    /**
     * The database handle a route passes to its services: the request's transaction while its
     * scope is open (src/db/scope.ts), else the pool.
     */
    readonly db: Db;
  }
}

/**
 * Every authenticated request runs in one transaction as the application role, scoped to the
 * caller's clinic (see src/db/scope.ts): the token check opens it, the handler's queries run in it,
 * and it ends before the response leaves (requestCommitPlugin) — committed for a change, rolled
 * back for a read or a refusal.
 */
export default fp(
  async (app: FastifyInstance, opts: { root: Db; enabled: boolean }) => {
    app.decorateRequest('scope', null);
    app.decorateRequest('db', {
      getter(this: FastifyRequest) {
        return this.scope?.db ?? opts.root;
      },
    });
    if (!opts.enabled) return;

    app.addHook('onRequest', async (request) => {
      request.scope = new RequestScope(opts.root);
    });

    // A request that ends without a response (the client went away) still releases its connection.
    const release = async (request: { scope: RequestScope | null }) => {
      await request.scope?.end('rollback');
    };
    app.addHook('onResponse', release);
    app.addHook('onRequestAbort', release);
  },
  { name: 'request-scope', dependencies: ['request-context', 'errors'] },
);

/**
 * The commit, as an onSend hook of its own: registered after the plugins whose onSend work belongs
 * in the request's transaction (the idempotency record) and before the audit plugin's. A change's
 * own audit record is written inside the transaction, so this commit makes both durable; if it
 * fails, the client gets a 503 and the audit plugin records that outcome instead.
 */
export const requestCommitPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', async (request, reply, payload) => {
      const scope = request.scope;
      if (!scope?.tx) return payload;
      try {
        // Changes (and their audit records) are committed before the answer leaves; a refused
        // change is rolled back, and so is a read, which changed nothing (its ROLLBACK travels with
        // the connection's next BEGIN).
        const changed = request.ctx.audit.written || request.method !== 'GET';
        await scope.end(!changed ? 'read' : reply.statusCode < 400 ? 'commit' : 'rollback');
        return payload;
      } catch (error) {
        request.log.error({ err: error }, 'request transaction failed to commit; response withheld');
        request.ctx.audit.written = false;
        const problem = problemFor(
          new AppError('unavailable', 'The change could not be committed; try again shortly', { cause: error, retryAfter: 5 }),
          request.id,
        );
        reply.code(503).type(PROBLEM_CONTENT_TYPE).header('retry-after', '5').removeHeader('etag').removeHeader('location');
        return JSON.stringify(problem);
      }
    });
  },
  { name: 'request-commit', dependencies: ['request-scope'] },
);
