import { z } from 'zod';
import { attendanceKinds, riskLevels, sessionTypes } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

const sessionType = z.enum(sessionTypes);
const attendance = z.enum(attendanceKinds);
const riskLevel = z.enum(riskLevels);

/**
 * What a list shows: the structured facts of a session. The free text (session note, homework)
 * is read one session at a time, so a list is never where clinical notes are read.
 */
export const sessionSummaryResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    therapistId: z.uuid(),
    scheduledStart: isoDateTime,
    durationMinutes: z.number().int(),
    type: sessionType,
    attendance,
    lateMinutes: z.number().int().nullable(),
    noticeHours: z.number().int().nullable(),
    diaryCardId: z.uuid().nullable(),
    diaryCardMissing: z.boolean(),
    riskAssessmentDone: z.boolean(),
    riskLevel: riskLevel.nullable(),
    skillIds: z.array(z.uuid()),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'IndividualSessionSummary' });

/** One session with its clinical text. Psychotherapy notes are never part of it. */
export const sessionResponse = sessionSummaryResponse
  .extend({
    homework: z.string().nullable(),
    note: z.string().nullable(),
    /** Whether the caller has written a psychotherapy note on this session; says nothing about anyone else's. */
    psychotherapyNoteByYou: z.boolean(),
  })
  .meta({ id: 'IndividualSession' });

export const psychotherapyNoteResponse = z
  .object({
    id: z.uuid(),
    sessionId: z.uuid(),
    authorId: z.uuid(),
    body: z.string(),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'PsychotherapyNote' });

const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.trim().length > 0, 'must not be blank');

/** Fields a session can be created with and changed by PATCH; combinations are checked in the service. */
const sessionFields = {
  scheduledStart: isoDateTime,
  durationMinutes: z.number().int().min(15).max(240),
  type: sessionType,
  attendance: attendance.optional(),
  lateMinutes: z.number().int().min(1).max(240).optional(),
  noticeHours: z.number().int().min(0).max(720).optional(),
  diaryCardId: z.uuid().nullable().optional(),
  diaryCardMissing: z.boolean().optional(),
  riskAssessmentDone: z.boolean().optional(),
  riskLevel: riskLevel.nullable().optional(),
  skillIds: z.array(z.uuid()).max(100).optional(),
  homework: text(4000).nullable().optional(),
  note: text(20000).nullable().optional(),
};

export const createSessionBody = z.strictObject({ ...sessionFields, therapistId: z.uuid().optional() });

export const updateSessionBody = z
  .strictObject({
    ...sessionFields,
    scheduledStart: sessionFields.scheduledStart.optional(),
    durationMinutes: sessionFields.durationMinutes.optional(),
    type: sessionFields.type.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const putNoteBody = z.strictObject({ body: text(50000) });

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const sessionIdParams = z.strictObject({ id: z.uuid() });
export const listSessionsQuery = z
  .strictObject({ ...pageQuery, from: isoDateTime.optional(), to: isoDateTime.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'to must not be before from', path: ['to'] });
export const sessionPage = page(sessionSummaryResponse);
export { ifMatchHeaders };

export type SessionSummaryResponse = z.infer<typeof sessionSummaryResponse>;
export type SessionResponse = z.infer<typeof sessionResponse>;
export type PsychotherapyNoteResponse = z.infer<typeof psychotherapyNoteResponse>;
export type CreateSessionBody = z.infer<typeof createSessionBody>;
export type UpdateSessionBody = z.infer<typeof updateSessionBody>;
export type ListSessionsQuery = z.infer<typeof listSessionsQuery>;
