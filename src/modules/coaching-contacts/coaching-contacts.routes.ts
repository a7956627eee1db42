import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  clientIdParams,
  coachingContactPage,
  coachingContactResponse,
  coachingStatusResponse,
  contactIdParams,
  createCoachingContactBody,
  ifMatchHeaders,
  listCoachingContactsQuery,
  updateCoachingContactBody,
} from './coaching-contacts.schema.js';
import {
  createCoachingContact,
  listCoachingContacts,
  readCoachingContact,
  readCoachingStatus,
  updateCoachingContact,
} from './coaching-contacts.service.js';

const tags = ['coaching'];
const access = 'coaching.contacts' as const;

/** Between-session coaching contacts and the coach's status screen, under /v1. */
export const coachingContactsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/clients/:id/coaching-contacts',
    {
      schema: {
        tags,
        summary: "List a client's coaching contacts, newest request first (summaries: no plan, outcome or override reason)",
        params: clientIdParams,
        querystring: listCoachingContactsQuery,
        response: { 200: coachingContactPage, ...problemResponses },
      },
      config: { access, audit: 'coaching-contacts.list' },
    },
    async (request) => listCoachingContacts(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/clients/:id/coaching-contacts',
    {
      schema: {
        tags,
        summary: 'Record a coaching contact: judged by the limits in force at the request, and by the 24-hour rule',
        params: clientIdParams,
        body: createCoachingContactBody,
        response: { 201: coachingContactResponse, ...problemResponses },
      },
      config: { access, audit: 'coaching-contacts.create' },
    },
    async (request, reply) => {
      const created = await createCoachingContact(request.db, ctx(request), request.params.id, request.body);
      return reply
        .code(201)
        .header('etag', etagOf(created.version))
        .header('location', `/v1/coaching-contacts/${created.id}`)
        .send(created);
    },
  );

  app.get(
    '/coaching-contacts/:id',
    {
      schema: {
        tags,
        summary: 'Read a coaching contact with its plan and outcome',
        params: contactIdParams,
        response: { 200: coachingContactResponse, ...problemResponses },
      },
      config: { access, audit: 'coaching-contacts.read' },
    },
    async (request, reply) => {
      const found = await readCoachingContact(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/coaching-contacts/:id',
    {
      schema: {
        tags,
        summary: 'Complete or correct a contact (If-Match required); who, when requested and the 24-hour outcome are fixed',
        params: contactIdParams,
        headers: ifMatchHeaders,
        body: updateCoachingContactBody,
        response: { 200: coachingContactResponse, ...problemResponses },
      },
      config: { access, audit: 'coaching-contacts.update' },
    },
    async (request, reply) => {
      const updated = await updateCoachingContact(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.get(
    '/clients/:id/coaching-status',
    {
      schema: {
        tags,
        summary: "For the coach's screen: whether a 24-hour window is open now, and the primary therapist's limits in force",
        params: clientIdParams,
        response: { 200: coachingStatusResponse, ...problemResponses },
      },
      config: { access, audit: 'coaching-status.read' },
    },
    async (request) => readCoachingStatus(request.db, ctx(request), request.params.id),
  );
};
