import { z } from 'zod';
import { auditEvents } from '../db/schema/index.js';
import { isoDateTime } from '../lib/http.js';

const e = auditEvents;

/**
 * One request as the compliance views show it (access report, break-glass queue): what was
 * touched, how and with what outcome — from its audit record, never what was read or written.
 */
export const auditAccessEntry = z.object({
  eventId: z.uuid(),
  occurredAt: isoDateTime,
  method: z.string(),
  route: z.string(),
  action: z.enum(['C', 'R', 'U', 'D', 'E']),
  subtype: z.string(),
  outcome: z.enum(['success', 'denied', 'failure', 'error']),
  httpStatus: z.number().int(),
  resourceType: z.string().nullable(),
  resourceId: z.string().nullable(),
  dataCategory: z.string().nullable(),
});

/** The columns behind `auditAccessEntry`, for a select on audit_events. */
export const auditAccessColumns = {
  eventId: e.id,
  occurredAt: e.occurredAt,
  method: e.method,
  route: e.route,
  action: e.action,
  subtype: e.subtype,
  outcome: e.outcome,
  httpStatus: e.httpStatus,
  resourceType: e.resourceType,
  resourceId: e.resourceId,
  dataCategory: e.dataCategory,
};
