import { and, eq, gte, isNull, lte, or, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clients, groupAttendance, groupEnrollments, groupSessions } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { authorizeGroup } from '../../policy/group-access.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { today } from '../programs/programs.queries.js';
import type { AttendanceEntry, PutAttendanceBody, SessionAttendanceResponse } from './group-attendance.schema.js';

type GroupSessionRow = typeof groupSessions.$inferSelect;
type RosterEntry = SessionAttendanceResponse['roster'][number];

const a = groupAttendance;
const e = groupEnrollments;
const clientName = {
  clientId: clients.id,
  givenName: clients.givenName,
  familyName: clients.familyName,
  preferredName: clients.preferredName,
};

/** Loads a group session of the caller's clinic (404 otherwise) and checks the caller may work with its group. */
async function authorizeSession(db: DbOrTx, ctx: AuthedContext, sessionId: string, admin: boolean, forUpdate = false) {
  ctx.audit.resourceId = sessionId;
  const select = db
    .select()
    .from(groupSessions)
    .where(and(eq(groupSessions.clinicId, ctx.actor.clinicId), eq(groupSessions.id, sessionId)));
  const [session] = forUpdate ? await select.for('update') : await select;
  if (!session) throw notFound('Group session');
  await authorizeGroup(db, ctx, session.groupId, 'lead', { admin });
  return session;
}

/** The enrollments of the session's group that cover its date, by client. */
async function enrolledOn(db: DbOrTx, session: GroupSessionRow) {
  const rows = await db
    .select({ ...clientName, enrollmentId: e.id })
    .from(e)
    .innerJoin(clients, and(eq(clients.clinicId, e.clinicId), eq(clients.id, e.clientId)))
    .where(
      and(
        eq(e.clinicId, session.clinicId),
        eq(e.groupId, session.groupId),
        lte(e.startDate, session.date),
        or(isNull(e.endDate), gte(e.endDate, session.date)),
      ),
    );
  return new Map(rows.map((row) => [row.clientId, row]));
}

/** The session and its roster: the clients enrolled on its date and anyone with a recorded row, by name. */
async function sessionAttendance(
  db: DbOrTx,
  ctx: AuthedContext,
  session: GroupSessionRow,
  enrolled?: Awaited<ReturnType<typeof enrolledOn>>,
): Promise<SessionAttendanceResponse> {
  enrolled ??= await enrolledOn(db, session);
  const recorded = await db
    .select({ ...clientName, attendance: a })
    .from(a)
    .innerJoin(clients, and(eq(clients.clinicId, a.clinicId), eq(clients.id, a.clientId)))
    .where(and(eq(a.clinicId, session.clinicId), eq(a.sessionId, session.id)));
  const roster = new Map<string, RosterEntry>();
  for (const { enrollmentId, ...name } of enrolled.values()) roster.set(name.clientId, { ...name, enrollmentId, attendance: null });
  for (const { attendance: row, ...name } of recorded) {
    roster.set(name.clientId, {
      ...name,
      enrollmentId: enrolled.get(name.clientId)?.enrollmentId ?? null,
      attendance: {
        status: row.status,
        lateMinutes: row.lateMinutes,
        leftEarlyMinutes: row.leftEarlyMinutes,
        noticeHours: row.noticeHours,
        homeworkReviewed: row.homeworkReviewed,
        recordedBy: row.recordedBy,
        version: row.version,
        updatedAt: row.updatedAt,
      },
    });
  }
  const sorted = [...roster.values()].sort(
    (x, y) => x.familyName.localeCompare(y.familyName) || x.givenName.localeCompare(y.givenName) || x.clientId.localeCompare(y.clientId),
  );
  ctx.audit.clientIds.push(...sorted.map((entry) => entry.clientId));
  ctx.audit.resultCount = sorted.length;
  const { id, groupId, date, status, module, moduleWeek } = session;
  return { session: { id, groupId, date, status, module, moduleWeek }, roster: sorted };
}

export async function readAttendance(db: Db, ctx: AuthedContext, sessionId: string): Promise<SessionAttendanceResponse> {
  const session = await authorizeSession(db, ctx, sessionId, true);
  return sessionAttendance(db, ctx, session);
}

