import { z } from 'zod';
import { chainLinkTypes } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

/** A device clock a little ahead of the server's does not put the behaviour "in the future". */
const CLOCK_SKEW_MS = 5 * 60_000;
const behaviourAt = isoDateTime.refine((at) => at.getTime() <= Date.now() + CLOCK_SKEW_MS, 'must not be in the future');

const text = (max: number) => z.string().trim().min(1).max(max);
const completedIn = ['session', 'homework'] as const;

const chainLink = z.strictObject({
  type: z.enum(chainLinkTypes),
  text: text(2000),
  skillfulAlternative: text(2000).nullish(),
  skillId: z.uuid().nullish(),
});
const chainConsequence = z.strictObject({ term: z.enum(['short', 'long']), text: text(2000) });

/** Every field a chain analysis holds; a create needs the required ones, a PATCH sends any of them. */
const fields = {
  targetId: z.uuid().nullish(),
  eventId: z.uuid().nullish(),
  behaviourAt,
  problemBehaviour: text(4000),
  promptingEvent: text(4000).nullish(),
  vulnerabilities: z.array(text(1000)).max(50),
  /** The chain in order, from the prompting event to the problem behaviour. */
  links: z.array(chainLink).min(1).max(100),
  consequences: z.array(chainConsequence).max(50),
  solutions: z.array(text(2000)).max(50),
  repair: text(4000).nullish(),
  commitment: text(4000).nullish(),
  completedIn: z.enum(completedIn),
  sessionId: z.uuid().nullish(),
};

type Anchors = { targetId?: string | null; eventId?: string | null; completedIn: string; sessionId?: string | null };

/** What a chain analysis must name, checked on the body for a create and on the merged record for a PATCH. */
export function checkAnchors(analysis: Anchors): { field: string; message: string } | null {
  if (!analysis.targetId && !analysis.eventId) return { field: 'targetId', message: 'a targetId or an eventId is required' };
  if (analysis.completedIn === 'session' && !analysis.sessionId) {
    return { field: 'sessionId', message: 'is required when completedIn is session' };
  }
  return null;
}

export const createChainAnalysisBody = z
  .strictObject({
    ...fields,
    vulnerabilities: fields.vulnerabilities.default([]),
    consequences: fields.consequences.default([]),
    solutions: fields.solutions.default([]),
  })
  .superRefine((body, issues) => {
    const problem = checkAnchors(body);
    if (problem) issues.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });

export const updateChainAnalysisBody = z.strictObject({
  targetId: fields.targetId.optional(),
  eventId: fields.eventId.optional(),
  behaviourAt: fields.behaviourAt.optional(),
  problemBehaviour: fields.problemBehaviour.optional(),
  promptingEvent: fields.promptingEvent.optional(),
  vulnerabilities: fields.vulnerabilities.optional(),
  links: fields.links.optional(),
  consequences: fields.consequences.optional(),
  solutions: fields.solutions.optional(),
  repair: fields.repair.optional(),
  commitment: fields.commitment.optional(),
  completedIn: fields.completedIn.optional(),
  sessionId: fields.sessionId.optional(),
});

export const chainAnalysisResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    targetId: z.uuid().nullable(),
    /** The version of the target in force when the behaviour happened. */
    targetVersion: z.number().int().nullable(),
    eventId: z.uuid().nullable(),
    behaviourAt: isoDateTime,
    problemBehaviour: z.string(),
    promptingEvent: z.string().nullable(),
    vulnerabilities: z.array(z.string()),
    links: z.array(
      z.object({
        type: z.enum(chainLinkTypes),
        text: z.string(),
        skillfulAlternative: z.string().nullable(),
        skillId: z.uuid().nullable(),
      }),
    ),
    consequences: z.array(z.object({ term: z.enum(['short', 'long']), text: z.string() })),
    solutions: z.array(z.string()),
    repair: z.string().nullable(),
    commitment: z.string().nullable(),
    completedIn: z.enum(completedIn),
    sessionId: z.uuid().nullable(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'ChainAnalysis' });

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const chainAnalysisIdParams = z.strictObject({ id: z.uuid(), analysisId: z.uuid() });
export const listChainAnalysesQuery = z.strictObject({
  ...pageQuery,
  eventId: z.uuid().optional(),
  targetId: z.uuid().optional(),
});
export const chainAnalysisPage = page(chainAnalysisResponse).meta({ id: 'ChainAnalysisPage' });
export { ifMatchHeaders };

export type ChainAnalysisResponse = z.infer<typeof chainAnalysisResponse>;
export type CreateChainAnalysisBody = z.output<typeof createChainAnalysisBody>;
export type UpdateChainAnalysisBody = z.output<typeof updateChainAnalysisBody>;
export type ListChainAnalysesQuery = z.output<typeof listChainAnalysesQuery>;
