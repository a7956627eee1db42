import { and, asc, eq, gte, isNull, lte, or, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { type CurriculumBlock, groupEnrollments, groupSessions } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeGroup, authorizeGroupSession, type SkillsGroupRow } from '../../policy/group-access.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { checkSkills } from '../skills/skills.queries.js';
import { type CurriculumPosition, curriculumPosition, cycleWeekOf, datesOnWeekday } from '../skills-groups/skills-groups.curriculum.js';
import type {
  CreateGroupSessionBody,
  GenerateGroupSessionsBody,
  GroupSessionResponse,
  ListGroupSessionsQuery,
  UpdateGroupSessionBody,
} from './group-sessions.schema.js';

type GroupSessionRow = typeof groupSessions.$inferSelect;

const toResponse = (row: GroupSessionRow): GroupSessionResponse => ({
  id: row.id,
  groupId: row.groupId,
  date: row.date,
  module: row.module,
  moduleWeek: row.moduleWeek,
  cycleWeek: row.cycleWeek,
  skillIds: row.skillIds,
  homework: row.homework,
  status: row.status,
  cancelReason: row.cancelReason,
  cancelledBy: row.cancelledBy,
  cancelledAt: row.cancelledAt,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

function checkActive(group: SkillsGroupRow) {
  if (!group.active) throw new AppError('conflict', 'The group is inactive; reactivate it before adding sessions');
}

/**
 * Module and weeks of a session on a date. From the cycle start on, the curriculum gives the
 * defaults and the cycle week; before it the caller names module and week, and the cycle week is
 * that module week's place in the curriculum.
 */
function weeksOf(group: { cycleStartDate: string; curriculum: CurriculumBlock[] }, date: string, input: CreateGroupSessionBody) {
  const position = curriculumPosition(group, date);
  if (!position) {
    const before = `is required for a date before the cycle starts (${group.cycleStartDate})`;
    if (!input.module) throw invalidField('module', before);
    if (!input.moduleWeek) throw invalidField('moduleWeek', before);
    const cycleWeek = cycleWeekOf(group.curriculum, input.module, input.moduleWeek);
    if (cycleWeek === null) throw invalidField('moduleWeek', `must be a week of a ${input.module} block of the group's curriculum`);
    return { module: input.module, moduleWeek: input.moduleWeek, cycleWeek };
  }
  const module = input.module ?? position.module;
  if (input.moduleWeek === undefined && module !== position.module) {
    throw invalidField('moduleWeek', `is required when module is not the curriculum's (${position.module})`);
  }
  return { module, moduleWeek: input.moduleWeek ?? position.moduleWeek, cycleWeek: position.cycleWeek };
}

/** A group's sessions in date order, cancelled ones included. */
export async function listGroupSessions(db: Db, ctx: AuthedContext, groupId: string, query: ListGroupSessionsQuery) {
  ctx.audit.resourceId = groupId;
  await authorizeGroup(db, ctx, groupId, 'read');
  const s = groupSessions;
  const clinicId = ctx.actor.clinicId;
  const rows = await db
    .select()
    .from(s)
    .where(
      and(
        eq(s.clinicId, clinicId),
        eq(s.groupId, groupId),
        query.from ? gte(s.date, query.from) : undefined,
        query.to ? lte(s.date, query.to) : undefined,
        query.cursor
          ? sql`(${s.date}, ${s.id}) > (select c.date, c.id from group_sessions c where c.clinic_id = ${clinicId} and c.id = ${query.cursor})`
          : undefined,
      ),
    )
    .orderBy(asc(s.date), asc(s.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toResponse), query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createGroupSession(
  db: Db,
  ctx: AuthedContext,
  groupId: string,
  input: CreateGroupSessionBody,
): Promise<GroupSessionResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      ctx.audit.resourceId = groupId;
      const group = await authorizeGroup(tx, ctx, groupId, 'lead', { admin: true });
      checkActive(group);
      const weeks = weeksOf(group, input.date, input);
      const skillIds = await checkSkills(tx, group.clinicId, input.skillIds ?? []);
      const [row] = await tx
        .insert(groupSessions)
        .values({
          clinicId: group.clinicId,
          id: uuidv7(),
          groupId,
          date: input.date,
          ...weeks,
          skillIds,
          homework: input.homework ?? null,
          createdBy: ctx.actor.staffId,
        })
        .returning();
      const created = row as GroupSessionRow;
      ctx.audit.resourceId = created.id;
      ctx.audit.details = { groupId, date: created.date, fields: Object.keys(input).sort() };
      return toResponse(created);
    }),
    () => new AppError('conflict', 'The group already has a session on this date'),
  );
}

/**
 * One session on every meeting day of the range from the cycle start on, module and weeks from
 * the curriculum. Dates that already have a session (cancelled ones too) are skipped, by the
 * unique key rather than a prior read, so two overlapping requests never create a date twice.
 */
