import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  acceptedProposalResponse,
  acceptProposalBody,
  dismissProposalBody,
  listProposalsQuery,
  meetingIdParams,
  proposalIdParams,
  proposalListResponse,
  proposalResponse,
} from './team-prefill.schema.js';
import { acceptProposal, dismissProposal, listProposals, refreshPrefill } from './team-prefill.service.js';

const tags = ['consultation teams'];

/** The agenda items the pre-fill proposes for a team meeting, and the team's decision on each, under /v1. */
export const teamPrefillRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/meetings/:id/proposals',
    {
      schema: {
        tags,
        summary: "The pre-fill's proposals for a meeting, each with its evidence, in agenda order (members of the team)",
        params: meetingIdParams,
        querystring: listProposalsQuery,
        response: { 200: proposalListResponse, ...problemResponses },
      },
      config: { access: 'meetings.read', audit: 'agenda-proposals.list' },
    },
    async (request) => listProposals(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/meetings/:id/prefill',
    {
      schema: {
        tags,
        summary: 'Run the pre-fill again: new proposals are added, open ones updated, decided ones left as they are',
        params: meetingIdParams,
        response: { 200: proposalListResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'meetings.prefill' },
    },
    async (request) => refreshPrefill(request.db, ctx(request), request.params.id),
  );

  app.post(
    '/meetings/:id/proposals/:proposalId/accept',
    {
      schema: {
        tags,
        summary: 'Accept a proposal: it becomes an open agenda item requested by the caller',
        params: proposalIdParams,
        body: acceptProposalBody,
        response: { 201: acceptedProposalResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'agenda-proposals.accept' },
    },
    async (request, reply) => {
      const { id, proposalId } = request.params;
      return reply.code(201).send(await acceptProposal(request.db, ctx(request), id, proposalId, request.body));
    },
  );

  app.post(
    '/meetings/:id/proposals/:proposalId/dismiss',
    {
      schema: {
        tags,
        summary: 'Dismiss a proposal, with the reason',
        params: proposalIdParams,
        body: dismissProposalBody,
        response: { 200: proposalResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'agenda-proposals.dismiss' },
    },
    async (request) => dismissProposal(request.db, ctx(request), request.params.id, request.params.proposalId, request.body),
  );
};
