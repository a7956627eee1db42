import { z } from 'zod';
import { coachingChannels } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime } from '../../lib/http.js';

const unique = <T>(list: T[]) => new Set(list).size === list.length;
const whole = (min: number, max: number) => z.number().int().min(min).max(max);
const localClock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (00:00–23:59)');

const availabilityWindow = z
  .strictObject({
    weekday: whole(1, 7).describe('ISO weekday: 1 = Monday … 7 = Sunday'),
    from: localClock.describe('local start, inclusive'),
    to: localClock.describe('local end, exclusive; at or before `from` runs past midnight into the next day'),
  })
  .refine((window) => window.from !== window.to, { message: 'from and to must differ', path: ['to'] })
  .meta({ id: 'AvailabilityWindow' });

/** The tolerance for a start "now" that took a moment to arrive: older than this is the past. */
const pastToleranceMs = 60_000;

/** A new version is all of the limits; it may start now or later, never earlier, so past contacts stay judged as they were. */
export const changeCoachingLimitsBody = z.strictObject({
  windows: z.array(availabilityWindow).max(21).describe("when coaching is available, in the clinic's time zone; empty: never"),
  channels: z.array(z.enum(coachingChannels)).min(1).max(coachingChannels.length).refine(unique, 'channels must not repeat'),
  maxMinutes: whole(1, 240).describe('the longest a coaching contact should last'),
  responseMinutes: whole(1, 10080).describe('the promised time to respond to a request'),
  backupStaffId: z.uuid().nullable().describe('an active therapist of the clinic who covers when this one is unavailable'),
  effectiveFrom: isoDateTime
    .refine((at) => at.getTime() >= Date.now() - pastToleranceMs, 'must be now or later: past limits stay as they were')
    .optional()
    .describe('when this version takes effect; default now'),
});

export const coachingLimitsResponse = z
  .object({
    staffId: z.uuid(),
    version: z.number().int(),
    effectiveFrom: isoDateTime,
    windows: z.array(availabilityWindow),
    channels: z.array(z.enum(coachingChannels)),
    maxMinutes: z.number().int(),
    responseMinutes: z.number().int(),
    backupStaffId: z.uuid().nullable(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'CoachingLimits' });

export const staffIdParams = z.strictObject({ id: z.uuid() });
export const readCoachingLimitsQuery = z.strictObject({
  at: isoDateTime.optional().describe('the instant whose limits to show (ISO 8601 with offset); default now'),
});
export const coachingLimitsVersionList = z.object({ items: z.array(coachingLimitsResponse) });
export { ifMatchHeaders };

export type ChangeCoachingLimitsBody = z.infer<typeof changeCoachingLimitsBody>;
export type CoachingLimitsResponse = z.infer<typeof coachingLimitsResponse>;
