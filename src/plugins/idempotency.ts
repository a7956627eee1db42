import { createHash } from 'node:crypto';
import { and, eq, gte, isNull, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Db, Tx } from '../db/client.js';
import { idempotencyKeys } from '../db/schema/index.js';
import { inScope } from '../db/scope.js';
import type { RequestContext } from '../lib/context.js';
import { AppError } from '../lib/errors.js';

const HEADER = 'idempotency-key';
/** 1–255 visible ASCII characters: a UUID or any other token the caller generates per operation. */
const KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;
const KEPT_FOR = sql`interval '24 hours'`;
/** Response headers a replay repeats; x-request-id stays the replay's own. */
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'] as const;
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** The header as the OpenAPI document describes it on every operation that takes it. */
const idempotencyKeyHeaderSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\x21-\\x7E]+$',
  description:
    'Makes a retry safe: the same key and body within 24 hours answer with the original status, headers and body ' +
    '(marked idempotent-replayed) instead of acting twice; the same key with another body is a 422, and a key whose ' +
    'first request has not finished is a 409.',
};

/** Every POST a signed-in caller makes takes the header; the sign-in itself ignores it. */
function takesIdempotencyKey(route: Pick<RouteOptions, 'method' | 'config'>): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const access = (route.config as { access?: string } | undefined)?.access;
  return methods.includes('POST') && access !== undefined && access !== 'public';
}

/** The docs transform's hook: adds the header to the operations that take it. */
export function documentIdempotencyKey<T extends { schema: object; url: string }>(route: RouteOptions, transformed: T): T {
  if (!takesIdempotencyKey(route)) return transformed;
  const schema = transformed.schema as { headers?: { type?: string; properties?: Record<string, unknown> } };
  const headers = schema.headers ?? { type: 'object' };
  return {
    ...transformed,
    schema: { ...schema, headers: { ...headers, properties: { ...headers.properties, [HEADER]: idempotencyKeyHeaderSchema } } },
  };
}

/**
 * The first statement of a POST's transaction (called by auditedTransaction): claims the key, or
 * takes over one older than 24 hours. When another request holds the key and has not committed,
 * the insert waits for it; when it committed, no row comes back and this request changes nothing.
 */
export async function claimIdempotencyKey(tx: Tx, ctx: RequestContext): Promise<void> {
  const note = ctx.idempotency;
  if (!note || note.claimed || !ctx.actor) return;
  const claim = {
    method: ctx.route.method,
    route: ctx.route.pattern,
    requestHash: note.hash,
    requestId: ctx.requestId,
  };
  const claimed = await tx
    .insert(idempotencyKeys)
    .values({ clinicId: ctx.actor.clinicId, staffId: ctx.actor.staffId, key: note.key, ...claim })
    .onConflictDoUpdate({
      target: [idempotencyKeys.clinicId, idempotencyKeys.staffId, idempotencyKeys.key],
      set: {
        ...claim,
        resourceId: null,
        clientIds: [],
        responseStatus: null,
        responseHeaders: null,
        responseBody: null,
        createdAt: sql`now()`,
      },
      setWhere: sql`${idempotencyKeys.createdAt} < now() - ${KEPT_FOR}`,
    })
    .returning({ key: idempotencyKeys.key });
  if (claimed.length === 0) throw keyInUse();
}

/**
 * Deletes keys past their 24 hours, across clinics (as the maintenance role); safe to run on every
 * instance at once. Returns how many.
 */
export async function purgeExpiredIdempotencyKeys(db: Db): Promise<number> {
  const { rows } = await inScope(db, 'maintenance', (tx) =>
    tx.execute<{ count: number }>(
      sql`with purged as (delete from ${idempotencyKeys} where ${idempotencyKeys.createdAt} < now() - ${KEPT_FOR} returning 1)
          select count(*)::int as count from purged`,
    ),
  );
  return Number(rows[0]?.count ?? 0);
}

/**
 * Idempotency-Key on POST. Before the handler: a key seen in the last 24 hours with the same
 * request replays the stored response; with another request it is a 422; while its first request
 * has no stored response yet, a 409. A new key is noted on the context and claimed inside the
 * request's own transaction (claimIdempotencyKey), so a change and its key commit together and
 * two concurrent requests with one key never both act. A successful response is then stored on
 * the key's row for the retries to get back.
 */
