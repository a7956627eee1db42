import { z } from 'zod';
import { skillModules } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

const unique = <T>(list: T[]) => new Set(list).size === list.length;

const curriculumBlock = z
  .strictObject({ module: z.enum(skillModules), weeks: z.number().int().min(1).max(26) })
  .meta({ id: 'CurriculumBlock', description: 'a module taught for a number of consecutive weeks' });

/** Fields a group is created with; PATCH takes the same ones (all optional) plus `active`. */
const groupFields = {
  name: z
    .string()
    .max(200)
    .transform((value) => value.trim())
    .refine((value) => value.length > 0, 'must not be blank'),
  leaderId: z.uuid().describe('an active skills trainer of the clinic'),
  coLeaderIds: z
    .array(z.uuid())
    .max(5)
    .refine(unique, 'co-leaders must not repeat')
    .describe('up to five active skills trainers, not the leader'),
  weekday: z.number().int().min(1).max(7).describe('ISO weekday the group meets on: 1 = Monday … 7 = Sunday'),
  startTime: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)')
    .describe('local start time, HH:MM'),
  durationMinutes: z.number().int().min(30).max(300),
  capacity: z.number().int().min(1).max(50).nullable().describe("places in the group; null follows the program policy's group size limit"),
  curriculum: z.array(curriculumBlock).min(1).max(20).describe('the blocks of one cycle, in order; the cycle repeats'),
  cycleStartDate: z.iso.date().describe('first day of week 1 of the cycle (YYYY-MM-DD); must fall on the weekday'),
};

export const createSkillsGroupBody = z.strictObject({
  programId: z.uuid(),
  ...groupFields,
  coLeaderIds: groupFields.coLeaderIds.optional(),
  capacity: groupFields.capacity.optional(),
  curriculum: groupFields.curriculum.optional().describe('default: the common 24-week cycle MF 2, DT 6, MF 2, ER 8, MF 2, IE 4'),
});

/** leaderId and coLeaderIds are changed by an administrator only; the service refuses anyone else. */
export const updateSkillsGroupBody = z
  .strictObject({
    name: groupFields.name.optional(),
    leaderId: groupFields.leaderId.optional(),
    coLeaderIds: groupFields.coLeaderIds.optional(),
    weekday: groupFields.weekday.optional(),
    startTime: groupFields.startTime.optional(),
    durationMinutes: groupFields.durationMinutes.optional(),
    capacity: groupFields.capacity.optional(),
    curriculum: groupFields.curriculum.optional(),
    cycleStartDate: groupFields.cycleStartDate.optional(),
    active: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const skillsGroupResponse = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    name: z.string(),
    leaderId: z.uuid(),
    coLeaderIds: z.array(z.uuid()),
    weekday: z.number().int(),
    startTime: z.string(),
    durationMinutes: z.number().int(),
    capacity: z.number().int().nullable(),
    effectiveCapacity: z
      .number()
      .int()
      .nullable()
      .describe('capacity, or the group size limit of the program policy in force today; null only if no policy is in force yet'),
    curriculum: z.array(curriculumBlock),
    cycleWeeks: z.number().int().describe('weeks in one cycle of the curriculum'),
    cycleStartDate: z.iso.date(),
    active: z.boolean(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'SkillsGroup' });

export const curriculumPositionResponse = z
  .object({
    date: z.iso.date(),
    cycle: z.number().int().describe('which repetition of the cycle (1-based)'),
    cycleWeek: z.number().int().describe('week of the cycle (1-based)'),
    weekStart: z.iso.date(),
    block: z.number().int().describe('index of the block in the curriculum (0-based)'),
    module: z.enum(skillModules),
    moduleWeek: z.number().int().describe('week within the block (1-based)'),
    moduleWeeks: z.number().int(),
    moduleStart: z.iso.date().describe('first day of the block: the module start a new member may join at'),
    nextModuleStart: z.iso.date(),
  })
  .meta({ id: 'CurriculumPosition' });

export const curriculumResponse = z
  .object({
    date: z.iso.date(),
    started: z.boolean().describe('false before the cycle start date'),
    cycleStartDate: z.iso.date(),
    position: curriculumPositionResponse.nullable(),
    curriculum: z.array(curriculumBlock),
  })
  .meta({ id: 'SkillsGroupCurriculum' });

export const groupIdParams = z.strictObject({ id: z.uuid() });
export const listSkillsGroupsQuery = z.strictObject({
  ...pageQuery,
  programId: z.uuid().optional(),
  leaderId: z.uuid().optional().describe('groups this staff member leads or co-leads'),
  active: z.enum(['true', 'false']).default('true'),
});
export const curriculumQuery = z.strictObject({ date: z.iso.date().optional().describe('YYYY-MM-DD; default today (UTC)') });
export const skillsGroupPage = page(skillsGroupResponse);
export { ifMatchHeaders };

export type SkillsGroupResponse = z.infer<typeof skillsGroupResponse>;
export type CurriculumResponse = z.infer<typeof curriculumResponse>;
export type CreateSkillsGroupBody = z.output<typeof createSkillsGroupBody>;
export type UpdateSkillsGroupBody = z.output<typeof updateSkillsGroupBody>;
export type ListSkillsGroupsQuery = z.output<typeof listSkillsGroupsQuery>;
