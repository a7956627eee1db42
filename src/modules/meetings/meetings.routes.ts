import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  createdMeetingResponse,
  createMeetingBody,
  ifMatchHeaders,
  listMeetingsQuery,
  meetingIdParams,
  meetingPage,
  meetingResponse,
  teamIdParams,
  updateMeetingBody,
} from './meetings.schema.js';
import { createMeeting, listMeetings, readMeeting, updateMeeting } from './meetings.service.js';

const tags = ['teams'];

/** Consultation-team meetings: /v1/teams/:id/meetings and /v1/meetings/:id. */
export const meetingsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/teams/:id/meetings',
    {
      schema: {
        tags,
        summary: "The team's meetings, newest first (current members; cursor-paginated)",
        params: teamIdParams,
        querystring: listMeetingsQuery,
        response: { 200: meetingPage, ...problemResponses },
      },
      config: { access: 'meetings.read', audit: 'meetings.list' },
    },
    async (request) => listMeetings(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/teams/:id/meetings',
    {
      schema: {
        tags,
        summary:
          "Create a meeting: the previous meeting's unfinished items carry over, and the pre-fill proposes items from the week's data",
        params: teamIdParams,
        body: createMeetingBody,
        response: { 201: createdMeetingResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'meetings.create' },
    },
    async (request, reply) => {
      const created = await createMeeting(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/meetings/${created.id}`).send(created);
    },
  );

  app.get(
    '/meetings/:id',
    {
      schema: { tags, summary: 'Read a meeting', params: meetingIdParams, response: { 200: meetingResponse, ...problemResponses } },
      config: { access: 'meetings.read', audit: 'meetings.read' },
    },
    async (request, reply) => {
      const found = await readMeeting(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/meetings/:id',
    {
      schema: {
        tags,
        summary: 'Keep the meeting record: attendance, agreement read, observer notes, minutes; roles by the team lead (If-Match required)',
        params: meetingIdParams,
        headers: ifMatchHeaders,
        body: updateMeetingBody,
        response: { 200: meetingResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'meetings.update' },
    },
    async (request, reply) => {
      const updated = await updateMeeting(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );
};
