import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import { agendaResponse, ifMatchHeaders, putAgendaBody, sessionIdParams } from './agenda.schema.js';
import { readAgenda, saveAgenda } from './agenda.service.js';

const tags = ['sessions'];
const access = 'clients.clinical' as const;

/** The session agenda the target hierarchy generates, and the order the therapist settles on. */
export const agendaRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/sessions/:id/agenda',
    {
      schema: {
        tags,
        summary: 'The agenda computed now in hierarchy order since the last attended session, with the saved final order if any',
        params: sessionIdParams,
        response: { 200: agendaResponse, ...problemResponses },
      },
      config: { access, audit: 'agenda.read' },
    },
    async (request, reply) => {
      const agenda = await readAgenda(request.db, ctx(request), request.params.id);
      if (agenda.version !== null) reply.header('etag', etagOf(agenda.version));
      return reply.send(agenda);
    },
  );

  app.put(
    '/sessions/:id/agenda',
    {
      schema: {
        tags,
        summary: 'Save the final agenda: computed items reordered, therapist items added (If-Match once saved)',
        params: sessionIdParams,
        headers: ifMatchHeaders,
        body: putAgendaBody,
        response: { 200: agendaResponse, ...problemResponses },
      },
      config: { access, audit: 'agenda.update' },
    },
    async (request, reply) => {
      const agenda = await saveAgenda(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(agenda.version ?? 1)).send(agenda);
    },
  );
};
