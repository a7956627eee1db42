import { z } from 'zod';
import { missCountingUnits, modalities, programKinds, twentyFourHourTriggers } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';
import { defaultPolicy, today } from './programs.queries.js';

const unique = <T>(list: T[]) => new Set(list).size === list.length;
const whole = (min: number, max: number) => z.number().int().min(min).max(max);

/** Every setting of a program policy, each with the bounds a clinic could plausibly need. */
const policyShape = {
  fourMissThreshold: whole(1, 20),
  missCountingUnit: z.enum(missCountingUnits),
  countedModalities: z.array(z.enum(modalities)).min(1).max(modalities.length).refine(unique, 'modalities must not repeat'),
  latenessMissMinutes: whole(1, 120).nullable().describe('minutes late that count as a miss; null: lateness never does'),
  lateCancelMissHours: whole(1, 168)
    .nullable()
    .describe('a cancellation less than this many hours before the session counts as a miss; null: never'),
  overrideAllowed: z.boolean(),
  twentyFourHourRule: z.boolean(),
  twentyFourHourTriggers: z
    .array(z.enum(twentyFourHourTriggers))
    .max(twentyFourHourTriggers.length)
    .refine(unique, 'triggers must not repeat'),
  contractWeeks: z.literal([26, 52]).describe('contract length in weeks: six months or a year'),
  skillsCycleWeeks: whole(1, 104),
  groupSizeLimit: whole(1, 30),
  entryAtModuleStartOnly: z.boolean(),
  groupRequiresIndividual: z.boolean(),
  weekStartsOn: whole(1, 7).describe('ISO weekday a diary-card week starts on: 1 = Monday … 7 = Sunday'),
  agendaUrgeThreshold: whole(0, 5).describe('an urge at or above this (0–5) puts a target on the session agenda even without an action'),
  diaryEmotions: z
    .array(
      z
        .string()
        .max(40)
        .regex(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, 'must be a snake_case name'),
    )
    .min(1)
    .max(20)
    .refine(unique, 'emotions must not repeat')
    .describe('the emotions the diary card asks about, each rated 0–5, in the order the card shows them'),
};
const policyFields = z.strictObject(policyShape);

type PolicyFields = z.infer<typeof policyFields>;

/** The 24-hour rule needs something to trigger it. `at` is where the triggers sit in the body. */
function requireTriggers(policy: Pick<PolicyFields, 'twentyFourHourRule' | 'twentyFourHourTriggers'>, ctx: z.RefinementCtx, at: string[]) {
  if (policy.twentyFourHourRule && policy.twentyFourHourTriggers.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'twentyFourHourTriggers'],
      message: 'name at least one trigger while the 24-hour rule is on',
    });
  }
}

const effectiveFrom = z.iso.date().describe('the date this policy takes effect (YYYY-MM-DD); default today (UTC)');

export const createProgramBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(programKinds),
    policy: policyFields.partial().optional().describe("overrides of the defaults for the program's kind"),
    effectiveFrom: effectiveFrom.optional(),
  })
  .superRefine((body, ctx) => requireTriggers({ ...defaultPolicy(body.kind), ...body.policy }, ctx, ['policy']));

/** A new version is the whole policy; it may start today or later, never earlier, so history stays as it was. */
export const changePolicyBody = policyFields
  .extend({
    effectiveFrom: effectiveFrom.refine((date) => date >= today(), 'must be today (UTC) or later: past policy stays as it was').optional(),
  })
  .superRefine((body, ctx) => requireTriggers(body, ctx, []));

export const policyVersionResponse = z
  .object({
    ...policyShape,
    version: z.number().int(),
    effectiveFrom: z.iso.date(),
    contractWeeks: z.number().int().describe('contract length in weeks'),
    createdBy: z.uuid().nullable(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'ProgramPolicyVersion' });

export const programResponse = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(programKinds),
    createdAt: isoDateTime,
    policy: policyVersionResponse
      .nullable()
      .describe(
        'the version in force on the date asked (today by default; on create, the first version); null before the first takes effect',
      ),
    latestPolicyVersion: z
      .number()
      .int()
      .describe('the newest version, which may take effect later; its number is the ETag to change policy'),
  })
  .meta({ id: 'Program' });

export const programIdParams = z.strictObject({ id: z.uuid() });
export const readProgramQuery = z.strictObject({ at: z.iso.date().optional().describe('the date whose policy to show (YYYY-MM-DD)') });
export const listProgramsQuery = z.strictObject({ ...pageQuery });
export const programPage = page(programResponse);
export const policyVersionList = z.object({ items: z.array(policyVersionResponse) });
export { ifMatchHeaders };

export type CreateProgramBody = z.infer<typeof createProgramBody>;
export type ChangePolicyBody = z.infer<typeof changePolicyBody>;
export type ListProgramsQuery = z.infer<typeof listProgramsQuery>;
export type ProgramResponse = z.infer<typeof programResponse>;
export type PolicyVersionResponse = z.infer<typeof policyVersionResponse>;
