import { z } from 'zod';
import { groupAttendanceKinds, groupSessionStatuses, skillModules } from '../../db/schema/index.js';
import { isoDateTime } from '../../lib/http.js';

const status = z.enum(groupAttendanceKinds);

export const attendanceRecordResponse = z
  .object({
    status,
    lateMinutes: z.number().int().nullable(),
    leftEarlyMinutes: z.number().int().nullable(),
    noticeHours: z.number().int().nullable(),
    homeworkReviewed: z.boolean(),
    recordedBy: z.uuid(),
    version: z.number().int(),
    updatedAt: isoDateTime,
  })
  .meta({ id: 'GroupAttendanceRecord' });

/**
 * A group session and its roster: every client enrolled on the session's date, and anyone with a
 * recorded attendance. Names only (registration) beside the attendance; nothing clinical.
 */
export const sessionAttendanceResponse = z
  .object({
    session: z.object({
      id: z.uuid(),
      groupId: z.uuid(),
      date: z.iso.date(),
      status: z.enum(groupSessionStatuses),
      module: z.enum(skillModules),
      moduleWeek: z.number().int(),
    }),
    roster: z.array(
      z.object({
        clientId: z.uuid(),
        givenName: z.string(),
        familyName: z.string(),
        preferredName: z.string().nullable(),
        enrollmentId: z.uuid().nullable().describe('the enrollment covering the session date; null if it no longer does'),
        attendance: attendanceRecordResponse.nullable().describe('null until attendance is recorded'),
      }),
    ),
  })
  .meta({ id: 'GroupSessionAttendance' });

const minutes = z.number().int().min(1).max(240);

/** One client's attendance; which of the detail fields apply depends on the status (checked in the service). */
export const attendanceEntry = z.strictObject({
  clientId: z.uuid(),
  status,
  lateMinutes: minutes.optional().describe('required for late, and only then'),
  leftEarlyMinutes: minutes.optional().describe('required for left_early, and only then'),
  noticeHours: z.number().int().min(0).max(720).optional().describe('only for absent_with_notice, when known'),
  homeworkReviewed: z.boolean(),
});

export const putAttendanceBody = z
  .strictObject({ entries: z.array(attendanceEntry).min(1).max(100) })
  .meta({ id: 'GroupAttendanceUpdate' });

export const groupSessionIdParams = z.strictObject({ id: z.uuid() });

export type SessionAttendanceResponse = z.infer<typeof sessionAttendanceResponse>;
export type AttendanceEntry = z.infer<typeof attendanceEntry>;
export type PutAttendanceBody = z.infer<typeof putAttendanceBody>;
