import { z } from 'zod';
import { coachingPurposes } from '../../db/schema/index.js';
import { isoDateTime } from '../../lib/http.js';

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const staffIdParams = z.strictObject({ id: z.uuid() });

/** A calendar month, YYYY-MM, read in the clinic's time zone; omitted means the clinic's current month. */
export const monthQuery = z.strictObject({
  month: z
    .string()
    .regex(/^[12]\d{3}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
    .optional(),
});

const count = z.number().int().min(0);

/** The coaching figures of a set of contacts; a summary and a load report both carry them. */
const coachingFigures = {
  contacts: count,
  /** Sum of the contacts' durations. */
  minutes: count,
  afterHours: count,
  /** afterHours / contacts, 0–1; null when there were no contacts. */
  afterHoursShare: z.number().min(0).max(1).nullable(),
  outsideLimits: count,
  /** Contacts per purpose; every purpose is present. */
  purposes: z.object(
    Object.fromEntries(coachingPurposes.map((purpose) => [purpose, count])) as Record<(typeof coachingPurposes)[number], typeof count>,
  ),
  /** Contacts the 24-hour rule blocked and redirected. */
  twentyFourHourBlocks: count,
  /** Contacts that went ahead by overriding the 24-hour rule. */
  overrides: count,
  /** Median of the recorded response times; null when none was recorded. */
  medianResponseMinutes: z.number().min(0).nullable(),
  initiatedByClient: count,
};

/** The month a report covers: from (inclusive) and to (exclusive) are its local bounds as instants. */
const period = { month: z.string(), from: isoDateTime, to: isoDateTime };

export const coachingSummaryResponse = z.object({ clientId: z.uuid(), ...period, ...coachingFigures }).meta({ id: 'CoachingSummary' });

export const coachingLoadResponse = z
  .object({
    staffId: z.uuid(),
    ...period,
    ...coachingFigures,
    /** The clients coached in the month, most contacts first. */
    clients: z.array(
      z.object({
        clientId: z.uuid(),
        contacts: count,
        minutes: count,
        afterHours: count,
        twentyFourHourBlocks: count,
      }),
    ),
  })
  .meta({ id: 'CoachingLoad' });

export type MonthQuery = z.infer<typeof monthQuery>;
export type CoachingSummaryResponse = z.infer<typeof coachingSummaryResponse>;
export type CoachingLoadResponse = z.infer<typeof coachingLoadResponse>;
