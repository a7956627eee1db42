import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import { addMember, listMembers, readRota, updateMember } from './team-members.service.js';
import {
  addMemberBody,
  ifMatchHeaders,
  listMembersQuery,
  memberParams,
  rotaResponse,
  teamIdParams,
  teamMemberList,
  teamMemberResponse,
  updateMemberBody,
} from './teams.schema.js';

const tags = ['teams'];

/** A team's membership and its role rota, under /v1/teams/:id. */
export const teamMembersRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/members',
    {
      schema: {
        tags,
        summary: "The team's members by name (current ones unless current=false)",
        params: teamIdParams,
        querystring: listMembersQuery,
        response: { 200: teamMemberList, ...problemResponses },
      },
      config: { access: 'teams.read', audit: 'team-members.list' },
    },
    async (request) => listMembers(request.db, ctx(request), request.params.id, request.query.current === 'true'),
  );

  app.post(
    '/:id/members',
    {
      schema: {
        tags,
        summary: 'Add a member (the team lead or an administrator)',
        params: teamIdParams,
        body: addMemberBody,
        response: { 201: teamMemberResponse, ...problemResponses },
      },
      config: { access: 'teams.manage', audit: 'team-members.add' },
    },
    async (request, reply) => {
      const added = await addMember(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(added.version)).send(added);
    },
  );

  app.patch(
    '/:id/members/:memberId',
    {
      schema: {
        tags,
        summary: 'Record that a member left, or when they accepted the agreements (the team lead or an administrator; If-Match required)',
        params: memberParams,
        headers: ifMatchHeaders,
        body: updateMemberBody,
        response: { 200: teamMemberResponse, ...problemResponses },
      },
      config: { access: 'teams.manage', audit: 'team-members.update' },
    },
    async (request, reply) => {
      const { id, memberId } = request.params;
      const updated = await updateMember(request.db, ctx(request), id, memberId, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.get(
    '/:id/rota',
    {
      schema: {
        tags,
        summary: 'Who to ask for each meeting role next, from the history of meetings',
        params: teamIdParams,
        response: { 200: rotaResponse, ...problemResponses },
      },
      config: { access: 'teams.read', audit: 'team-rota.read' },
    },
    async (request) => readRota(request.db, ctx(request), request.params.id),
  );
};
