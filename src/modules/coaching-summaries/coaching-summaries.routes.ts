import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { clientIdParams, coachingLoadResponse, coachingSummaryResponse, monthQuery, staffIdParams } from './coaching-summaries.schema.js';
import { readCoachingLoad, readCoachingSummary } from './coaching-summaries.service.js';

const tags = ['coaching'];

/** Monthly coaching figures, under /v1: per client, and per therapist across their clients. */
export const coachingSummariesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/clients/:id/coaching-summary',
    {
      schema: {
        tags,
        summary: "A client's coaching in a month (default: the clinic's current month), by the time of each request in the clinic's zone",
        params: clientIdParams,
        querystring: monthQuery,
        response: { 200: coachingSummaryResponse, ...problemResponses },
      },
      config: { access: 'coaching.contacts', audit: 'coaching-summary.read' },
    },
    async (request) => readCoachingSummary(request.db, ctx(request), request.params.id, request.query),
  );

  app.get(
    '/staff/:id/coaching-load',
    {
      schema: {
        tags,
        summary: "A therapist's coaching load in a month, in total and per client (the therapist themselves, or a team lead)",
        params: staffIdParams,
        querystring: monthQuery,
        response: { 200: coachingLoadResponse, ...problemResponses },
      },
      config: { access: 'coaching.load', audit: 'coaching-load.read' },
    },
    async (request) => readCoachingLoad(request.db, ctx(request), request.params.id, request.query),
  );
};
