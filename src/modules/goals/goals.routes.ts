import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  clientIdParams,
  createGoalBody,
  goalIdParams,
  goalPage,
  goalResponse,
  ifMatchHeaders,
  listGoalsQuery,
  revisedGoalResponse,
  reviseGoalBody,
} from './goals.schema.js';
import { createGoal, listGoals, reviseGoal } from './goals.service.js';

const tags = ['goals'];
const access = 'clients.clinical' as const;

/** Life-worth-living goals, under /v1/clients. */
export const goalsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/goals',
    {
      schema: {
        tags,
        summary: "List a client's life-worth-living goals with their revisions (newest first)",
        params: clientIdParams,
        querystring: listGoalsQuery,
        response: { 200: goalPage, ...problemResponses },
      },
      config: { access, audit: 'goals.list' },
    },
    async (request) => listGoals(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/:id/goals',
    {
      schema: {
        tags,
        summary: "Record a life-worth-living goal in the client's own words",
        params: clientIdParams,
        body: createGoalBody,
        response: { 201: goalResponse, ...problemResponses },
      },
      config: { access, audit: 'goals.create' },
    },
    async (request, reply) => {
      const created = await createGoal(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).send(created);
    },
  );

  app.post(
    '/:id/goals/:goalId/revisions',
    {
      schema: {
        tags,
        summary: 'Add a dated progress note to a goal, optionally changing its status or wording (If-Match required)',
        params: goalIdParams,
        headers: ifMatchHeaders,
        body: reviseGoalBody,
        response: { 201: revisedGoalResponse, ...problemResponses },
      },
      config: { access, audit: 'goals.revise' },
    },
    async (request, reply) => {
      const { id, goalId } = request.params;
      const revised = await reviseGoal(request.db, ctx(request), id, goalId, request.headers['if-match'], request.body);
      return reply.code(201).header('etag', etagOf(revised.goal.version)).send(revised);
    },
  );
};
