import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { auditAccessColumns } from '../../audit/access-entry.js';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { auditEvents, breakGlassGrants, type breakGlassOutcomes, breakGlassReviews, staff } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { clientOfClinic } from '../../policy/client-access.js';
import type {
  CreateGrantBody,
  GrantResponse,
  ListGrantsQuery,
  ReviewBody,
  ReviewOutcome,
  ReviewQueueQuery,
  ReviewQueueResponse,
} from './break-glass.schema.js';

type GrantRow = typeof breakGlassGrants.$inferSelect;
type ReviewRow = typeof breakGlassReviews.$inferSelect;
type StoredOutcome = (typeof breakGlassOutcomes)[number];

/** Reviews are stored in the words they were first written with (see reviewOutcomes). */
const storedOutcomes: Record<ReviewOutcome, StoredOutcome> = {
  appropriate: 'justified',
  inappropriate: 'unjustified',
  needs_follow_up: 'needs_follow_up',
};
const reviewOutcomeOf = (stored: StoredOutcome): ReviewOutcome =>
  (Object.keys(storedOutcomes) as ReviewOutcome[]).find((outcome) => storedOutcomes[outcome] === stored) ?? 'needs_follow_up';

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
    outcome: reviewOutcomeOf(review.outcome),
    note: review.note,
    reviewedAt: review.reviewedAt,
  },
});

/**
 * Opens a time-boxed grant for the caller, for a client of the caller's clinic (404 otherwise); it
 * is flagged for compliance review from the start.
 */
export function createGrant(db: Db, ctx: AuthedContext, input: CreateGrantBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    await clientOfClinic(tx, ctx.actor.clinicId, input.clientId);
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
      .values({
        clinicId: grant.clinicId,
        id: uuidv7(),
        grantId,
        reviewerId: ctx.actor.staffId,
        outcome: storedOutcomes[input.outcome],
        note: input.note,
      })
      .onConflictDoNothing()
      .returning();
    if (!review) throw new AppError('conflict', 'This grant has already been reviewed');
    ctx.audit.details = { outcome: input.outcome };
    return toGrantResponse(grant, review);
  });
}

/** What each grant was used for: the audit records whose basis names it, oldest first. */
async function selectGrantAccesses(db: Db, clinicId: string, grants: Array<{ id: string; startsAt: Date }>) {
  if (grants.length === 0) return [];
  const e = auditEvents;
  const grantId = sql<string>`${e.accessBasis}->>'grantId'`;
  // A request under a grant starts after the grant does; the bound lets the clinic/time index work.
  const earliest = new Date(Math.min(...grants.map((grant) => grant.startsAt.getTime())) - 5 * 60_000);
  return db
    .select({
      grantId,
      ...auditAccessColumns,
    })
    .from(e)
    .where(
      and(
        eq(e.clinicId, clinicId),
        gte(e.occurredAt, earliest),
        inArray(
          grantId,
          grants.map((grant) => grant.id),
        ),
      ),
    )
    .orderBy(asc(e.occurredAt), asc(e.id));
}

/**
 * The review queue: unreviewed grants with everything accessed under each; a grant still
 * unreviewed `overdueAfterDays` after it started is overdue and comes first, then oldest first.
 */
export async function listReviewQueue(db: Db, ctx: AuthedContext, query: ReviewQueueQuery): Promise<ReviewQueueResponse> {
  const g = breakGlassGrants;
  const dueAt = sql<Date>`${g.startsAt} + make_interval(days => ${query.overdueAfterDays}::int)`.mapWith(g.startsAt);
  const overdue = sql<boolean>`(${dueAt} <= now())`;
  const rows = await db
    .select({
      grant: g,
      staffName: staff.displayName,
      reviewDueAt: dueAt,
      overdue,
      total: sql<number>`(count(*) over ())::int`,
      overdueCount: sql<number>`(count(*) filter (where ${overdue}) over ())::int`,
    })
    .from(g)
    .innerJoin(staff, and(eq(staff.clinicId, g.clinicId), eq(staff.id, g.staffId)))
    .leftJoin(breakGlassReviews, and(eq(breakGlassReviews.clinicId, g.clinicId), eq(breakGlassReviews.grantId, g.id)))
    .where(and(eq(g.clinicId, ctx.actor.clinicId), isNull(breakGlassReviews.id)))
    .orderBy(desc(overdue), asc(g.startsAt), asc(g.id))
    .limit(query.limit);
  const accesses = await selectGrantAccesses(
    db,
    ctx.actor.clinicId,
    rows.map((row) => row.grant),
  );
  const items = rows.map(({ grant, staffName, reviewDueAt, overdue }) => ({
    id: grant.id,
    staffId: grant.staffId,
    staffName,
    clientId: grant.clientId,
    reason: grant.reason,
    minutes: grant.minutes,
    startsAt: grant.startsAt,
    expiresAt: grant.expiresAt,
    reviewDueAt,
    overdue,
    accesses: accesses.filter((access) => access.grantId === grant.id).map(({ grantId: _, ...access }) => access),
  }));
  ctx.audit.resultCount = items.length;
  ctx.audit.clientIds.push(...new Set(items.map((item) => item.clientId)));
  ctx.audit.details = { overdueAfterDays: query.overdueAfterDays };
  return { overdueAfterDays: query.overdueAfterDays, total: rows[0]?.total ?? 0, overdue: rows[0]?.overdueCount ?? 0, items };
}
