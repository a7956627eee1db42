import { and, asc, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinics, coachingContacts, coachingPurposes, staff } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { authorizeClient } from '../../policy/client-access.js';
import type { CoachingLoadResponse, CoachingSummaryResponse, MonthQuery } from './coaching-summaries.schema.js';

const c = coachingContacts;
const countWhere = (condition: SQL | undefined) => sql<number>`(count(*) filter (where ${condition}))::int`;

/**
 * The figures of a group of contacts, as aggregates over a left join from the month: a month
 * without contacts still gives a row, with zeros and nulls.
 */
const figures = {
  contacts: sql<number>`count(${c.id})::int`,
  minutes: sql<number>`coalesce(sum(${c.durationMinutes}), 0)::int`,
  afterHours: countWhere(eq(c.afterHours, true)),
  afterHoursShare: sql<number | null>`(count(*) filter (where ${c.afterHours}))::float8 / nullif(count(${c.id}), 0)`.mapWith(Number),
  outsideLimits: countWhere(eq(c.outsideLimits, true)),
  purposes: Object.fromEntries(coachingPurposes.map((purpose) => [purpose, countWhere(eq(c.purpose, purpose))])) as Record<
    (typeof coachingPurposes)[number],
    SQL<number>
  >,
  twentyFourHourBlocks: countWhere(eq(c.ruleStatus, 'blocked_redirected')),
  overrides: countWhere(eq(c.ruleStatus, 'overridden')),
  // percentile_cont skips nulls and interpolates: the mean of the two middle values when even.
  medianResponseMinutes: sql<number | null>`percentile_cont(0.5) within group (order by ${c.responseMinutes})`.mapWith(Number),
  initiatedByClient: countWhere(eq(c.initiatedBy, 'client')),
};

/**
 * The month's bounds in the clinic's time zone: the given month, or the clinic's current one.
 * A contact belongs to the month its request was made in, locally.
 */
function monthBounds(db: DbOrTx, clinicId: string, month: string | undefined) {
  const zone = clinics.timeZone;
  const local = month ? sql`${month}::text` : sql`to_char(now() at time zone ${zone}, 'YYYY-MM')`;
  const start = sql`(${local} || '-01')::timestamp`;
  return db.$with('bounds').as(
    db
      .select({
        month: sql<string>`${local}`.as('month'),
        from: sql<Date>`${start} at time zone ${zone}`.mapWith(c.requestedAt).as('from_at'),
        to: sql<Date>`(${start} + interval '1 month') at time zone ${zone}`.mapWith(c.requestedAt).as('to_at'),
      })
      .from(clinics)
      .where(eq(clinics.id, clinicId)),
  );
}

/**
 * The coaching figures of the contacts `scope` selects in a month, in one query: grouping sets
 * give the month's totals and, beside them, a row per client (most contacts first).
 */
async function computeMonthFigures(db: DbOrTx, clinicId: string, month: string | undefined, scope: SQL) {
  const bounds = monthBounds(db, clinicId, month);
  const period = sql.join([bounds.month, bounds.from, bounds.to], sql`, `);
  const totalsRow = sql<number>`grouping(${c.clientId})`;
  const [totals, ...perClient] = await db
    .with(bounds)
    .select({ month: bounds.month, from: bounds.from, to: bounds.to, ...figures, clientId: c.clientId })
    .from(bounds)
    .leftJoin(c, and(eq(c.clinicId, clinicId), scope, gte(c.requestedAt, bounds.from), lt(c.requestedAt, bounds.to)))
    .groupBy(sql`grouping sets ((${period}), (${period}, ${c.clientId}))`)
    .orderBy(desc(totalsRow), desc(figures.contacts), asc(c.clientId));
  if (!totals) throw notFound('Clinic');
  const { clientId: _, ...figuresOfMonth } = totals;
  // Without contacts, the per-client set still yields one row, for no client.
  const clients = perClient.flatMap(({ clientId, contacts, minutes, afterHours, twentyFourHourBlocks }) =>
    clientId ? [{ clientId, contacts, minutes, afterHours, twentyFourHourBlocks }] : [],
  );
  return { totals: figuresOfMonth, clients };
}

/** A client's coaching in a month: volume, after-hours use, purposes, the 24-hour rule and response times. */
export async function readCoachingSummary(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  query: MonthQuery,
): Promise<CoachingSummaryResponse> {
  ctx.audit.resourceId = clientId;
  await authorizeClient(db, ctx, clientId, 'coaching');
  const { totals } = await computeMonthFigures(db, ctx.actor.clinicId, query.month, eq(c.clientId, clientId));
  ctx.audit.details = { month: totals.month };
  return { clientId, ...totals };
}

/** A therapist reads their own load; a team lead anyone's in the clinic. */
async function authorizeLoad(db: DbOrTx, ctx: AuthedContext, staffId: string) {
  const [member] = await db
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.clinicId, ctx.actor.clinicId), eq(staff.id, staffId)));
  if (!member) throw notFound('Staff member');
  const rule = ctx.basis?.rule ?? 'coaching.load';
  if (staffId === ctx.actor.staffId) {
    ctx.basis = { rule, relationship: 'own-load' };
    return;
  }
  if (ctx.actor.roles.includes('team_lead')) {
    ctx.basis = { rule, role: 'team_lead' };
    return;
  }
  throw new AppError('forbidden', 'A therapist reads only their own coaching load', { denialReason: 'not-own-load' });
}

/** The contacts a staff member took in a month, in total and per client. */
export async function readCoachingLoad(db: Db, ctx: AuthedContext, staffId: string, query: MonthQuery): Promise<CoachingLoadResponse> {
  ctx.audit.resourceId = staffId;
  await authorizeLoad(db, ctx, staffId);
  const { totals, clients } = await computeMonthFigures(db, ctx.actor.clinicId, query.month, eq(c.staffId, staffId));
  ctx.audit.clientIds.push(...clients.map((row) => row.clientId));
  ctx.audit.resultCount = clients.length;
  ctx.audit.details = { month: totals.month };
  return { staffId, ...totals, clients };
}
