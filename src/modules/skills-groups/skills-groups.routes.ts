import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  createSkillsGroupBody,
  curriculumQuery,
  curriculumResponse,
  groupIdParams,
  ifMatchHeaders,
  listSkillsGroupsQuery,
  skillsGroupPage,
  skillsGroupResponse,
  updateSkillsGroupBody,
} from './skills-groups.schema.js';
import { createSkillsGroup, listSkillsGroups, readCurriculum, readSkillsGroup, updateSkillsGroup } from './skills-groups.service.js';

const tags = ['skills-groups'];

/** Skills-training groups, under /v1: who leads them, when they meet and the curriculum they cycle through. */
export const skillsGroupsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/skills-groups',
    {
      schema: {
        tags,
        summary: "List the clinic's skills groups by name (active ones unless active=false; cursor-paginated)",
        querystring: listSkillsGroupsQuery,
        response: { 200: skillsGroupPage, ...problemResponses },
      },
      config: { access: 'skills-groups.read', audit: 'skills-groups.list' },
    },
    async (request) => listSkillsGroups(request.db, ctx(request), request.query),
  );

  app.post(
    '/skills-groups',
    {
      schema: {
        tags,
        summary: 'Create a skills group; capacity defaults to the program policy, curriculum to the common 24-week cycle',
        body: createSkillsGroupBody,
        response: { 201: skillsGroupResponse, ...problemResponses },
      },
      config: { access: 'skills-groups.create', audit: 'skills-groups.create' },
    },
    async (request, reply) => {
      const created = await createSkillsGroup(request.db, ctx(request), request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/skills-groups/${created.id}`).send(created);
    },
  );

  app.get(
    '/skills-groups/:id',
    {
      schema: {
        tags,
        summary: 'Read a skills group',
        params: groupIdParams,
        response: { 200: skillsGroupResponse, ...problemResponses },
      },
      config: { access: 'skills-groups.read', audit: 'skills-groups.read' },
    },
    async (request, reply) => {
      const found = await readSkillsGroup(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/skills-groups/:id',
    {
      schema: {
        tags,
        summary: 'Change a group (its leaders: administrators only); existing sessions keep their module and week (If-Match required)',
        params: groupIdParams,
        headers: ifMatchHeaders,
        body: updateSkillsGroupBody,
        response: { 200: skillsGroupResponse, ...problemResponses },
      },
      config: { access: 'skills-groups.manage', audit: 'skills-groups.update' },
    },
    async (request, reply) => {
      const updated = await updateSkillsGroup(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.get(
    '/skills-groups/:id/curriculum',
    {
      schema: {
        tags,
        summary: 'Where the curriculum stands on a date (default today): module, week, module start and next module start',
        params: groupIdParams,
        querystring: curriculumQuery,
        response: { 200: curriculumResponse, ...problemResponses },
      },
      config: { access: 'skills-groups.read', audit: 'skills-groups.curriculum' },
    },
    async (request) => readCurriculum(request.db, ctx(request), request.params.id, request.query.date),
  );
};
