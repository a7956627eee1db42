import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  clientIdParams,
  createEventBody,
  enteredInErrorBody,
  eventIdParams,
  eventPage,
  eventResponse,
  ifMatchHeaders,
  listEventsQuery,
  updateEventBody,
} from './events.schema.js';
import { createEvent, listEvents, markEventEnteredInError, readEvent, updateEvent } from './events.service.js';

const tags = ['clinical events'];
const access = 'clients.clinical' as const;

/** Clinical events (self-harm, attempts, crises, emergency visits, admissions), under /v1/clients. */
export const eventsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/events',
    {
      schema: {
        tags,
        summary: "List a client's clinical events, newest first (cursor-paginated; entered-in-error ones only when asked for)",
        params: clientIdParams,
        querystring: listEventsQuery,
        response: { 200: eventPage, ...problemResponses },
      },
      config: { access: 'clients.team-view', audit: 'events.list' },
    },
    async (request) => listEvents(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/:id/events',
    {
      schema: {
        tags,
        summary: 'Record a clinical event reported by the client or found in records',
        params: clientIdParams,
        body: createEventBody,
        response: { 201: eventResponse, ...problemResponses },
      },
      config: { access, audit: 'events.create' },
    },
    async (request, reply) => {
      const created = await createEvent(request.db, ctx(request), request.params.id, request.body);
      return reply
        .code(201)
        .header('etag', etagOf(created.version))
        .header('location', `/v1/clients/${request.params.id}/events/${created.id}`)
        .send(created);
    },
  );

  app.get(
    '/:id/events/:eventId',
    {
      schema: { tags, summary: 'Read a clinical event', params: eventIdParams, response: { 200: eventResponse, ...problemResponses } },
      config: { access: 'clients.team-view', audit: 'events.read' },
    },
    async (request, reply) => {
      const found = await readEvent(request.db, ctx(request), request.params.id, request.params.eventId);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/:id/events/:eventId',
    {
      schema: {
        tags,
        summary: 'Correct severity, description, occurredAt or dischargedAt (If-Match required; kind and source are fixed)',
        params: eventIdParams,
        headers: ifMatchHeaders,
        body: updateEventBody,
        response: { 200: eventResponse, ...problemResponses },
      },
      config: { access, audit: 'events.update' },
    },
    async (request, reply) => {
      const { id, eventId } = request.params;
      const updated = await updateEvent(request.db, ctx(request), id, eventId, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.post(
    '/:id/events/:eventId/entered-in-error',
    {
      schema: {
        tags,
        summary: 'Mark an event as entered in error: hidden from lists and agendas, kept for the record',
        params: eventIdParams,
        body: enteredInErrorBody,
        response: { 200: eventResponse, ...problemResponses },
      },
      config: { access, audit: 'events.entered-in-error' },
    },
    async (request, reply) => {
      const { id, eventId } = request.params;
      const marked = await markEventEnteredInError(request.db, ctx(request), id, eventId, request.body.reason);
      return reply.header('etag', etagOf(marked.version)).send(marked);
    },
  );
};
