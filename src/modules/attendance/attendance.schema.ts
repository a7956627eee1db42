import { z } from 'zod';
import { missCountingUnits, modalities } from '../../db/schema/index.js';
import { isoDateTime } from '../../lib/http.js';

const date = z.iso.date();
const modality = z.enum(modalities);
const standingStatus = z.enum(['ok', 'warning', 'met']);

export const clientIdParams = z.strictObject({ id: z.uuid() });

export const occurrenceResponse = z
  .object({
    id: z.uuid(),
    /** individual: an individual session; skills_group: a group session the client was enrolled for. */
    modality,
    groupId: z.uuid().nullable(),
    date,
    at: isoDateTime.nullable(),
    /** What was recorded: the session's attendance or the group attendance status; null when nothing is recorded yet. */
    recorded: z.string().nullable(),
    lateMinutes: z.number().int().nullable(),
    leftEarlyMinutes: z.number().int().nullable(),
    noticeHours: z.number().int().nullable(),
    outcome: z.enum(['miss', 'attended', 'neutral', 'unrecorded']),
    reason: z.string(),
    /** The policy version in force on the occurrence's date, which judged it. */
    policyVersion: z.number().int(),
    inStreak: z.boolean(),
  })
  .meta({ id: 'AttendanceOccurrence' });

export const overrideResponse = z
  .object({
    id: z.uuid(),
    metOn: date,
    streak: z.number().int(),
    policyVersion: z.number().int(),
    reason: z.string(),
    overriddenBy: z.uuid(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'FourMissOverride' });

const standingFields = {
  modality,
  threshold: z.number().int(),
  unit: z.enum(missCountingUnits),
  /** Consecutive missed units (weeks or sessions) at the end; neutral and unrecorded ones are skipped. */
  streak: z.number().int(),
  status: standingStatus,
  /** When the streak reached the threshold (the last day of the unit that made it). */
  metOn: date.nullable(),
  override: overrideResponse.nullable(),
};

export const modalityStandingResponse = z
  .object({
    ...standingFields,
    /** The missed units that make the streak, oldest first: week (or session) start, last day, occurrences. */
    streakUnits: z.array(z.object({ start: date, last: date, occurrenceIds: z.array(z.uuid()) })),
    /** Past occurrences with nothing recorded: they neither break nor extend a streak until recorded. */
    unrecorded: z.number().int(),
    occurrences: z.array(occurrenceResponse),
  })
  .meta({ id: 'ModalityAttendance' });

export const attendanceReport = z
  .object({
    clientId: z.uuid(),
    /** The active episode evaluated; null (and no modalities) when the client has none. */
    episodeId: z.uuid().nullable(),
    contractStart: date.nullable(),
    contractEnd: date.nullable(),
    /** The policy in force today: its threshold, counting unit and required modalities apply. */
    policyVersion: z.number().int().nullable(),
    overrideAllowed: z.boolean().nullable(),
    fourMissMetOn: date.nullable(),
    /** When the rule is met: the discharge a therapist is asked to confirm, and when re-entry becomes possible. */
    proposedDischarge: z.object({ reason: z.literal('four_miss'), on: date, reEntryEligibleOn: date.nullable() }).nullable(),
    modalities: z.array(modalityStandingResponse),
  })
  .meta({ id: 'AttendanceReport' });

export const atRiskQuery = z.strictObject({
  status: standingStatus.exclude(['ok']).optional(),
  modality: modality.optional(),
  programId: z.uuid().optional(),
});

export const atRiskResponse = z
  .object({
    evaluatedOn: date,
    items: z.array(
      z.object({
        client: z.object({
          id: z.uuid(),
          givenName: z.string(),
          familyName: z.string(),
          preferredName: z.string().nullable(),
          primaryTherapistId: z.uuid().nullable(),
        }),
        episodeId: z.uuid(),
        programId: z.uuid(),
        fourMissMetOn: date.nullable(),
        modalities: z.array(z.object({ ...standingFields, lastOccurrenceOn: date.nullable() })),
      }),
    ),
  })
  .meta({ id: 'AttendanceAtRisk' });

export const overrideBody = z.strictObject({
  modality,
  reason: z.string().trim().min(20, 'give the reason in at least 20 characters').max(2000),
});

export type AttendanceReport = z.infer<typeof attendanceReport>;
export type AtRiskQuery = z.infer<typeof atRiskQuery>;
export type AtRiskResponse = z.infer<typeof atRiskResponse>;
export type OverrideBody = z.infer<typeof overrideBody>;
