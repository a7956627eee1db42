import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  cancelGroupSessionBody,
  createGroupSessionBody,
  generatedSessionsResponse,
  generateGroupSessionsBody,
  groupIdParams,
  groupSessionIdParams,
  groupSessionPage,
  groupSessionResponse,
  ifMatchHeaders,
  listGroupSessionsQuery,
  updateGroupSessionBody,
} from './group-sessions.schema.js';
import {
  cancelGroupSession,
  createGroupSession,
  generateGroupSessions,
  listGroupSessions,
  readGroupSession,
  updateGroupSession,
} from './group-sessions.service.js';

const tags = ['group-sessions'];
const manage = 'skills-groups.manage' as const;

/** Meetings of a skills group, under /v1 (the group's collection, then /v1/group-sessions/:id). */
export const groupSessionsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/skills-groups/:id/sessions',
    {
      schema: {
        tags,
        summary: "List a group's sessions in date order, cancelled ones included (cursor-paginated)",
        params: groupIdParams,
        querystring: listGroupSessionsQuery,
        response: { 200: groupSessionPage, ...problemResponses },
      },
      config: { access: 'skills-groups.read', audit: 'group-sessions.list' },
    },
    async (request) => listGroupSessions(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/skills-groups/:id/sessions',
    {
      schema: {
        tags,
        summary: 'Create one session; module and weeks default from the curriculum on its date',
        params: groupIdParams,
        body: createGroupSessionBody,
        response: { 201: groupSessionResponse, ...problemResponses },
      },
      config: { access: manage, audit: 'group-sessions.create' },
    },
    async (request, reply) => {
      const created = await createGroupSession(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/group-sessions/${created.id}`).send(created);
    },
  );

  app.post(
    '/skills-groups/:id/sessions/generate',
    {
      schema: {
        tags,
        summary:
          'Create a session on every meeting day of a range (at most 366 days) from the cycle start on; dates that have one are skipped',
        params: groupIdParams,
        body: generateGroupSessionsBody,
        response: { 201: generatedSessionsResponse, ...problemResponses },
      },
      config: { access: manage, audit: 'group-sessions.generate' },
    },
    async (request, reply) => reply.code(201).send(await generateGroupSessions(request.db, ctx(request), request.params.id, request.body)),
  );

  app.get(
    '/group-sessions/:id',
    {
      schema: {
        tags,
        summary: 'Read a group session',
        params: groupSessionIdParams,
        response: { 200: groupSessionResponse, ...problemResponses },
      },
      config: { access: 'skills-groups.read', audit: 'group-sessions.read' },
    },
    async (request, reply) => {
      const found = await readGroupSession(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/group-sessions/:id',
    {
      schema: {
        tags,
        summary: 'Change skills, homework, module or module week; the date is fixed (If-Match required)',
        params: groupSessionIdParams,
        headers: ifMatchHeaders,
        body: updateGroupSessionBody,
        response: { 200: groupSessionResponse, ...problemResponses },
      },
      config: { access: manage, audit: 'group-sessions.update' },
    },
    async (request, reply) => {
      const updated = await updateGroupSession(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.post(
    '/group-sessions/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a session by the clinic, with a reason; it stays on record and counts as no miss (If-Match required)',
        params: groupSessionIdParams,
        headers: ifMatchHeaders,
        body: cancelGroupSessionBody,
        response: { 200: groupSessionResponse, ...problemResponses },
      },
      config: { access: manage, audit: 'group-sessions.cancel' },
    },
    async (request, reply) => {
      const cancelled = await cancelGroupSession(
        request.db,
        ctx(request),
        request.params.id,
        request.headers['if-match'],
        request.body.reason,
      );
      return reply.header('etag', etagOf(cancelled.version)).send(cancelled);
    },
  );
};
