import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { createSkillBody, listSkillsQuery, skillIdParams, skillList, skillResponse, updateSkillBody } from './skills.schema.js';
import { createSkill, listSkills, updateSkill } from './skills.service.js';

const tags = ['skills'];

/** The clinic's skills catalog: reference data for diary cards, sessions and groups. No deletes: deactivate. */
export const skillsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List the skills catalog in diary-card order (module, then sort order); active skills unless includeInactive=true',
        querystring: listSkillsQuery,
        response: { 200: skillList, ...problemResponses },
      },
      config: { access: 'skills.read', audit: 'skills.list' },
    },
    async (request) => listSkills(request.db, ctx(request), request.query),
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: "Add one of the clinic's own skills (names are unique within a module)",
        body: createSkillBody,
        response: { 201: skillResponse, ...problemResponses },
      },
      config: { access: 'skills.manage', audit: 'skills.create' },
    },
    async (request, reply) => {
      const created = await createSkill(request.db, ctx(request), request.body);
      return reply.code(201).header('location', `/v1/skills/${created.id}`).send(created);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Rename, reorder or (de)activate a skill; standard skills change only sortOrder and active',
        params: skillIdParams,
        body: updateSkillBody,
        response: { 200: skillResponse, ...problemResponses },
      },
      config: { access: 'skills.manage', audit: 'skills.update' },
    },
    async (request) => updateSkill(request.db, ctx(request), request.params.id, request.body),
  );
};
