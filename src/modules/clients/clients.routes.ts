import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  clientIdParams,
  clientPage,
  clientResponse,
  createClientBody,
  enteredInErrorBody,
  ifMatchHeaders,
  listClientsQuery,
  updateClientBody,
} from './clients.schema.js';
import { createClient, listClients, markEnteredInError, readClient, updateClient } from './clients.service.js';

const tags = ['clients'];

export const clientsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Register a client; opens a referred treatment episode',
        body: createClientBody,
        response: { 201: clientResponse, ...problemResponses },
      },
      config: { access: 'clients.register', audit: 'clients.create' },
    },
    async (request, reply) => {
      const created = await createClient(request.db, ctx(request), request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/clients/${created.id}`).send(created);
    },
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List clients (cursor-paginated): all for administrators, your own clients otherwise',
        querystring: listClientsQuery,
        response: { 200: clientPage, ...problemResponses },
      },
      config: { access: 'clients.read', audit: 'clients.list' },
    },
    async (request) => listClients(request.db, ctx(request), request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: "Read a client's registration",
        params: clientIdParams,
        response: { 200: clientResponse, ...problemResponses },
      },
      config: { access: 'clients.read', audit: 'clients.read' },
    },
    async (request, reply) => {
      const found = await readClient(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Update registration fields (If-Match required)',
        params: clientIdParams,
        headers: ifMatchHeaders,
        body: updateClientBody,
        response: { 200: clientResponse, ...problemResponses },
      },
      config: { access: 'clients.register', audit: 'clients.update' },
    },
    async (request, reply) => {
      const updated = await updateClient(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.post(
    '/:id/entered-in-error',
    {
      schema: {
        tags,
        summary: 'Mark a client as entered in error: hidden from lists, kept for audit',
        params: clientIdParams,
        body: enteredInErrorBody,
        response: { 200: clientResponse, ...problemResponses },
      },
      config: { access: 'clients.register', audit: 'clients.entered-in-error' },
    },
    async (request, reply) => {
      const marked = await markEnteredInError(request.db, ctx(request), request.params.id, request.body.reason);
      return reply.header('etag', etagOf(marked.version)).send(marked);
    },
  );
};