/** The detail fields of one entry must match its status: each one is required by its status and refused for any other. */
function checkEntry(entry: AttendanceEntry, index: number) {
  const field = (name: string) => `entries.${index}.${name}`;
  if (entry.status === 'late' && entry.lateMinutes === undefined)
    throw invalidField(field('lateMinutes'), 'is required when status is late');
  if (entry.status !== 'late' && entry.lateMinutes !== undefined) throw invalidField(field('lateMinutes'), 'is only for status late');
  if (entry.status === 'left_early' && entry.leftEarlyMinutes === undefined) {
    throw invalidField(field('leftEarlyMinutes'), 'is required when status is left_early');
  }
  if (entry.status !== 'left_early' && entry.leftEarlyMinutes !== undefined) {
    throw invalidField(field('leftEarlyMinutes'), 'is only for status left_early');
  }
  if (entry.status !== 'absent_with_notice' && entry.noticeHours !== undefined) {
    throw invalidField(field('noticeHours'), 'is only for status absent_with_notice');
  }
}

/**
 * Records the whole roster's attendance at once. A row whose values do not change keeps its
 * version; a changed row gets the next one. The four-miss rule is looked at again for everyone listed.
 */
export function putAttendance(db: Db, ctx: AuthedContext, sessionId: string, input: PutAttendanceBody): Promise<SessionAttendanceResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const session = await authorizeSession(tx, ctx, sessionId, false, true);
    if (session.status === 'cancelled_by_clinic') {
      throw new AppError('conflict', 'This session was cancelled by the clinic; attendance is not recorded for it');
    }
    if (session.date > today())
      throw new AppError('conflict', `This session is on ${session.date}; attendance is recorded on or after that day`);
    const seen = new Set<string>();
    input.entries.forEach((entry, index) => {
      if (seen.has(entry.clientId)) throw invalidField(`entries.${index}.clientId`, 'lists a client already listed earlier');
      seen.add(entry.clientId);
      checkEntry(entry, index);
    });
    const enrolled = await enrolledOn(tx, session);
    input.entries.forEach((entry, index) => {
      if (!enrolled.has(entry.clientId))
        throw invalidField(`entries.${index}.clientId`, `is not enrolled in this group on ${session.date}`);
    });

    const changed = await tx
      .insert(a)
      .values(
        input.entries.map((entry) => ({
          clinicId: session.clinicId,
          sessionId: session.id,
          clientId: entry.clientId,
          status: entry.status,
          lateMinutes: entry.lateMinutes ?? null,
          leftEarlyMinutes: entry.leftEarlyMinutes ?? null,
          noticeHours: entry.noticeHours ?? null,
          homeworkReviewed: entry.homeworkReviewed,
          recordedBy: ctx.actor.staffId,
        })),
      )
      .onConflictDoUpdate({
        target: [a.clinicId, a.sessionId, a.clientId],
        set: {
          status: sql`excluded.status`,
          lateMinutes: sql`excluded.late_minutes`,
          leftEarlyMinutes: sql`excluded.left_early_minutes`,
          noticeHours: sql`excluded.notice_hours`,
          homeworkReviewed: sql`excluded.homework_reviewed`,
          recordedBy: sql`excluded.recorded_by`,
          version: sql`${a.version} + 1`,
          updatedAt: sql`now()`,
        },
        setWhere: sql`(${a.status}, ${a.lateMinutes}, ${a.leftEarlyMinutes}, ${a.noticeHours}, ${a.homeworkReviewed})
          is distinct from (excluded.status, excluded.late_minutes, excluded.left_early_minutes, excluded.notice_hours, excluded.homework_reviewed)`,
      })
      .returning({ clientId: a.clientId });
    // Only a changed row can move a streak.
    await reevaluateFourMiss(
      tx,
      session.clinicId,
      changed.map((row) => row.clientId),
      ctx.audit,
    );
    ctx.audit.details = { recorded: input.entries.length, changed: changed.length };
    return sessionAttendance(tx, ctx, session, enrolled);
  });
}
