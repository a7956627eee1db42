import { z } from 'zod';
import { skillModules } from '../../db/schema/index.js';

/** The longest range one request may ask for, in days (both ends included). */
export const MAX_RANGE_DAYS = 366;
/** The range when none is given: the last four weeks up to today. */
export const DEFAULT_RANGE_DAYS = 28;

/**
 * The group view of a client's diary cards: for each day with an entry, the overall skills rating
 * and the skills used. Nothing else of the card (urges, actions, emotions, notes) is part of it.
 */
export const skillsUseResponse = z
  .object({
    clientId: z.uuid(),
    from: z.iso.date(),
    to: z.iso.date(),
    days: z.array(
      z.object({
        date: z.iso.date(),
        skillsOverall: z.number().int().nullable().describe('skills used overall that day, 0–7'),
        skills: z.array(z.object({ id: z.uuid(), name: z.string(), module: z.enum(skillModules) })),
      }),
    ),
  })
  .meta({ id: 'ClientSkillsUse' });

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const skillsUseQuery = z
  .strictObject({
    from: z.iso
      .date()
      .optional()
      .describe(`first day (YYYY-MM-DD); default ${DEFAULT_RANGE_DAYS - 1} days before to`),
    to: z.iso.date().optional().describe(`last day (YYYY-MM-DD); default today; at most ${MAX_RANGE_DAYS} days after from`),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ['to'], message: 'must not be before from' });

export type SkillsUseResponse = z.infer<typeof skillsUseResponse>;
export type SkillsUseQuery = z.infer<typeof skillsUseQuery>;
