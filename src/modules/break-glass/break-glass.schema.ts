import { z } from 'zod';
import { auditAccessEntry } from '../../audit/access-entry.js';
import { isoDateTime, page, pageQuery } from '../../lib/http.js';

/**
 * How compliance judges a grant's use. Stored reviews (append-only, so never rewritten) keep the
 * earlier words: justified is appropriate, unjustified is inappropriate. Requests may still send
 * those; responses always use these.
 */
const reviewOutcomes = ['appropriate', 'inappropriate', 'needs_follow_up'] as const;
export type ReviewOutcome = (typeof reviewOutcomes)[number];
const legacyOutcomes = { justified: 'appropriate', unjustified: 'inappropriate' } as const;

export const createGrantBody = z.strictObject({
  clientId: z.uuid(),
  reason: z.string().trim().min(20, 'reason must be at least 20 characters').max(2000),
  minutes: z.number().int().min(1).max(240),
});

export const reviewResponse = z.object({
  id: z.uuid(),
  reviewerId: z.uuid(),
  outcome: z.enum(reviewOutcomes),
  note: z.string(),
  reviewedAt: isoDateTime,
});

export const grantResponse = z
  .object({
    id: z.uuid(),
    staffId: z.uuid(),
    clientId: z.uuid(),
    reason: z.string(),
    minutes: z.number().int(),
    startsAt: isoDateTime,
    expiresAt: isoDateTime,
    review: reviewResponse.nullable(),
  })
  .meta({ id: 'BreakGlassGrant' });

export const listGrantsQuery = z.strictObject({ ...pageQuery, status: z.enum(['unreviewed', 'reviewed', 'all']).default('unreviewed') });
export const grantIdParams = z.strictObject({ id: z.uuid() });
export const reviewBody = z.strictObject({
  outcome: z
    .enum([...reviewOutcomes, ...(Object.keys(legacyOutcomes) as Array<keyof typeof legacyOutcomes>)])
    .describe('appropriate | inappropriate | needs_follow_up (justified and unjustified are accepted as their former names)')
    .transform(
      (outcome): ReviewOutcome =>
        outcome in legacyOutcomes ? legacyOutcomes[outcome as keyof typeof legacyOutcomes] : (outcome as ReviewOutcome),
    ),
  note: z.string().trim().min(1).max(4000),
});
export const grantPage = page(grantResponse);

/** The review queue: unreviewed grants, overdue ones first, then oldest first. */
export const reviewQueueQuery = z.strictObject({
  overdueAfterDays: z.coerce
    .number()
    .int()
    .min(1)
    .max(365)
    .default(7)
    .describe('a grant unreviewed this many days after it started is overdue'),
  limit: pageQuery.limit,
});

const queuedGrant = z.object({
  id: z.uuid(),
  staffId: z.uuid(),
  staffName: z.string(),
  clientId: z.uuid(),
  reason: z.string(),
  minutes: z.number().int(),
  startsAt: isoDateTime,
  expiresAt: isoDateTime,
  /** When the review falls overdue: startsAt + overdueAfterDays. */
  reviewDueAt: isoDateTime,
  overdue: z.boolean(),
  /** Everything requested under the grant, oldest first. */
  accesses: z.array(auditAccessEntry),
});

export const reviewQueueResponse = z
  .object({
    overdueAfterDays: z.number().int(),
    /** Unreviewed grants in all (the items are the first `limit` of them). */
    total: z.number().int().min(0),
    overdue: z.number().int().min(0),
    items: z.array(queuedGrant),
  })
  .meta({ id: 'BreakGlassReviewQueue' });

export type CreateGrantBody = z.infer<typeof createGrantBody>;
export type ListGrantsQuery = z.infer<typeof listGrantsQuery>;
export type ReviewBody = z.output<typeof reviewBody>;
export type ReviewQueueQuery = z.output<typeof reviewQueueQuery>;
export type ReviewQueueResponse = z.infer<typeof reviewQueueResponse>;
export type GrantResponse = z.infer<typeof grantResponse>;
