import { z } from 'zod';
import {
  coachingChannels,
  coachingEscalations,
  coachingInitiators,
  coachingPurposes,
  twentyFourHourRedirections,
  twentyFourHourStatuses,
} from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

/** A phone's clock a little ahead of the server's does not put a contact "in the future". */
const CLOCK_SKEW_MS = 60_000;
const pastInstant = isoDateTime.refine((at) => at.getTime() <= Date.now() + CLOCK_SKEW_MS, 'must not be in the future');

const channel = z.enum(coachingChannels);
const purpose = z.enum(coachingPurposes);
const escalation = z.enum(coachingEscalations);
const redirection = z.enum(twentyFourHourRedirections);
const rating = z.number().int().min(0).max(5).nullable();

const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.trim().length > 0, 'must not be blank');

const contactUrge = z.strictObject({ targetId: z.uuid(), start: rating, end: rating }).meta({ id: 'CoachingContactUrge' });

/**
 * What a list shows: the structured facts of a contact and how it was judged. The free text (plan,
 * outcome, an override's reason) is read one contact at a time.
 */
export const coachingContactSummaryResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    staffId: z.uuid().describe('who took the contact: the primary therapist or the backup covering for them'),
    initiatedBy: z.enum(coachingInitiators),
    channel,
    requestedAt: isoDateTime,
    respondedAt: isoDateTime.nullable(),
    startedAt: isoDateTime.nullable(),
    endedAt: isoDateTime.nullable(),
    purpose,
    urges: z.array(z.object({ targetId: z.uuid(), start: rating, end: rating })),
    skillIds: z.array(z.uuid()),
    riskAssessed: z.boolean(),
    escalation,
    responseMinutes: z.number().int().nullable().describe('whole minutes from request to response'),
    durationMinutes: z.number().int().nullable().describe('minutes from start to end, a part minute counting as one'),
    afterHours: z.boolean().describe("outside the staff member's availability windows in force at the request"),
    overMinuteLimit: z.boolean(),
    outsideLimits: z.boolean().describe('after hours, over the minute limit, or on a channel the limits do not offer'),
    limitsVersion: z.number().int().nullable().describe('the coaching-limits version the contact was judged by; null: none stated'),
    ruleStatus: z.enum(twentyFourHourStatuses).describe('the 24-hour rule, fixed when the contact was recorded'),
    ruleEventId: z.uuid().nullable().describe('the clinical event that opened the 24-hour window'),
    redirection: redirection.nullable(),
    safetyCheckDone: z.boolean().nullable(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'CoachingContactSummary' });

export const coachingContactResponse = coachingContactSummaryResponse
  .extend({ plan: z.string().nullable(), outcome: z.string().nullable(), overrideReason: z.string().nullable() })
  .meta({ id: 'CoachingContact' });

/** What the contact was and how it went: recorded at creation, changeable by PATCH. */
const contactFields = {
  channel,
  respondedAt: pastInstant.nullable().optional(),
  startedAt: pastInstant.nullable().optional(),
  endedAt: pastInstant.nullable().optional(),
  purpose,
  urges: z.array(contactUrge).max(20).optional(),
  skillIds: z.array(z.uuid()).max(100).optional(),
  plan: text(4000).nullable().optional(),
  outcome: text(4000).nullable().optional(),
  riskAssessed: z.boolean().optional(),
  escalation: escalation.optional(),
};

/** Who, when and the 24-hour rule's requirements are fixed once recorded; the order of the times is checked in the service. */
export const createCoachingContactBody = z.strictObject({
  ...contactFields,
  staffId: z.uuid().optional().describe('who took the contact; default the caller'),
  initiatedBy: z.enum(coachingInitiators),
  requestedAt: pastInstant,
  redirection: redirection.optional().describe('inside an open 24-hour window: where the client was redirected'),
  safetyCheckDone: z.boolean().optional().describe('inside an open 24-hour window: must be true unless overridden'),
  override: z
    .strictObject({ reason: z.string().trim().min(20).max(2000) })
    .optional()
    .describe('inside an open 24-hour window: coach anyway, with the reason'),
});

export const updateCoachingContactBody = z
  .strictObject({ ...contactFields, channel: channel.optional(), purpose: purpose.optional() })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const coachingStatusResponse = z
  .object({
    now: isoDateTime,
    twentyFourHourRule: z.object({
      enabled: z.boolean().describe("whether the client's program policy in force today applies the rule"),
      policyVersion: z.number().int().nullable(),
      open: z.boolean(),
      until: isoDateTime.nullable().describe('the end of the open window (exclusive)'),
      eventId: z.uuid().nullable(),
      eventKind: z.enum(['nssi', 'suicide_attempt']).nullable(),
    }),
    primaryTherapist: z
      .object({
        staffId: z.uuid(),
        limitsVersion: z.number().int().nullable(),
        availableNow: z.boolean().nullable().describe('inside their availability windows now; null: no limits stated'),
        channels: z.array(channel),
        maxMinutes: z.number().int().nullable(),
        responseMinutes: z.number().int().nullable(),
        backupStaffId: z.uuid().nullable(),
      })
      .nullable(),
  })
  .meta({ id: 'CoachingStatus' });

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const contactIdParams = z.strictObject({ id: z.uuid() });
export const listCoachingContactsQuery = z
  .strictObject({ ...pageQuery, from: isoDateTime.optional(), to: isoDateTime.optional() })
  .refine((q) => !q.from || !q.to || q.from.getTime() <= q.to.getTime(), { message: 'must not be before from', path: ['to'] });
export const coachingContactPage = page(coachingContactSummaryResponse).meta({ id: 'CoachingContactPage' });
export { ifMatchHeaders };

export type CoachingContactSummaryResponse = z.infer<typeof coachingContactSummaryResponse>;
export type CoachingContactResponse = z.infer<typeof coachingContactResponse>;
export type CreateCoachingContactBody = z.output<typeof createCoachingContactBody>;
export type UpdateCoachingContactBody = z.output<typeof updateCoachingContactBody>;
export type ListCoachingContactsQuery = z.output<typeof listCoachingContactsQuery>;
export type CoachingStatusResponse = z.infer<typeof coachingStatusResponse>;
