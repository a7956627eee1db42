import { z } from 'zod';
import { isoDateTime } from '../../lib/http.js';

/** The longest range one search or export may cover. */
export const MAX_RANGE_DAYS = 400;

const text = z.string().min(1).max(200);

/** ITI-81-like filters; every one is optional and they combine with AND. */
const auditEventFilters = {
  actorId: z.uuid().optional(),
  /** Events whose client_ids contain this client. */
  clientId: z.uuid().optional(),
  action: z.enum(['C', 'R', 'U', 'D', 'E']).optional(),
  subtype: text.optional(),
  outcome: z.enum(['success', 'denied', 'failure', 'error']).optional(),
  dataCategory: text.optional(),
  /** purpose_of_use, a v3 ActReason code (TREAT, HOPERAT, …). */
  purpose: text.optional(),
  requestId: text.optional(),
  resourceType: text.optional(),
  resourceId: text.optional(),
};

export const filterNames = Object.keys(auditEventFilters) as (keyof typeof auditEventFilters)[];

/** The mandatory range: occurred_at in [from, to), at most MAX_RANGE_DAYS long. */
const range = { from: isoDateTime, to: isoDateTime };

function checkRange(query: { from?: Date; to?: Date }, ctx: z.RefinementCtx) {
  // Runs even when a field failed to parse; that field already has its own issue.
  if (!(query.from instanceof Date) || !(query.to instanceof Date)) return;
  if (query.from.getTime() >= query.to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  } else if (query.to.getTime() - query.from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: `the range may cover at most ${MAX_RANGE_DAYS} days` });
  }
}

export const auditEventSorts = ['occurredAt', 'actor', 'client', 'action'] as const;

export const searchAuditEventsQuery = z
  .strictObject({
    ...range,
    ...auditEventFilters,
    /** occurredAt (default), actor (actor_id), client (the first of client_ids) or action; ties by occurredAt, then id. */
    sort: z.enum(auditEventSorts).default('occurredAt'),
    /** Default: desc for occurredAt, asc for the others. */
    order: z.enum(['asc', 'desc']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(500).optional(),
  })
  .superRefine(checkRange);

export const exportFormats = ['ndjson', 'csv', 'fhir'] as const;

export const exportAuditEventsQuery = z
  .strictObject({
    ...range,
    ...auditEventFilters,
    /** Wins over Accept; without either, ndjson. */
    format: z.enum(exportFormats).optional(),
  })
  .superRefine(checkRange);

export const auditEventResponse = z
  .object({
    clinicId: z.uuid(),
    id: z.uuid(),
    txid: z.string(),
    occurredAt: isoDateTime,
    endedAt: isoDateTime.nullable(),
    recordedAt: isoDateTime,
    requestId: z.string(),
    actorType: z.enum(['staff', 'anonymous', 'system']),
    actorId: z.uuid().nullable(),
    actorRoles: z.array(z.string()),
    action: z.enum(['C', 'R', 'U', 'D', 'E']),
    subtype: z.string(),
    outcome: z.enum(['success', 'denied', 'failure', 'error']),
    httpStatus: z.number().int(),
    denialReason: z.string().nullable(),
    method: z.string(),
    route: z.string(),
    resourceType: z.string().nullable(),
    resourceId: z.string().nullable(),
    clientIds: z.array(z.uuid()),
    dataCategory: z.string().nullable(),
    purposeOfUse: z.string().nullable(),
    accessBasis: z.unknown(),
    query: z.unknown(),
    details: z.unknown(),
    resultCount: z.number().int().nullable(),
    sourceIp: z.string().nullable(),
    userAgent: z.string().nullable(),
    serviceVersion: z.string(),
    /** The event's place in the clinic's HMAC chain; null until the sealer reaches it. */
    seal: z.object({ seq: z.number().int(), hmac: z.string() }).nullable(),
  })
  .meta({ id: 'AuditEvent' });

export const auditEventPage = z
  .object({ items: z.array(auditEventResponse), nextCursor: z.string().nullable() })
  .meta({ id: 'AuditEventPage' });

export type SearchAuditEventsQuery = z.infer<typeof searchAuditEventsQuery>;
export type ExportAuditEventsQuery = z.infer<typeof exportAuditEventsQuery>;
export type ExportFormat = (typeof exportFormats)[number];
export type AuditEventSort = (typeof auditEventSorts)[number];
export type AuditEventFilters = Pick<SearchAuditEventsQuery, (typeof filterNames)[number]>;
export type AuditEventResponse = z.infer<typeof auditEventResponse>;
export type AuditEventPage = z.infer<typeof auditEventPage>;