export function generateGroupSessions(db: Db, ctx: AuthedContext, groupId: string, input: GenerateGroupSessionsBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    ctx.audit.resourceId = groupId;
    const group = await authorizeGroup(tx, ctx, groupId, 'lead', { admin: true });
    checkActive(group);
    const dates = datesOnWeekday(input.from, input.to, group.weekday).filter((date) => date >= group.cycleStartDate);
    const rows =
      dates.length === 0
        ? []
        : await tx
            .insert(groupSessions)
            .values(
              dates.map((date) => {
                const position = curriculumPosition(group, date) as CurriculumPosition;
                const { module, moduleWeek, cycleWeek } = position;
                return {
                  clinicId: group.clinicId,
                  id: uuidv7(),
                  groupId,
                  date,
                  module,
                  moduleWeek,
                  cycleWeek,
                  createdBy: ctx.actor.staffId,
                };
              }),
            )
            .onConflictDoNothing({ target: [groupSessions.clinicId, groupSessions.groupId, groupSessions.date] })
            .returning();
    const created = rows.sort((a, b) => a.date.localeCompare(b.date));
    const createdDates = new Set(created.map((row) => row.date));
    const skipped = dates.filter((date) => !createdDates.has(date));
    ctx.audit.details = { from: input.from, to: input.to, created: created.length, skipped: skipped.length };
    return { created: created.map(toResponse), skipped };
  });
}

export async function readGroupSession(db: Db, ctx: AuthedContext, sessionId: string): Promise<GroupSessionResponse> {
  return toResponse(await authorizeGroupSession(db, ctx, sessionId, 'read', { admin: true }));
}

const refuseCancelled = (session: GroupSessionRow, doing: string) => {
  if (session.status === 'cancelled_by_clinic') throw new AppError('conflict', `The session was cancelled; it cannot be ${doing}`);
};

/** Skills, homework, module and module week; the date is fixed (cancel and create another). */
export function updateGroupSession(
  db: Db,
  ctx: AuthedContext,
  sessionId: string,
  ifMatch: string | undefined,
  input: UpdateGroupSessionBody,
): Promise<GroupSessionResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const current = await authorizeGroupSession(tx, ctx, sessionId, 'lead', { admin: true, forUpdate: true });
    checkIfMatch(ifMatch, current.version);
    refuseCancelled(current, 'changed');
    const next: Partial<GroupSessionRow> = {
      ...(input.module !== undefined && { module: input.module }),
      ...(input.moduleWeek !== undefined && { moduleWeek: input.moduleWeek }),
      ...(input.homework !== undefined && { homework: input.homework }),
    };
    if (input.skillIds !== undefined) next.skillIds = await checkSkills(tx, current.clinicId, input.skillIds);
    const fields = Object.entries(next)
      .filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(current[key as keyof GroupSessionRow]))
      .map(([key]) => key)
      .sort();
    ctx.audit.details = { fields };
    const [row] = await tx
      .update(groupSessions)
      .set({ ...next, version: current.version + 1, updatedAt: sql`now()` })
      .where(and(eq(groupSessions.clinicId, current.clinicId), eq(groupSessions.id, sessionId)))
      .returning();
    return toResponse(row as GroupSessionRow);
  });
}

/**
 * A clinic cancellation is a state with a reason, never a deletion. It counts as neither attended
 * nor missed, so the four-miss rule is re-evaluated for everyone enrolled on that date.
 */
export function cancelGroupSession(
  db: Db,
  ctx: AuthedContext,
  sessionId: string,
  ifMatch: string | undefined,
  reason: string,
): Promise<GroupSessionResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const current = await authorizeGroupSession(tx, ctx, sessionId, 'lead', { admin: true, forUpdate: true });
    checkIfMatch(ifMatch, current.version);
    refuseCancelled(current, 'cancelled again');
    const [row] = await tx
      .update(groupSessions)
      .set({
        status: 'cancelled_by_clinic',
        cancelReason: reason,
        cancelledBy: ctx.actor.staffId,
        cancelledAt: sql`now()`,
        version: current.version + 1,
        updatedAt: sql`now()`,
      })
      .where(and(eq(groupSessions.clinicId, current.clinicId), eq(groupSessions.id, sessionId)))
      .returning();
    const e = groupEnrollments;
    const enrolled = await tx
      .selectDistinct({ clientId: e.clientId })
      .from(e)
      .where(
        and(
          eq(e.clinicId, current.clinicId),
          eq(e.groupId, current.groupId),
          lte(e.startDate, current.date),
          or(isNull(e.endDate), gte(e.endDate, current.date)),
        ),
      );
    const clientIds = enrolled.map((enrollment) => enrollment.clientId);
    await reevaluateFourMiss(tx, current.clinicId, clientIds, ctx.audit);
    ctx.audit.clientIds = clientIds;
    ctx.audit.details = { reason };
    return toResponse(row as GroupSessionRow);
  });
}
