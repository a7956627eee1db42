import { z } from 'zod';
import { commitmentMethods, commitmentTypes, dischargeReasons, episodeStatuses, modalities, stages } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime } from '../../lib/http.js';

const date = z.iso.date();
const notes = z.string().trim().min(1).max(10_000);
/** A device clock a little ahead of the server's is not a commitment "in the future". */
const CLOCK_SKEW_MS = 60_000;

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const episodeParams = z.strictObject({ id: z.uuid(), episodeId: z.uuid() });

export const episodeResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    programId: z.uuid(),
    policyVersion: z.number().int(),
    status: z.enum(episodeStatuses),
    referredOn: date,
    pretreatmentOn: date.nullable(),
    contractStart: date.nullable(),
    contractEnd: date.nullable(),
    dischargedOn: date.nullable(),
    dischargeReason: z.enum(dischargeReasons).nullable(),
    reEntryEligibleOn: date.nullable(),
    /** Set while a required modality's four-miss streak is met without an override: a four_miss discharge is proposed. */
    fourMissMetOn: date.nullable(),
    fourMissModalities: z.array(z.enum(modalities)),
    notes: z.string().nullable(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'TreatmentEpisode' });

export const episodeList = z.object({ items: z.array(episodeResponse) });

export const openEpisodeBody = z.strictObject({ referredOn: date.optional(), notes: notes.optional() });

const transitionCommon = { on: date.optional(), notes: notes.optional() };

/** One body per target status, so a field that does not belong to the move is refused by name. */
export const transitionBody = z
  .discriminatedUnion('to', [
    z.strictObject({ to: z.literal('pretreatment'), ...transitionCommon }),
    z.strictObject({ to: z.literal('active'), ...transitionCommon, contractStart: date.optional(), contractEnd: date.optional() }),
    z.strictObject({
      to: z.literal('discharged'),
      ...transitionCommon,
      reason: z.enum(dischargeReasons, { error: `a discharge needs a reason: one of ${dischargeReasons.join(', ')}` }),
    }),
  ])
  .meta({ id: 'EpisodeTransition' });

export const stageResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    stage: z.enum(stages),
    from: date,
    to: date.nullable(),
    rationale: z.string(),
    decidedBy: z.uuid(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'StageAssignment' });

export const stageList = z.object({ items: z.array(stageResponse) });

export const assignStageBody = z.strictObject({
  stage: z.enum(stages),
  from: date.optional(),
  rationale: z.string().trim().min(10, 'rationale must be at least 10 characters').max(4000),
});

export const commitmentResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    episodeId: z.uuid().nullable(),
    type: z.enum(commitmentTypes),
    items: z.array(z.string()),
    method: z.enum(commitmentMethods),
    agreedAt: isoDateTime,
    recordedBy: z.uuid(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'Commitment' });

export const commitmentList = z.object({ items: z.array(commitmentResponse) });

export const createCommitmentBody = z.strictObject({
  type: z.enum(commitmentTypes),
  items: z.array(z.string().trim().min(1).max(500)).min(1).max(50),
  method: z.enum(commitmentMethods),
  agreedAt: isoDateTime.refine((at) => at.getTime() <= Date.now() + CLOCK_SKEW_MS, 'agreedAt must not be in the future'),
  episodeId: z.uuid().optional(),
});

export { ifMatchHeaders };

export type EpisodeResponse = z.infer<typeof episodeResponse>;
export type OpenEpisodeBody = z.infer<typeof openEpisodeBody>;
export type TransitionBody = z.infer<typeof transitionBody>;
export type StageResponse = z.infer<typeof stageResponse>;
export type AssignStageBody = z.infer<typeof assignStageBody>;
export type CommitmentResponse = z.infer<typeof commitmentResponse>;
export type CreateCommitmentBody = z.infer<typeof createCommitmentBody>;
