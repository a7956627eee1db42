import { z } from 'zod';
import { skillModules } from '../../db/schema/index.js';
import { isoDateTime } from '../../lib/http.js';

const name = z
  .string()
  .max(120)
  .transform((value) => value.trim())
  .refine((value) => value.length > 0, 'must not be blank');
const acronym = z.string().trim().min(1).max(30);
const sortOrder = z.number().int().min(0).max(100_000);

export const skillResponse = z
  .object({
    id: z.uuid(),
    module: z.enum(skillModules),
    name: z.string(),
    acronym: z.string().nullable(),
    sortOrder: z.number().int(),
    /** True for the standard DBT catalog, false for the clinic's own additions. */
    standard: z.boolean(),
    active: z.boolean(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'Skill' });

export const createSkillBody = z.strictObject({
  module: z.enum(skillModules),
  name,
  acronym: acronym.nullish(),
  sortOrder: sortOrder.optional(),
});

/** Standard skills accept only sortOrder and active; the service names any other field it refuses. */
export const updateSkillBody = z.strictObject({
  name: name.optional(),
  acronym: acronym.nullable().optional(),
  sortOrder: sortOrder.optional(),
  active: z.boolean().optional(),
});

export const skillIdParams = z.strictObject({ id: z.uuid() });
export const listSkillsQuery = z.strictObject({
  module: z.enum(skillModules).optional(),
  includeInactive: z.enum(['true', 'false']).default('false'),
});
export const skillList = z.object({ items: z.array(skillResponse) }).meta({ id: 'SkillList' });

export type SkillResponse = z.infer<typeof skillResponse>;
export type CreateSkillBody = z.output<typeof createSkillBody>;
export type UpdateSkillBody = z.output<typeof updateSkillBody>;
export type ListSkillsQuery = z.output<typeof listSkillsQuery>;
