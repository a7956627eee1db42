import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDatabaseUnreachable, sqlState } from '../db/errors.js';
import { AppError, type ErrorCode, errorCodes, type FieldError } from '../lib/errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export const problemResponse = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ in: z.string(), field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export type Problem = z.infer<typeof problemResponse>;

/** Every route answers its errors with a problem: spread into `schema.response`. */
export const problemResponses = { '4xx': problemResponse, '5xx': problemResponse };

export function problemFor(error: AppError, requestId: string): Problem {
  return {
    type: `/problems/${error.code.replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    instance: requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, error: AppError) {
  if (error.options.retryAfter !== undefined) reply.header('retry-after', String(error.options.retryAfter));
  reply.request.ctx.audit.denialReason ??= error.options.denialReason;
  // Serialized here, not by the route's schema, so every field survives on every route.
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problemFor(error, reply.request.id)));
}

const statusCodes: Record<number, ErrorCode> = Object.fromEntries(
  Object.entries(errorCodes).map(([code, { status }]) => [status, code as ErrorCode]),
);

/** Maps anything thrown to the one error type; unknown errors become a 500 that says nothing. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError).validationContext ?? 'body';
    const where = context === 'querystring' ? 'query' : context;
    const errors: FieldError[] = error.validation.flatMap((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const unknown = issue.keyword === 'unrecognized_keys' ? ((issue.params as { keys?: string[] }).keys ?? []) : [];
      if (unknown.length > 0)
        return unknown.map((key) => ({ in: where, field: path ? `${path}.${key}` : key, message: 'is not a known field' }));
      return [{ in: where, field: path, message: issue.message ?? 'is invalid' }];
    });
    const fields = errors.map((e) => (e.field ? `${where}.${e.field}` : where));
    return new AppError('validation_failed', `Invalid ${[...new Set(fields)].join(', ')}`, { errors });
  }
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    const code = statusCodes[status] ?? 'bad_request';
    return new AppError(code === 'validation_failed' ? 'bad_request' : code, clientErrorDetail(error as FastifyError));
  }
  if (isDatabaseUnreachable(error)) {
    return new AppError('unavailable', 'The database is not reachable right now; try again shortly', { cause: error, retryAfter: 5 });
  }
  // 57014: the statement ran past DB_STATEMENT_TIMEOUT_MS (or was cancelled); nothing of it stays.
  if (sqlState(error) === '57014') {
    return new AppError('unavailable', 'The database took too long to answer; try again shortly', { cause: error, retryAfter: 5 });
  }
  return new AppError('internal', 'The server could not complete the request', { cause: error });
}

/** Fastify's own 4xx messages are safe to show; keep them but drop the error code prefix. */
function clientErrorDetail(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported Content-Type; send application/json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is larger than the server accepts';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is empty but Content-Type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case undefined:
      return error.message.startsWith('Unexpected') || error.message.includes('JSON')
        ? 'The request body is not valid JSON'
        : error.message;
    default:
      return error.message;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const appError = toAppError(error);
      if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.debug({ code: appError.code }, appError.detail);
      return sendProblem(reply, appError);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'errors', dependencies: ['request-context'] },
);