export default fp(
  async (app: FastifyInstance, opts: { root: Db }) => {
    app.addHook('preHandler', async (request, reply) => {
      const header = request.headers[HEADER];
      const ctx = request.ctx;
      if (header === undefined || !ctx.actor || !takesIdempotencyKey(request.routeOptions)) return;
      const key = parseKey(header);
      const hash = requestHash(request);
      const [found] = await request.db
        .select()
        .from(idempotencyKeys)
        .where(
          and(
            eq(idempotencyKeys.clinicId, ctx.actor.clinicId),
            eq(idempotencyKeys.staffId, ctx.actor.staffId),
            eq(idempotencyKeys.key, key),
            gte(idempotencyKeys.createdAt, sql`now() - ${KEPT_FOR}`),
          ),
        );
      if (!found) {
        ctx.idempotency = { key, hash, claimed: false };
        return;
      }
      if (found.requestHash !== hash) {
        throw new AppError(
          'unprocessable',
          'This Idempotency-Key was used in the last 24 hours with a different request; use a new key for a new request',
          { errors: [{ in: 'headers', field: HEADER, message: 'was used with a different method, path, query or body' }] },
        );
      }
      if (found.responseStatus === null || found.responseBody === null) throw keyInUse();
      ctx.audit.resourceId = found.resourceId ?? undefined;
      ctx.audit.clientIds = found.clientIds;
      ctx.audit.details = { ...ctx.audit.details, idempotentReplay: true, originalRequestId: found.requestId };
      return reply
        .code(found.responseStatus)
        .headers({ ...found.responseHeaders, 'idempotent-replayed': 'true' })
        .send(found.responseBody);
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const note = request.ctx?.idempotency;
      if (!note?.claimed || reply.statusCode < 200 || reply.statusCode >= 300) return payload;
      try {
        await storeResponse(request.db, request, reply, payload);
      } catch (error) {
        // The change committed and the caller gets its answer; a retry with this key gets a 409.
        request.log.error({ err: error }, 'idempotency: the response could not be stored');
      }
      return payload;
    });

    let purge: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      purge = setInterval(() => {
        purgeExpiredIdempotencyKeys(opts.root).catch((error) => app.log.error({ err: error }, 'idempotency: purging expired keys failed'));
      }, PURGE_INTERVAL_MS);
      purge.unref();
    });
    app.addHook('onClose', async () => clearInterval(purge));
  },
  { name: 'idempotency', dependencies: ['request-context', 'errors'] },
);

function parseKey(header: string | string[]): string {
  const key = Array.isArray(header) ? header.join(', ') : header;
  if (KEY_PATTERN.test(key)) return key;
  const message = 'must be 1 to 255 visible ASCII characters, sent once';
  throw new AppError('validation_failed', `Invalid headers.${HEADER}`, { errors: [{ in: 'headers', field: HEADER, message }] });
}

/** Validated parts, so equivalent spellings (key order, defaults, time formats) count as the same request. */
function requestHash(request: FastifyRequest): string {
  const { method, pattern } = request.ctx.route;
  const parts = { method, route: pattern, params: request.params ?? null, query: request.query ?? null, body: request.body ?? null };
  return createHash('sha256')
    .update(JSON.stringify(sortKeys(parts)))
    .digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(sortKeys);
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sortKeys(record[key])]),
  );
}

async function storeResponse(db: Db, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const ctx = request.ctx;
  const note = ctx.idempotency;
  if (!note || !ctx.actor) return;
  const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
  if (body === null) throw new Error('only JSON responses can be stored for replay');
  const headers = Object.fromEntries(
    REPLAYED_HEADERS.flatMap((name) => {
      const value = reply.getHeader(name);
      return value === undefined ? [] : [[name, String(value)]];
    }),
  );
  await db
    .update(idempotencyKeys)
    .set({
      responseStatus: reply.statusCode,
      responseHeaders: headers,
      responseBody: body,
      resourceId: ctx.audit.resourceId ?? null,
      clientIds: [...new Set(ctx.audit.clientIds)],
    })
    .where(
      and(
        eq(idempotencyKeys.clinicId, ctx.actor.clinicId),
        eq(idempotencyKeys.staffId, ctx.actor.staffId),
        eq(idempotencyKeys.key, note.key),
        eq(idempotencyKeys.requestId, ctx.requestId),
        isNull(idempotencyKeys.responseStatus),
      ),
    );
}

const keyInUse = () =>
  new AppError(
    'conflict',
    'A request with this Idempotency-Key is still being processed, or succeeded without a stored response; ' +
      'retry shortly, and if this persists check whether the original request took effect before using a new key',
  );
