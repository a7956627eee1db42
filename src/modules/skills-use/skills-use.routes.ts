import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { clientIdParams, skillsUseQuery, skillsUseResponse } from './skills-use.schema.js';
import { readSkillsUse } from './skills-use.service.js';

/** The group view of a client's diary cards, under /v1: skills used, day by day, and nothing else of the card. */
export const skillsUseRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/clients/:id/skills-use',
    {
      schema: {
        tags: ['skills groups'],
        summary: "Read the skills a client recorded on their diary cards, per day (the skills trainers' view of the card)",
        params: clientIdParams,
        querystring: skillsUseQuery,
        response: { 200: skillsUseResponse, ...problemResponses },
      },
      config: { access: 'clients.group-view', audit: 'skills-use.read' },
    },
    async (request) => readSkillsUse(request.db, ctx(request), request.params.id, request.query),
  );
};
