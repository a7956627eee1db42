import { z } from 'zod';
import { ifMatchHeaders, isoDateTime } from '../../lib/http.js';

const whole = (min: number, max: number) => z.number().int().min(min).max(max);
const rating = (max: number) => whole(0, max).nullable().optional();

const dose = z.strictObject({
  name: z.string().trim().min(1).max(100),
  amount: z.string().trim().min(1).max(100).describe('as the client wrote it, e.g. "2 mg"'),
});

/**
 * One day's entry as a client or therapist submits it. Every part is optional; what is left out
 * (or null) is "not reported", never "zero". Emotion names and ids are checked against the client's
 * program, targets and the clinic's skills by the service.
 */
export const diaryDayBody = z
  .strictObject({
    targets: z
      .array(
        z.strictObject({
          targetId: z.uuid(),
          urge: rating(5).describe('urge 0–5'),
          action: z
            .union([z.boolean(), whole(0, 1000)])
            .nullable()
            .optional()
            .describe('yes/no, or a count; an action with urge 0 is valid'),
        }),
      )
      .max(50)
      .optional(),
    emotions: z.record(z.string().max(40), whole(0, 5)).optional().describe("emotion name (from the program's set) → 0–5"),
    substances: z
      .strictObject({
        alcoholDrinks: rating(100),
        drugs: z.array(dose).max(20).optional(),
        prn: z.array(dose).max(20).optional(),
        prescribedTaken: z.boolean().nullable().optional(),
      })
      .optional(),
    skillsOverall: rating(7).describe('skills used overall, 0–7'),
    skillIds: z.array(z.uuid()).max(100).optional().describe('skills of the clinic used that day'),
    urgeToQuit: rating(5).describe('urge to quit therapy, 0–5'),
    notes: z.string().max(4000).nullable().optional(),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.targets?.forEach((target, i) => {
      if (seen.has(target.targetId)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'targetId'], message: 'is listed twice' });
      seen.add(target.targetId);
    });
  });

export const replaceCardBody = z.strictObject({
  days: z
    .record(z.string().max(40), diaryDayBody)
    .describe('the whole card: date (YYYY-MM-DD, inside the week) → that day; days left out are removed'),
});

const entryResponse = z.object({
  targets: z.array(
    z.object({
      targetId: z.uuid(),
      targetVersion: z.number().int(),
      urge: z.number().nullable(),
      action: z.union([z.boolean(), z.number()]).nullable(),
    }),
  ),
  emotions: z.record(z.string(), z.number()),
  substances: z.object({
    alcoholDrinks: z.number().nullable(),
    drugs: z.array(z.object({ name: z.string(), amount: z.string() })),
    prn: z.array(z.object({ name: z.string(), amount: z.string() })),
    prescribedTaken: z.boolean().nullable(),
  }),
  skillsOverall: z.number().nullable(),
  skillIds: z.array(z.uuid()),
  urgeToQuit: z.number().nullable(),
  notes: z.string().nullable(),
});

export const diaryCardResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    weekStart: z.iso.date(),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    days: z.array(
      z.object({
        date: z.iso.date(),
        entry: entryResponse,
        firstEnteredAt: isoDateTime,
        lastEnteredAt: isoDateTime,
        backFilled: z.boolean().describe('first entered more than a day after its date'),
        eventIds: z.array(z.uuid()).describe('clinical events recorded from this day'),
      }),
    ),
  })
  .meta({ id: 'DiaryCard' });

export const submitDayResponse = diaryCardResponse
  .extend({
    submittedDate: z.iso.date(),
    eventIds: z.array(z.uuid()).describe('clinical events linked to the submitted day'),
  })
  .meta({ id: 'DiaryCardDaySubmitted' });

export const diaryCardSummary = z.object({
  id: z.uuid(),
  weekStart: z.iso.date(),
  version: z.number().int(),
  dayCount: z.number().int(),
  backFilledDays: z.array(z.iso.date()),
  updatedAt: isoDateTime,
});
export const diaryCardList = z.object({ items: z.array(diaryCardSummary) }).meta({ id: 'DiaryCardList' });

export const diaryCardVersionList = z
  .object({
    items: z.array(
      z.object({
        version: z.number().int(),
        change: z.enum(['day', 'card']),
        changedDay: z.iso.date().nullable(),
        changedBy: z.uuid(),
        changedAt: isoDateTime,
        days: z.record(z.string(), entryResponse),
      }),
    ),
  })
  .meta({ id: 'DiaryCardVersionList' });

export const clientIdParams = z.strictObject({ id: z.uuid() });
/**
 * Dates in the path are checked by the service after the client is found, so another clinic's
 * client is a 404 whatever follows it.
 */
const pathDate = z.string().max(40).describe('YYYY-MM-DD');
export const weekParams = z.strictObject({ id: z.uuid(), weekStart: pathDate });
export const dayParams = z.strictObject({ id: z.uuid(), date: pathDate });
export const listCardsQuery = z
  .strictObject({ from: z.iso.date().optional(), to: z.iso.date().optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ['to'], message: 'must not be before from' });
export { ifMatchHeaders };

export type DiaryDayBody = z.infer<typeof diaryDayBody>;
export type ReplaceCardBody = z.infer<typeof replaceCardBody>;
export type ListCardsQuery = z.infer<typeof listCardsQuery>;
export type DiaryCardResponse = z.infer<typeof diaryCardResponse>;
