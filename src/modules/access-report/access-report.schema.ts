import { z } from 'zod';
import { auditAccessEntry } from '../../audit/access-entry.js';
import { isoDateTime } from '../../lib/http.js';

export const clientIdParams = z.strictObject({ id: z.uuid() });

/** The range, both bounds required: from inclusive, to exclusive. */
export const accessReportQuery = z
  .strictObject({
    from: isoDateTime.describe('start of the range, inclusive (ISO 8601 with offset)'),
    to: isoDateTime.describe('end of the range, exclusive (ISO 8601 with offset); after from'),
  })
  // Only when both parsed (zod still runs the check after a bound failed): a malformed bound is reported once, as itself.
  .refine((query) => !(query.from instanceof Date && query.to instanceof Date) || query.from < query.to, {
    path: ['to'],
    message: 'must be after from',
  });

/** Why the access was allowed, as the audit record states it; unlisted keys are not shown. */
const accessBasis = z.object({
  rule: z.string(),
  role: z.string().optional(),
  relationship: z.string().optional(),
  grantId: z.string().optional(),
});

/** One audit event about the client: metadata only, never what was read or written. */
const access = auditAccessEntry.extend({
  denialReason: z.string().nullable(),
  purpose: z.string().nullable(),
  basis: accessBasis.nullable(),
  /** Allowed by a break-glass grant (the basis names the grant). */
  breakTheGlass: z.boolean(),
});

const count = z.number().int().min(0);
const totals = z.object({ accesses: count, denied: count, breakTheGlass: count });

const person = z.object({
  /** The staff member (actor_id); null for anonymous and system actors, each grouped as one. */
  staffId: z.uuid().nullable(),
  actorType: z.enum(['staff', 'anonymous', 'system']),
  name: z.string().nullable(),
  /** Every role the person held at the time of these accesses. */
  roles: z.array(z.string()),
  /** Clinic-local days, oldest first; accesses oldest first. */
  days: z.array(z.object({ date: z.iso.date(), accesses: z.array(access) })),
  totals: totals.extend({ days: count }),
});

export const accessReportResponse = z
  .object({
    clientId: z.uuid(),
    from: isoDateTime,
    to: isoDateTime,
    timeZone: z.string(),
    /** By name (anonymous and system actors last). */
    people: z.array(person),
    totals: totals.extend({ people: count }),
  })
  .meta({ id: 'ClientAccessReport' });

export type AccessReportQuery = z.infer<typeof accessReportQuery>;
export type AccessReportResponse = z.infer<typeof accessReportResponse>;
export type ReportPerson = AccessReportResponse['people'][number];
export type ReportAccess = ReportPerson['days'][number]['accesses'][number];
