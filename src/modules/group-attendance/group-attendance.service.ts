import { sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { executePrepared } from '../../db/prepared.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { authorizeGroupSession, type GroupSessionRow } from '../../policy/group-access.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { today } from '../programs/programs.queries.js';
import type { AttendanceEntry, PutAttendanceBody, SessionAttendanceResponse } from './group-attendance.schema.js';

type RosterEntry = SessionAttendanceResponse['roster'][number];
type Recorded = NonNullable<RosterEntry['attendance']>;

/** A recorded row of the alias `a` as the response shows it, built in SQL for the roster read and the write alike. */
const recordedJson = sql`json_build_object('status', a.status, 'lateMinutes', a.late_minutes, 'leftEarlyMinutes', a.left_early_minutes,
  'noticeHours', a.notice_hours, 'homeworkReviewed', a.homework_reviewed, 'recordedBy', a.recorded_by, 'version', a.version,
  'updatedAt', a.updated_at)`;

type RecordedJson = Omit<Recorded, 'updatedAt'> & { updatedAt: string };
const fromJson = (row: RecordedJson): Recorded => ({ ...row, updatedAt: new Date(row.updatedAt) });

/**
 * The session's roster as it stands, in one query: each client enrolled in the group on the
 * session's date (with that enrollment) and each client with a recorded row (with it), by name.
 * Written in SQL: this runs on every attendance write, and the query builder's cost for a
 * full join of two subqueries was a large part of the request.
 */
async function loadRoster(db: DbOrTx, session: GroupSessionRow): Promise<Map<string, RosterEntry>> {
  const { clinicId, groupId, date, id } = session;
  const { rows } = await executePrepared<Omit<RosterEntry, 'attendance'> & { attendance: RecordedJson | null }>(
    db,
    'group_session_roster',
    sql`
    select c.id as "clientId", c.given_name as "givenName", c.family_name as "familyName", c.preferred_name as "preferredName",
           en.id as "enrollmentId", case when a.client_id is null then null else ${recordedJson} end as attendance
      from (select e.client_id, e.id from group_enrollments e
             where e.clinic_id = ${clinicId} and e.group_id = ${groupId} and e.start_date <= ${date}::date
               and (e.end_date is null or e.end_date >= ${date}::date)) en
      full join (select * from group_attendance r where r.clinic_id = ${clinicId} and r.session_id = ${id}) a
        on a.client_id = en.client_id
      join clients c on c.clinic_id = ${clinicId} and c.id = coalesce(en.client_id, a.client_id)`,
  );
  return new Map(rows.map((row) => [row.clientId, { ...row, attendance: row.attendance === null ? null : fromJson(row.attendance) }]));
}

/** The response: the session and its roster sorted by name; the clients shown go into the audit record. */
function respond(ctx: AuthedContext, session: GroupSessionRow, roster: Map<string, RosterEntry>): SessionAttendanceResponse {
  const sorted = [...roster.values()].sort(
    (x, y) => x.familyName.localeCompare(y.familyName) || x.givenName.localeCompare(y.givenName) || x.clientId.localeCompare(y.clientId),
  );
  ctx.audit.clientIds.push(...sorted.map((entry) => entry.clientId));
  ctx.audit.resultCount = sorted.length;
  const { id, groupId, date, status, module, moduleWeek } = session;
  return { session: { id, groupId, date, status, module, moduleWeek }, roster: sorted };
}

export async function readAttendance(db: Db, ctx: AuthedContext, sessionId: string): Promise<SessionAttendanceResponse> {
  const session = await authorizeGroupSession(db, ctx, sessionId, 'lead', { admin: true });
  return respond(ctx, session, await loadRoster(db, session));
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
    const session = await authorizeGroupSession(tx, ctx, sessionId, 'lead', { forUpdate: true });
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
    // The session's lock keeps the roster as read until this transaction ends.
    const roster = await loadRoster(tx, session);
    input.entries.forEach((entry, index) => {
      if (!roster.get(entry.clientId)?.enrollmentId)
        throw invalidField(`entries.${index}.clientId`, `is not enrolled in this group on ${session.date}`);
    });

    // One parameter for the whole roster; only rows whose values change are updated and returned.
    const entries = input.entries.map((entry) => ({
      client_id: entry.clientId,
      status: entry.status,
      late_minutes: entry.lateMinutes ?? null,
      left_early_minutes: entry.leftEarlyMinutes ?? null,
      notice_hours: entry.noticeHours ?? null,
      homework_reviewed: entry.homeworkReviewed,
    }));
    const { rows: changed } = await executePrepared<{ clientId: string; attendance: RecordedJson }>(
      tx,
      'group_attendance_upsert',
      sql`
      insert into group_attendance as a
             (clinic_id, session_id, client_id, status, late_minutes, left_early_minutes, notice_hours, homework_reviewed, recorded_by)
      select ${session.clinicId}, ${session.id}, r.client_id, r.status, r.late_minutes, r.left_early_minutes, r.notice_hours,
             r.homework_reviewed, ${ctx.actor.staffId}
        from jsonb_to_recordset(${JSON.stringify(entries)}::jsonb)
          as r (client_id uuid, status text, late_minutes int, left_early_minutes int, notice_hours int, homework_reviewed boolean)
      on conflict (clinic_id, session_id, client_id) do update
         set status = excluded.status, late_minutes = excluded.late_minutes, left_early_minutes = excluded.left_early_minutes,
             notice_hours = excluded.notice_hours, homework_reviewed = excluded.homework_reviewed,
             recorded_by = excluded.recorded_by, version = a.version + 1, updated_at = now()
       where (a.status, a.late_minutes, a.left_early_minutes, a.notice_hours, a.homework_reviewed)
             is distinct from (excluded.status, excluded.late_minutes, excluded.left_early_minutes, excluded.notice_hours,
                               excluded.homework_reviewed)
      returning a.client_id as "clientId", ${recordedJson} as attendance`,
    );
    // Only a changed row can move a streak.
    await reevaluateFourMiss(
      tx,
      session.clinicId,
      changed.map((row) => row.clientId),
      ctx.audit,
    );
    ctx.audit.details = { recorded: input.entries.length, changed: changed.length };
    for (const { clientId, attendance } of changed) {
      const entry = roster.get(clientId);
      if (entry) entry.attendance = fromJson(attendance);
    }
    return respond(ctx, session, roster);
  });
}
