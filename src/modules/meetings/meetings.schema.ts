import { z } from 'zod';
import { meetingAttendanceKinds, teamAgreements } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

const text = z.string().max(20_000);

const attendanceEntry = z
  .strictObject({
    staffId: z.uuid(),
    status: z.enum(meetingAttendanceKinds),
    lateMinutes: z.number().int().min(1).max(240).nullable().optional().describe('required when late'),
  })
  .meta({ id: 'MeetingAttendance' });

const roleIds = {
  meetingLeaderId: z.uuid().nullable(),
  mindfulnessLeaderId: z.uuid().nullable(),
  observerId: z.uuid().nullable(),
  noteTakerId: z.uuid().nullable(),
};

export const createMeetingBody = z.strictObject({
  date: z.iso.date().describe('local date of the meeting, YYYY-MM-DD'),
  durationMinutes: z.number().int().min(15).max(240).default(60),
});

/** Roles are set by the team lead only; the service refuses anyone else. */
export const updateMeetingBody = z
  .strictObject({
    durationMinutes: z.number().int().min(15).max(240).optional(),
    attendance: z.array(attendanceEntry).max(40).optional().describe('every member, present, late (with minutes) or absent'),
    meetingLeaderId: roleIds.meetingLeaderId.optional(),
    mindfulnessLeaderId: roleIds.mindfulnessLeaderId.optional(),
    observerId: roleIds.observerId.optional(),
    noteTakerId: roleIds.noteTakerId.optional(),
    agreementRead: z.enum(teamAgreements).nullable().optional().describe('which of the six agreements was read'),
    observerNotes: text.nullable().optional().describe("the observer's notes on the agreements and the team's process"),
    minutes: text.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const meetingResponse = z
  .object({
    id: z.uuid(),
    teamId: z.uuid(),
    date: z.iso.date(),
    durationMinutes: z.number().int(),
    attendance: z.array(z.object({ staffId: z.uuid(), status: z.enum(meetingAttendanceKinds), lateMinutes: z.number().int().nullable() })),
    ...roleIds,
    agreementRead: z.enum(teamAgreements).nullable(),
    observerNotes: z.string().nullable(),
    minutes: z.string().nullable(),
    prefillSince: isoDateTime.describe('the start of the data the pre-fill looked at: the previous meeting’s day, or a week before'),
    prefilledAt: isoDateTime,
    createdBy: z.uuid(),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'TeamMeeting' });

export const createdMeetingResponse = meetingResponse
  .extend({
    carriedOver: z.number().int().describe('unfinished items carried over from the previous meeting'),
    proposals: z.number().int().describe('agenda items the pre-fill proposes (see …/proposals)'),
  })
  .meta({ id: 'CreatedTeamMeeting' });

export const teamIdParams = z.strictObject({ id: z.uuid() });
export const meetingIdParams = z.strictObject({ id: z.uuid() });
export const listMeetingsQuery = z.strictObject({
  ...pageQuery,
  from: z.iso.date().optional().describe('meetings on or after this date'),
  to: z.iso.date().optional().describe('meetings on or before this date'),
});
export const meetingPage = page(meetingResponse);
export { ifMatchHeaders };

export type MeetingResponse = z.infer<typeof meetingResponse>;
export type CreateMeetingBody = z.output<typeof createMeetingBody>;
export type UpdateMeetingBody = z.output<typeof updateMeetingBody>;
export type ListMeetingsQuery = z.output<typeof listMeetingsQuery>;
