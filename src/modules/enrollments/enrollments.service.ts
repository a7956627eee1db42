import { and, asc, eq, gte, isNull, lte, or, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clients, groupEnrollments, skillsGroups } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { clientOfClinic } from '../../policy/client-access.js';
import { authorizeGroup, type SkillsGroupRow } from '../../policy/group-access.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { policyInForce, today } from '../programs/programs.queries.js';
import { curriculumPosition } from '../skills-groups/skills-groups.curriculum.js';
import { episodesOf, lockClient } from '../treatment/episodes.queries.js';
import type { CreateEnrollmentBody, EndEnrollmentBody, EnrollmentResponse, ListEnrollmentsQuery } from './enrollments.schema.js';

type EnrollmentRow = typeof groupEnrollments.$inferSelect;
type ClientName = Pick<typeof clients.$inferSelect, 'givenName' | 'familyName' | 'preferredName'>;

const e = groupEnrollments;
const clientName = { givenName: clients.givenName, familyName: clients.familyName, preferredName: clients.preferredName };
const withClient = and(eq(clients.clinicId, e.clinicId), eq(clients.id, e.clientId));

const toResponse = (row: EnrollmentRow, name: ClientName): EnrollmentResponse => ({
  id: row.id,
  groupId: row.groupId,
  clientId: row.clientId,
  givenName: name.givenName,
  familyName: name.familyName,
  preferredName: name.preferredName,
  startDate: row.startDate,
  endDate: row.endDate,
  endReason: row.endReason,
  endNote: row.endNote,
  createdBy: row.createdBy,
  endedBy: row.endedBy,
  version: row.version,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Enrollments still running on or after a date (every enrollment here is open-ended or ends later). */
const runningFrom = (day: string) => or(isNull(e.endDate), gte(e.endDate, day));

/** The roster of a group: by default, enrollments active today or starting later. */
export async function listEnrollments(db: Db, ctx: AuthedContext, groupId: string, query: ListEnrollmentsQuery) {
  ctx.audit.resourceId = groupId;
  await authorizeGroup(db, ctx, groupId, 'lead', { admin: true });
  const rows = await db
    .select({ enrollment: e, name: clientName })
    .from(e)
    .innerJoin(clients, withClient)
    .where(
      and(
        eq(e.clinicId, ctx.actor.clinicId),
        eq(e.groupId, groupId),
        query.activeOn ? and(lte(e.startDate, query.activeOn), runningFrom(query.activeOn)) : undefined,
        !query.activeOn && query.includeEnded === 'false' ? runningFrom(today()) : undefined,
        query.cursor
          ? sql`(${e.startDate}, ${e.id}) > (select c.start_date, c.id from group_enrollments c where c.clinic_id = ${ctx.actor.clinicId} and c.id = ${query.cursor})`
          : undefined,
      ),
    )
    .orderBy(asc(e.startDate), asc(e.id))
    .limit(query.limit + 1);
  const result = toPage(
    rows.map((row) => toResponse(row.enrollment, row.name)),
    query.limit,
  );
  ctx.audit.clientIds.push(...result.items.map((item) => item.clientId));
  ctx.audit.resultCount = result.items.length;
  return result;
}

/** The most of the given enrollments that cover any one day from `start` on. */
function peakOverlap(enrollments: Pick<EnrollmentRow, 'startDate' | 'endDate'>[], start: string): number {
  const days = new Set([start, ...enrollments.map((other) => (other.startDate > start ? other.startDate : start))]);
  const covering = (day: string) =>
    enrollments.filter((other) => other.startDate <= day && (other.endDate === null || other.endDate >= day)).length;
  return Math.max(0, ...[...days].map(covering));
}

/** New members join in the first week of a module block where the program says so. */
function checkModuleStart(group: SkillsGroupRow, startDate: string) {
  const position = curriculumPosition(group, startDate);
  if (position?.moduleWeek === 1) return;
  const next = position ? position.nextModuleStart : group.cycleStartDate;
  throw new AppError(
    'conflict',
    `This program admits new members only in the first week of a module; ${startDate} is not, and the next module of this group starts on ${next}`,
  );
}

/** Where the program requires it, a group member is in active individual treatment with a primary therapist. */
async function checkIndividualTreatment(tx: DbOrTx, client: typeof clients.$inferSelect) {
  const requirement = 'This program takes clients into a skills group only alongside individual therapy';
  const episodes = await episodesOf(tx, client.clinicId, client.id);
  if (!episodes.some((episode) => episode.status === 'active')) {
    throw new AppError('conflict', `${requirement}: the client has no active treatment episode`);
  }
  if (!client.primaryTherapistId) throw new AppError('conflict', `${requirement}: the client has no primary therapist`);
}

/** A client is in one group at a time: refuse an enrollment running alongside another. */
async function checkNoOtherEnrollment(tx: DbOrTx, clinicId: string, clientId: string, startDate: string) {
  const [other] = await tx
    .select({ name: skillsGroups.name, startDate: e.startDate, endDate: e.endDate })
    .from(e)
    .innerJoin(skillsGroups, and(eq(skillsGroups.clinicId, e.clinicId), eq(skillsGroups.id, e.groupId)))
    .where(and(eq(e.clinicId, clinicId), eq(e.clientId, clientId), runningFrom(startDate)))
    .orderBy(asc(e.startDate))
    .limit(1);
  if (!other) return;
  const period = other.endDate ? `from ${other.startDate} to ${other.endDate}` : `from ${other.startDate}, with no end date`;
  throw new AppError('conflict', `The client is already enrolled in the group "${other.name}" ${period}, overlapping this enrollment`);
}

async function checkCapacity(tx: DbOrTx, group: SkillsGroupRow, groupSizeLimit: number, startDate: string) {
  const capacity = group.capacity ?? groupSizeLimit;
  const others = await tx
    .select({ startDate: e.startDate, endDate: e.endDate })
    .from(e)
    .where(and(eq(e.clinicId, group.clinicId), eq(e.groupId, group.id), runningFrom(startDate)));
  if (peakOverlap(others, startDate) + 1 > capacity) {
    throw new AppError('conflict', `The group is full: its capacity is ${capacity} and no place is free from ${startDate} on`);
  }
}

/**
 * Enrolls a client. The group row is locked, so enrollments of one group are decided one after
 * the other, and the client row, so one client's enrollments are too.
 */
export function createEnrollment(db: Db, ctx: AuthedContext, groupId: string, input: CreateEnrollmentBody): Promise<EnrollmentResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const group = await authorizeGroup(tx, ctx, groupId, 'lead', { admin: true, forUpdate: true });
    if (!group.active) throw new AppError('conflict', 'This group is inactive and takes no new members');
    await lockClient(tx, group.clinicId, input.clientId);
    const client = await clientOfClinic(tx, group.clinicId, input.clientId);
    ctx.audit.clientIds.push(client.id);
    if (client.enteredInErrorAt) throw new AppError('conflict', 'This client record was entered in error and cannot be enrolled');
    if (client.programId !== group.programId) {
      throw new AppError('conflict', "The client is in another program than this group's; a group takes clients of its own program only");
    }
    const policy = await policyInForce(tx, group.clinicId, group.programId, input.startDate);
    if (!policy) throw invalidField('startDate', "is before any policy of the group's program takes effect");
    if (policy.entryAtModuleStartOnly) checkModuleStart(group, input.startDate);
    if (policy.groupRequiresIndividual) await checkIndividualTreatment(tx, client);
    await checkNoOtherEnrollment(tx, group.clinicId, client.id, input.startDate);
    await checkCapacity(tx, group, policy.groupSizeLimit, input.startDate);

    const [row] = await tx
      .insert(e)
      .values({
        clinicId: group.clinicId,
        id: uuidv7(),
        groupId,
        clientId: client.id,
        startDate: input.startDate,
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as EnrollmentRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { startDate: input.startDate, policyVersion: policy.version };
    return toResponse(created, client);
  });
}

/** Ends a membership on its last day (If-Match required); the four-miss rule is looked at again. */
export function endEnrollment(
  db: Db,
  ctx: AuthedContext,
  params: { id: string; enrollmentId: string },
  ifMatch: string | undefined,
  input: EndEnrollmentBody,
): Promise<EnrollmentResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    ctx.audit.resourceId = params.enrollmentId;
    const group = await authorizeGroup(tx, ctx, params.id, 'lead', { admin: true });
    const [found] = await tx
      .select({ enrollment: e, name: clientName })
      .from(e)
      .innerJoin(clients, withClient)
      .where(and(eq(e.clinicId, group.clinicId), eq(e.groupId, group.id), eq(e.id, params.enrollmentId)))
      .for('update', { of: e });
    if (!found) throw notFound('Enrollment');
    const current = found.enrollment;
    ctx.audit.clientIds.push(current.clientId);
    checkIfMatch(ifMatch, current.version);
    if (current.endDate !== null) {
      throw new AppError('conflict', `This enrollment has already ended, on ${current.endDate} (${current.endReason ?? 'no reason'})`);
    }
    if (input.endDate < current.startDate) throw invalidField('endDate', `must not be before the start date ${current.startDate}`);
    const [row] = await tx
      .update(e)
      .set({
        endDate: input.endDate,
        endReason: input.reason,
        endNote: input.note ?? null,
        endedBy: ctx.actor.staffId,
        version: current.version + 1,
        updatedAt: sql`now()`,
      })
      .where(and(eq(e.clinicId, group.clinicId), eq(e.id, current.id)))
      .returning();
    await reevaluateFourMiss(tx, group.clinicId, [current.clientId], ctx.audit);
    ctx.audit.details = { endDate: input.endDate, reason: input.reason };
    return toResponse(row as EnrollmentRow, found.name);
  });
}
