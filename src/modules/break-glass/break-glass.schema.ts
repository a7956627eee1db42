import { z } from 'zod';
import { breakGlassOutcomes } from '../../db/schema/index.js';
import { isoDateTime, page, pageQuery } from '../../lib/http.js';

export const createGrantBody = z.strictObject({
  clientId: z.uuid(),
  reason: z.string().trim().min(20, 'reason must be at least 20 characters').max(2000),
  minutes: z.number().int().min(1).max(240),
});

export const reviewResponse = z.object({
  id: z.uuid(),
  reviewerId: z.uuid(),
  outcome: z.enum(breakGlassOutcomes),
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
export const reviewBody = z.strictObject({ outcome: z.enum(breakGlassOutcomes), note: z.string().trim().min(1).max(4000) });
export const grantPage = page(grantResponse);

export type CreateGrantBody = z.infer<typeof createGrantBody>;
export type ListGrantsQuery = z.infer<typeof listGrantsQuery>;
export type ReviewBody = z.infer<typeof reviewBody>;
export type GrantResponse = z.infer<typeof grantResponse>;
