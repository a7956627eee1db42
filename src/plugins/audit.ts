import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { buildAuditRow } from '../audit/record.js';
import { AuditSealer } from '../audit/sealer.js';
import { AuditWriter, auditUnavailable } from '../audit/writer.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { PROBLEM_CONTENT_TYPE, problemFor, toAppError } from './errors.js';
import { createRequestContext } from './request-context.js';

declare module 'fastify' {
  interface FastifyInstance {
    auditWriter: AuditWriter;
    auditSealer: AuditSealer;
  }
}

/**
 * Fail closed: a response leaves only after its audit record is committed. Requests that changed
 * data have written theirs inside their own transaction; every other outcome (reads, denials,
 * validation errors, unknown routes, failures) is written here through the group-commit writer.
 * If that write fails, the client gets a 503 problem and none of the data it asked for.
 */
export default fp(
  async (app: FastifyInstance, opts: { config: Config; db: Db }) => {
    const writer = new AuditWriter(opts.db);
    const sealer = new AuditSealer(opts.db, opts.config.AUDIT_HMAC_KEY);
    app.decorate('auditWriter', writer);
    app.decorate('auditSealer', sealer);

    app.addHook('preHandler', async (request) => {
      request.ctx.query = request.query;
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const ctx = request.ctx;
      if (!ctx || ctx.route.audit === false || ctx.audit.written) return payload;
      ctx.query ??= request.query;
      try {
        await writer.write(buildAuditRow(ctx, reply.statusCode));
        ctx.audit.written = true;
        return payload;
      } catch (error) {
        request.log.error({ err: error }, 'audit write failed; response withheld');
        const problem = problemFor(auditUnavailable(error), request.id);
        reply.code(503).type(PROBLEM_CONTENT_TYPE).header('retry-after', '5').removeHeader('etag').removeHeader('location');
        return JSON.stringify(problem);
      }
    });

    // On ready, not at registration: the server migrates between building the app and listening.
    app.addHook('onReady', async () => {
      sealer.start(opts.config.AUDIT_SEAL_INTERVAL_MS, (error) => app.log.error({ err: error }, 'audit sealing failed'));
    });
    app.addHook('onClose', async () => {
      sealer.stop();
      await writer.drain();
    });
  },
  { name: 'audit', dependencies: ['request-context', 'errors'] },
);

/**
 * Requests Fastify refuses before routing (a malformed URL, an over-long path parameter) run no
 * hooks, so they are answered and audited here, the same way as every other request.
 */
export async function answerFrameworkError(
  app: FastifyInstance,
  serviceVersion: string,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  request.ctx = createRequestContext(request, serviceVersion);
  const appError = toAppError(error);
  let status = appError.status;
  let body = problemFor(appError, request.id);
  try {
    await app.auditWriter.write(buildAuditRow(request.ctx, status));
    request.ctx.audit.written = true;
  } catch (auditError) {
    request.log.error({ err: auditError }, 'audit write failed; response withheld');
    body = problemFor(auditUnavailable(auditError), request.id);
    status = 503;
  }
  return reply.code(status).type(PROBLEM_CONTENT_TYPE).header('x-request-id', request.id).send(JSON.stringify(body));
}
