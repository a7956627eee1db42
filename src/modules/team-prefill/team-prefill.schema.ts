import { z } from 'zod';
import { agendaCategories, proposalKinds, proposalStatuses } from '../../db/schema/index.js';
import { isoDateTime } from '../../lib/http.js';

const text = (max: number) => z.string().trim().min(1, 'must not be blank').max(max);

export const meetingIdParams = z.strictObject({ id: z.uuid() });
export const proposalIdParams = z.strictObject({ id: z.uuid(), proposalId: z.uuid() });

export const listProposalsQuery = z.strictObject({
  status: z.enum(proposalStatuses).optional().describe('only proposals in this state; default: every proposal of the meeting'),
});

export const acceptProposalBody = z.strictObject({
  question: text(2000)
    .optional()
    .describe("what to ask the team; default: the proposal's summary followed by 'what does the team need to consider?'"),
  minutesRequested: z.number().int().min(1).max(120).default(10),
});

export const dismissProposalBody = z.strictObject({
  reason: text(2000).describe('why the team does not take the proposal up; recorded with who dismissed it'),
});

export const proposalResponse = z
  .object({
    id: z.uuid(),
    meetingId: z.uuid(),
    clientId: z.uuid(),
    kind: z.enum(proposalKinds),
    category: z.enum(agendaCategories),
    summary: z.string().describe('one plain sentence for the agenda'),
    evidence: z
      .record(z.string(), z.unknown())
      .describe('the records behind the proposal, by kind: events, diary actions, coaching contacts, streaks or the episode'),
    status: z.enum(proposalStatuses),
    decidedBy: z.uuid().nullable(),
    decidedAt: isoDateTime.nullable(),
    dismissReason: z.string().nullable(),
    agendaItemId: z.uuid().nullable().describe('the agenda item accepting it created'),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'AgendaProposal' });

export const proposalListResponse = z
  .object({
    meetingId: z.uuid(),
    prefillSince: isoDateTime.describe('the start of the data the pre-fill looks at'),
    prefilledAt: isoDateTime.describe('when the pre-fill last ran'),
    items: z.array(proposalResponse).describe("in agenda order: the team's category order, then client, then kind"),
  })
  .meta({ id: 'AgendaProposalList' });

export const acceptedProposalResponse = z
  .object({ proposal: proposalResponse, agendaItemId: z.uuid() })
  .meta({ id: 'AcceptedAgendaProposal' });

export type ProposalResponse = z.infer<typeof proposalResponse>;
export type ProposalListResponse = z.infer<typeof proposalListResponse>;
export type AcceptedProposalResponse = z.infer<typeof acceptedProposalResponse>;
export type ListProposalsQuery = z.output<typeof listProposalsQuery>;
export type AcceptProposalBody = z.output<typeof acceptProposalBody>;
export type DismissProposalBody = z.output<typeof dismissProposalBody>;
