import { and, desc, eq, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinicDateToday, clinicTimeZone } from '../../db/clinic-date.js';
import { onUniqueViolation } from '../../db/errors.js';
import { agendaItems, type MeetingAttendance, meetingRoles, teamMeetings, teamMembers } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch, encodeCursor } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeMeeting, authorizeTeam, type MeetingRow, type TeamRow } from '../../policy/team-access.js';
import { prefillMeeting } from '../team-prefill/team-prefill.queries.js';
import type { CreateMeetingBody, ListMeetingsQuery, MeetingResponse, UpdateMeetingBody } from './meetings.schema.js';

export const toMeetingResponse = (row: MeetingRow): MeetingResponse => ({
  id: row.id,
  teamId: row.teamId,
  date: row.date,
  durationMinutes: row.durationMinutes,
  attendance: row.attendance,
  meetingLeaderId: row.meetingLeaderId,
  mindfulnessLeaderId: row.mindfulnessLeaderId,
  observerId: row.observerId,
  noteTakerId: row.noteTakerId,
  agreementRead: row.agreementRead,
  observerNotes: row.observerNotes,
  minutes: row.minutes,
  prefillSince: row.prefillSince,
  prefilledAt: row.prefilledAt,
  createdBy: row.createdBy,
  version: row.version,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const mt = teamMeetings;

/** Newest first; the cursor is the last meeting's id, and the next page starts before its date. */
export async function listMeetings(db: Db, ctx: AuthedContext, teamId: string, query: ListMeetingsQuery) {
  ctx.audit.resourceId = teamId;
  const team = await authorizeTeam(db, ctx, teamId, 'member');
  const before = query.cursor
    ? sql`${mt.date} < (select c.date from team_meetings c where c.clinic_id = ${team.clinicId} and c.id = ${query.cursor})`
    : undefined;
  const rows = await db
    .select()
    .from(mt)
    .where(
      and(
        eq(mt.clinicId, team.clinicId),
        eq(mt.teamId, team.id),
        query.from ? gte(mt.date, query.from) : undefined,
        query.to ? lte(mt.date, query.to) : undefined,
        before,
      ),
    )
    .orderBy(desc(mt.date))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit).map(toMeetingResponse);
  const last = items.at(-1);
  ctx.audit.resultCount = items.length;
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
}

/** Local midnight of a date in the clinic's time zone, as a timestamptz. */
const localMidnight = (clinicId: string, date: SQL) => sql`((${date})::timestamp at time zone ${clinicTimeZone(clinicId)})`;

/**
 * Unfinished items of the previous meeting move to the new one with their category and request
 * time, so they keep their priority; the previous meeting's copy is marked carried_over. Only from
 * a meeting already held (on or before today), so planning two meetings ahead empties nothing.
 */
async function carryOver(tx: DbOrTx, meeting: MeetingRow, previous: MeetingRow | undefined) {
  if (!previous) return [];
  const clinicId = meeting.clinicId;
  const open = await tx
    .update(agendaItems)
    .set({ status: 'carried_over', version: sql`${agendaItems.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(agendaItems.clinicId, clinicId),
        eq(agendaItems.meetingId, previous.id),
        eq(agendaItems.status, 'open'),
        sql`${previous.date}::date <= ${clinicDateToday(clinicId)}`,
      ),
    )
    .returning();
  if (open.length === 0) return [];
  await tx.insert(agendaItems).values(
    open.map((item) => ({
      ...item,
      id: uuidv7(),
      meetingId: meeting.id,
      status: 'open' as const,
      carriedFromId: item.id,
      version: 1,
      createdAt: undefined,
      updatedAt: undefined,
    })),
  );
  return open;
}

/**
 * Creates a meeting: carries over the previous meeting's unfinished items and runs the pre-fill
 * over the team's clients since the previous meeting's day (or the week before the date).
 */
export function createMeeting(db: Db, ctx: AuthedContext, teamId: string, input: CreateMeetingBody) {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      ctx.audit.resourceId = teamId;
      const team = await authorizeTeam(tx, ctx, teamId, 'member', { forUpdate: true });
      const clinicId = team.clinicId;
      const [previous] = await tx
        .select()
        .from(mt)
        .where(and(eq(mt.clinicId, clinicId), eq(mt.teamId, team.id), lt(mt.date, input.date)))
        .orderBy(desc(mt.date))
        .limit(1);
      const sinceDay = previous ? sql`${previous.date}::date` : sql`${input.date}::date - 7`;
      const [row] = await tx
        .insert(mt)
        .values({
          clinicId,
          id: uuidv7(),
          teamId: team.id,
          date: input.date,
          durationMinutes: input.durationMinutes,
          prefillSince: localMidnight(clinicId, sinceDay),
          prefilledAt: sql`now()`,
          createdBy: ctx.actor.staffId,
        })
        .returning();
      const meeting = row as MeetingRow;
      ctx.audit.resourceId = meeting.id;
      const carried = await carryOver(tx, meeting, previous);
      const { proposals, clientIds } = await prefillMeeting(tx, team, meeting);
      const touched = new Set([...carried.flatMap((item) => (item.clientId ? [item.clientId] : [])), ...clientIds]);
      ctx.audit.clientIds.push(...touched);
      ctx.audit.details = {
        date: meeting.date,
        previousMeetingId: previous?.id ?? null,
        carriedOver: carried.length,
        proposals: proposals.length,
      };
      return { ...toMeetingResponse(meeting), carriedOver: carried.length, proposals: proposals.length };
    }),
    () => new AppError('conflict', 'The team already has a meeting on this date'),
  );
}

export async function readMeeting(db: Db, ctx: AuthedContext, meetingId: string): Promise<MeetingResponse> {
  const { meeting } = await authorizeMeeting(db, ctx, meetingId);
  return toMeetingResponse(meeting);
}

/** Members of the team on the meeting's date: who may attend and hold its roles. */
async function membersOn(tx: DbOrTx, team: TeamRow, date: string): Promise<Set<string>> {
  const rows = await tx
    .select({ staffId: teamMembers.staffId })
    .from(teamMembers)
    .where(
      and(
        eq(teamMembers.clinicId, team.clinicId),
        eq(teamMembers.teamId, team.id),
        lte(teamMembers.joinedOn, date),
        sql`(${teamMembers.leftOn} is null or ${teamMembers.leftOn} > ${date}::date)`,
      ),
    );
  return new Set(rows.map((row) => row.staffId));
}

function checkAttendance(attendance: UpdateMeetingBody['attendance'], members: Set<string>): MeetingAttendance[] | undefined {
  if (!attendance) return undefined;
  const seen = new Set<string>();
  return attendance.map((entry, index) => {
    if (!members.has(entry.staffId)) throw invalidField(`attendance.${index}.staffId`, 'must be a member of the team on the meeting date');
    if (seen.has(entry.staffId)) throw invalidField(`attendance.${index}.staffId`, 'must not repeat');
    seen.add(entry.staffId);
    const late = entry.status === 'late';
    if (late && !entry.lateMinutes) throw invalidField(`attendance.${index}.lateMinutes`, 'is required when late');
    if (!late && entry.lateMinutes) throw invalidField(`attendance.${index}.lateMinutes`, 'is only for members who came late');
    return { staffId: entry.staffId, status: entry.status, lateMinutes: late ? (entry.lateMinutes ?? null) : null };
  });
}

const roleField = (role: (typeof meetingRoles)[number]) => `${role}Id` as const;

/**
 * Keeps the meeting's record. Any current member records attendance, the agreement read, the
 * observer's notes and minutes; only the lead assigns the roles.
 */
export function updateMeeting(db: Db, ctx: AuthedContext, meetingId: string, ifMatch: string | undefined, input: UpdateMeetingBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const { meeting, team } = await authorizeMeeting(tx, ctx, meetingId, 'member', { forUpdate: true });
    const roleChanges = meetingRoles.map(roleField).filter((field) => input[field] !== undefined && input[field] !== meeting[field]);
    if (roleChanges.length > 0 && team.leadId !== ctx.actor.staffId) {
      throw new AppError('forbidden', 'Only the team lead assigns the meeting roles', { denialReason: 'roles-lead-only' });
    }
    checkIfMatch(ifMatch, meeting.version);
    const members = await membersOn(tx, team, meeting.date);
    for (const field of roleChanges) {
      const staffId = input[field];
      if (staffId && !members.has(staffId)) throw invalidField(field, 'must be a member of the team on the meeting date');
    }
    const { attendance: _, ...rest } = input;
    const attendance = checkAttendance(input.attendance, members);
    ctx.audit.details = { fields: Object.keys(input).sort() };
    const [row] = await tx
      .update(mt)
      .set({ ...rest, ...(attendance ? { attendance } : {}), version: meeting.version + 1, updatedAt: sql`now()` })
      .where(and(eq(mt.clinicId, meeting.clinicId), eq(mt.id, meeting.id)))
      .returning();
    return toMeetingResponse(row as MeetingRow);
  });
}
