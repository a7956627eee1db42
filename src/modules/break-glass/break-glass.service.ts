import { and, asc, eq, gt, isNotNull, isNull } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { breakGlassGrants, breakGlassReviews } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import type { CreateGrantBody, GrantResponse, ListGrantsQuery, ReviewBody } from './break-glass.schema.js';

type GrantRow = typeof breakGlassGrants.$inferSelect;
type ReviewRow = typeof breakGlassReviews.$inferSelect;

const toGrantResponse = (grant: GrantRow, review: ReviewRow | null): GrantResponse => ({
  id: grant.id,
  staffId: grant.staffId,
  clientId: grant.clientId,
  reason: grant.reason,
  minutes: grant.minutes,
  startsAt: grant.startsAt,
  expiresAt: grant.expiresAt,
  review: review && {
    id: review.id,
    reviewerId: review.reviewerId,
    outcome: review.outcome,
    note: review.note,
    reviewedAt: review.reviewedAt,
  },
});

/** Opens a time-boxed grant for the caller; it is flagged for compliance review from the start. */
export function createGrant(db: Db, ctx: AuthedContext, input: CreateGrantBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const startsAt = new Date();
    const [grant] = await tx
      .insert(breakGlassGrants)
      .values({
        clinicId: ctx.actor.clinicId,
        id: uuidv7(),
        staffId: ctx.actor.staffId,
        clientId: input.clientId,
        reason: input.reason,
        minutes: input.minutes,
        startsAt,
        expiresAt: new Date(startsAt.getTime() + input.minutes * 60_000),
      })
      .returning();
    const created = grant as GrantRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.clientIds.push(created.clientId);
    ctx.audit.details = { reason: created.reason, minutes: created.minutes, expiresAt: created.expiresAt.toISOString() };
    return toGrantResponse(created, null);
  });
}

export async function listGrants(db: Db, ctx: AuthedContext, query: ListGrantsQuery) {
  const rows = await db
    .select({ grant: breakGlassGrants, review: breakGlassReviews })
    .from(breakGlassGrants)
    .leftJoin(
      breakGlassReviews,
      and(eq(breakGlassReviews.clinicId, breakGlassGrants.clinicId), eq(breakGlassReviews.grantId, breakGlassGrants.id)),
    )
    .where(
      and(
        eq(breakGlassGrants.clinicId, ctx.actor.clinicId),
        query.cursor ? gt(breakGlassGrants.id, query.cursor) : undefined,
        query.status === 'unreviewed' ? isNull(breakGlassReviews.id) : undefined,
        query.status === 'reviewed' ? isNotNull(breakGlassReviews.id) : undefined,
      ),
    )
    .orderBy(asc(breakGlassGrants.id))
    .limit(query.limit + 1);
  const result = toPage(
    rows.map((row) => toGrantResponse(row.grant, row.review)),
    query.limit,
  );
  ctx.audit.resultCount = result.items.length;
  ctx.audit.clientIds.push(...result.items.map((grant) => grant.clientId));
  return result;
}

/** Records the one review a grant gets; a second review is a conflict, never an overwrite. */
export function reviewGrant(db: Db, ctx: AuthedContext, grantId: string, input: ReviewBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    ctx.audit.resourceId = grantId;
    const [grant] = await tx
      .select()
      .from(breakGlassGrants)
      .where(and(eq(breakGlassGrants.clinicId, ctx.actor.clinicId), eq(breakGlassGrants.id, grantId)))
      .for('update');
    if (!grant) throw notFound('Break-glass grant');
    ctx.audit.clientIds.push(grant.clientId);
    if (grant.staffId === ctx.actor.staffId) {
      throw new AppError('forbidden', 'A grant must be reviewed by someone other than the person who used it', {
        denialReason: 'self-review',
      });
    }
    const [review] = await tx
      .insert(breakGlassReviews)
      .values({ clinicId: grant.clinicId, id: uuidv7(), grantId, reviewerId: ctx.actor.staffId, outcome: input.outcome, note: input.note })
      .onConflictDoNothing()
      .returning();
    if (!review) throw new AppError('conflict', 'This grant has already been reviewed');
    ctx.audit.details = { outcome: review.outcome };
    return toGrantResponse(grant, review);
  });
}
