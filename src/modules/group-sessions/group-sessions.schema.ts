import { z } from 'zod';
import { groupSessionStatuses, skillModules } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';
import { daysBetween } from '../skills-groups/skills-groups.curriculum.js';

/** The longest range one generate request may cover. */
const MAX_GENERATE_DAYS = 366;

export const groupSessionResponse = z
  .object({
    id: z.uuid(),
    groupId: z.uuid(),
    date: z.iso.date(),
    module: z.enum(skillModules),
    moduleWeek: z.number().int().describe('week of the module block (1-based)'),
    cycleWeek: z.number().int().describe('week of the curriculum cycle (1-based)'),
    skillIds: z.array(z.uuid()),
    homework: z.string().nullable(),
    status: z.enum(groupSessionStatuses),
    cancelReason: z.string().nullable(),
    cancelledBy: z.uuid().nullable(),
    cancelledAt: isoDateTime.nullable(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'GroupSession' });

const text = (min: number, max: number) =>
  z
    .string()
    .max(max)
    .transform((value) => value.trim())
    .refine((value) => value.length >= min, `must have at least ${min} characters besides spaces`);

/** What a session teaches; module and week default from the group's curriculum on the date. */
const contentFields = {
  module: z.enum(skillModules).optional(),
  moduleWeek: z.number().int().min(1).max(26).optional(),
  skillIds: z.array(z.uuid()).max(100).optional(),
  homework: text(1, 4000).nullable().optional(),
};

export const createGroupSessionBody = z.strictObject({ date: z.iso.date(), ...contentFields });

/** The date is not changeable: cancel the session and create another. */
export const updateGroupSessionBody = z
  .strictObject(contentFields)
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const cancelGroupSessionBody = z.strictObject({ reason: text(3, 500) });

export const generateGroupSessionsBody = z
  .strictObject({ from: z.iso.date(), to: z.iso.date() })
  .refine((body) => body.to >= body.from, { message: 'must not be before from', path: ['to'] })
  .refine((body) => daysBetween(body.from, body.to) <= MAX_GENERATE_DAYS, {
    message: `must be at most ${MAX_GENERATE_DAYS} days after from`,
    path: ['to'],
  });

export const generatedSessionsResponse = z
  .object({
    created: z.array(groupSessionResponse),
    skipped: z.array(z.iso.date()).describe('dates in the range that already had a session'),
  })
  .meta({ id: 'GeneratedGroupSessions' });

export const groupIdParams = z.strictObject({ id: z.uuid() });
export const groupSessionIdParams = z.strictObject({ id: z.uuid() });
export const listGroupSessionsQuery = z
  .strictObject({ ...pageQuery, from: z.iso.date().optional(), to: z.iso.date().optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'to must not be before from', path: ['to'] });
export const groupSessionPage = page(groupSessionResponse);
export { ifMatchHeaders };

export type GroupSessionResponse = z.infer<typeof groupSessionResponse>;
export type CreateGroupSessionBody = z.output<typeof createGroupSessionBody>;
export type UpdateGroupSessionBody = z.output<typeof updateGroupSessionBody>;
export type GenerateGroupSessionsBody = z.output<typeof generateGroupSessionsBody>;
export type ListGroupSessionsQuery = z.output<typeof listGroupSessionsQuery>;
