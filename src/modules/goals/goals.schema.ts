import { z } from 'zod';
import { goalStatuses } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

/** The client's own words: kept exactly as written (no trimming), but never blank. */
const clientWords = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.trim().length > 0, 'must not be blank');

const goalText = clientWords(2000);
const goalStatus = z.enum(goalStatuses);

export const goalRevisionResponse = z
  .object({
    id: z.uuid(),
    goalId: z.uuid(),
    note: z.string(),
    /** The status this revision set, or null when it left the status as it was. */
    status: goalStatus.nullable(),
    /** The new wording this revision set, or null when it kept the wording. */
    text: z.string().nullable(),
    revisedBy: z.uuid(),
    revisedAt: isoDateTime,
  })
  .meta({ id: 'GoalRevision' });

export const goalResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    text: z.string(),
    domain: z.string().nullable(),
    status: goalStatus,
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    /** Every revision, newest first. */
    revisions: z.array(goalRevisionResponse),
  })
  .meta({ id: 'LifeWorthLivingGoal' });

export const revisedGoalResponse = z.object({ goal: goalResponse, revision: goalRevisionResponse }).meta({ id: 'GoalRevised' });

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const goalIdParams = z.strictObject({ id: z.uuid(), goalId: z.uuid() });
export const listGoalsQuery = z.strictObject({ ...pageQuery, status: goalStatus.optional() });
export const createGoalBody = z.strictObject({ text: goalText, domain: z.string().trim().min(1).max(100).optional() });
export const reviseGoalBody = z.strictObject({
  note: z
    .string()
    .min(1)
    .max(4000)
    .refine((value) => value.trim().length > 0, 'must not be blank'),
  status: goalStatus.optional(),
  text: goalText.optional(),
});
export const goalPage = page(goalResponse);
export { ifMatchHeaders };

export type GoalResponse = z.infer<typeof goalResponse>;
export type GoalRevisionResponse = z.infer<typeof goalRevisionResponse>;
export type RevisedGoalResponse = z.infer<typeof revisedGoalResponse>;
export type ListGoalsQuery = z.infer<typeof listGoalsQuery>;
export type CreateGoalBody = z.infer<typeof createGoalBody>;
export type ReviseGoalBody = z.infer<typeof reviseGoalBody>;
