import { z } from 'zod';
import { enrollmentEndReasons } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

const date = z.iso.date();
const note = z.string().trim().min(1).max(2000);

/**
 * One client's membership of a group. The client appears by name only (registration): a roster
 * says who is in the group, nothing clinical.
 */
export const enrollmentResponse = z
  .object({
    id: z.uuid(),
    groupId: z.uuid(),
    clientId: z.uuid(),
    givenName: z.string(),
    familyName: z.string(),
    preferredName: z.string().nullable(),
    startDate: date,
    endDate: date.nullable().describe('last day of membership (inclusive); null while the client is a member'),
    endReason: z.enum(enrollmentEndReasons).nullable(),
    endNote: z.string().nullable(),
    createdBy: z.uuid(),
    endedBy: z.uuid().nullable(),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'GroupEnrollment' });

export const enrollmentPage = page(enrollmentResponse).meta({ id: 'GroupEnrollmentPage' });

export const groupIdParams = z.strictObject({ id: z.uuid() });
export const enrollmentParams = z.strictObject({ id: z.uuid(), enrollmentId: z.uuid() });

export const listEnrollmentsQuery = z
  .strictObject({
    ...pageQuery,
    activeOn: date.optional().describe('only enrollments covering this date (YYYY-MM-DD)'),
    includeEnded: z
      .enum(['true', 'false'])
      .default('false')
      .describe('true lists every enrollment, ended ones included; by default, those active today or starting later'),
  })
  .refine((q) => !q.activeOn || q.includeEnded === 'false', { path: ['includeEnded'], message: 'cannot be combined with activeOn' });

export const createEnrollmentBody = z.strictObject({
  clientId: z.uuid(),
  startDate: date.describe('first day of membership; where the program admits new members only at a module start, in its first week'),
});

export const endEnrollmentBody = z.strictObject({
  endDate: date.describe('last day of membership (inclusive), not before the start date'),
  reason: z.enum(enrollmentEndReasons),
  note: note.optional(),
});

export { ifMatchHeaders };

export type EnrollmentResponse = z.infer<typeof enrollmentResponse>;
export type ListEnrollmentsQuery = z.infer<typeof listEnrollmentsQuery>;
export type CreateEnrollmentBody = z.infer<typeof createEnrollmentBody>;
export type EndEnrollmentBody = z.infer<typeof endEnrollmentBody>;
