import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  agendaItemParams,
  agendaItemResponse,
  agendaResponse,
  createAgendaItemBody,
  ifMatchHeaders,
  meetingIdParams,
  updateAgendaItemBody,
} from './team-agenda.schema.js';
import { createAgendaItem, readMeetingAgenda, updateAgendaItem } from './team-agenda.service.js';

const tags = ['teams'];

/** A consultation-team meeting's agenda, under /v1/meetings/:id/agenda. */
export const teamAgendaRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/meetings/:id/agenda',
    {
      schema: {
        tags,
        summary: "The agenda in the team's category order, then by request time, time-boxed by the meeting's duration",
        params: meetingIdParams,
        response: { 200: agendaResponse, ...problemResponses },
      },
      config: { access: 'meetings.read', audit: 'agenda-items.list' },
    },
    async (request) => readMeetingAgenda(request.db, ctx(request), request.params.id),
  );

  app.post(
    '/meetings/:id/agenda',
    {
      schema: {
        tags,
        summary: 'Put an item on the agenda (current members; a client item names a client the team holds)',
        params: meetingIdParams,
        body: createAgendaItemBody,
        response: { 201: agendaItemResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'agenda-items.create' },
    },
    async (request, reply) => {
      const created = await createAgendaItem(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).send(created);
    },
  );

  app.patch(
    '/meetings/:id/agenda/:itemId',
    {
      schema: {
        tags,
        summary: 'Keep an agenda item: question, clarity / motivation / obstacles, outcome, plan, follow-up, status (If-Match required)',
        params: agendaItemParams,
        headers: ifMatchHeaders,
        body: updateAgendaItemBody,
        response: { 200: agendaItemResponse, ...problemResponses },
      },
      config: { access: 'meetings.write', audit: 'agenda-items.update' },
    },
    async (request, reply) => {
      const { id, itemId } = request.params;
      const updated = await updateAgendaItem(request.db, ctx(request), id, itemId, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );
};
