import type { auditEvents } from '../db/schema/index.js';
import type { RequestContext } from '../lib/context.js';
import { NIL_UUID, uuidv7 } from '../lib/ids.js';
import { auditActions } from './actions.js';

export type AuditEventInsert = typeof auditEvents.$inferInsert;
export type AuditOutcome = 'success' | 'denied' | 'failure' | 'error';

export function outcomeFor(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status < 500) return 'failure';
  return 'error';
}

/** NUL and lone surrogates, which a query string can carry but jsonb cannot store. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the character to find.
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Request-supplied text as the record can hold it: U+FFFD in place of what jsonb refuses, so the record is never lost to it. */
function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replace(unstorable, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storable(key), storable(item)])) as T;
  }
  return value;
}

/** The audit row for one request, from its context and the status it answers with. */
export function buildAuditRow(ctx: RequestContext, status: number): AuditEventInsert {
  const query = ctx.query;
  const spec = auditActions[ctx.route.audit || 'request.unrouted'];
  const actor = ctx.actor;
  return {
    clinicId: actor?.clinicId ?? ctx.clinicId ?? NIL_UUID,
    id: uuidv7(),
    occurredAt: ctx.receivedAt,
    endedAt: new Date(),
    requestId: ctx.requestId,
    actorType: actor ? 'staff' : 'anonymous',
    actorId: actor?.staffId ?? null,
    actorRoles: actor?.roles ?? [],
    action: spec.action,
    subtype: ctx.route.audit === 'auth.login' && status >= 400 ? 'login-failed' : spec.subtype,
    outcome: outcomeFor(status),
    httpStatus: status,
    denialReason: status >= 400 ? (ctx.audit.denialReason ?? null) : null,
    method: ctx.route.method,
    route: ctx.route.pattern,
    resourceType: spec.resourceType,
    resourceId: ctx.audit.resourceId ?? null,
    clientIds: [...new Set(ctx.audit.clientIds)],
    dataCategory: spec.dataCategory,
    purposeOfUse: spec.purpose,
    accessBasis: ctx.basis,
    query: query && typeof query === 'object' && Object.keys(query).length > 0 ? storable(query) : null,
    details: storable(ctx.audit.fourMiss?.length ? { ...ctx.audit.details, fourMiss: ctx.audit.fourMiss } : (ctx.audit.details ?? null)),
    resultCount: ctx.audit.resultCount ?? null,
    sourceIp: ctx.ip,
    userAgent: ctx.userAgent,
    serviceVersion: ctx.route.serviceVersion,
  };
}
