import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import { createTeamBody, ifMatchHeaders, listTeamsQuery, teamIdParams, teamPage, teamResponse, updateTeamBody } from './teams.schema.js';
import { createTeam, listTeams, readTeam, updateTeam } from './teams.service.js';

const tags = ['teams'];

/** Consultation teams, under /v1/teams: program, lead, the agenda's category order and the pre-fill's thresholds. */
export const teamsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: "List the clinic's consultation teams (cursor-paginated)",
        querystring: listTeamsQuery,
        response: { 200: teamPage, ...problemResponses },
      },
      config: { access: 'teams.read', audit: 'teams.list' },
    },
    async (request) => listTeams(request.db, ctx(request), request.query),
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a consultation team; the lead and the members named join today',
        body: createTeamBody,
        response: { 201: teamResponse, ...problemResponses },
      },
      config: { access: 'teams.create', audit: 'teams.create' },
    },
    async (request, reply) => {
      const created = await createTeam(request.db, ctx(request), request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/teams/${created.id}`).send(created);
    },
  );

  app.get(
    '/:id',
    {
      schema: { tags, summary: 'Read a team', params: teamIdParams, response: { 200: teamResponse, ...problemResponses } },
      config: { access: 'teams.read', audit: 'teams.read' },
    },
    async (request, reply) => {
      const found = await readTeam(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change a team (the lead or an administrator; a new lead: administrators only) — If-Match required',
        params: teamIdParams,
        headers: ifMatchHeaders,
        body: updateTeamBody,
        response: { 200: teamResponse, ...problemResponses },
      },
      config: { access: 'teams.manage', audit: 'teams.update' },
    },
    async (request, reply) => {
      const updated = await updateTeam(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );
};
