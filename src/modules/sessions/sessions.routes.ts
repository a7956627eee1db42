import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import { putNote, readNote } from './psychotherapy-notes.service.js';
import {
  clientIdParams,
  createSessionBody,
  ifMatchHeaders,
  listSessionsQuery,
  psychotherapyNoteResponse,
  putNoteBody,
  sessionIdParams,
  sessionPage,
  sessionResponse,
  updateSessionBody,
} from './sessions.schema.js';
import { createSession, listSessions, readSession, updateSession } from './sessions.service.js';

const tags = ['sessions'];
const access = 'clients.clinical' as const;

/** Individual therapy sessions, under /v1 (client-scoped collection, then /v1/sessions/:id). */
export const sessionsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/clients/:id/sessions',
    {
      schema: {
        tags,
        summary: "List a client's individual sessions, newest first (summaries: no session notes)",
        params: clientIdParams,
        querystring: listSessionsQuery,
        response: { 200: sessionPage, ...problemResponses },
      },
      config: { access, audit: 'sessions.list' },
    },
    async (request) => listSessions(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/clients/:id/sessions',
    {
      schema: {
        tags,
        summary: 'Schedule or record an individual session',
        params: clientIdParams,
        body: createSessionBody,
        response: { 201: sessionResponse, ...problemResponses },
      },
      config: { access, audit: 'sessions.create' },
    },
    async (request, reply) => {
      const created = await createSession(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/sessions/${created.id}`).send(created);
    },
  );

  app.get(
    '/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Read a session with its session note (never a psychotherapy note)',
        params: sessionIdParams,
        response: { 200: sessionResponse, ...problemResponses },
      },
      config: { access, audit: 'sessions.read' },
    },
    async (request, reply) => {
      const found = await readSession(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Record attendance, review, risk assessment, skills, homework or the session note (If-Match required)',
        params: sessionIdParams,
        headers: ifMatchHeaders,
        body: updateSessionBody,
        response: { 200: sessionResponse, ...problemResponses },
      },
      config: { access, audit: 'sessions.update' },
    },
    async (request, reply) => {
      const updated = await updateSession(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.get(
    '/sessions/:id/psychotherapy-note',
    {
      schema: {
        tags,
        summary: 'Read your own psychotherapy note on a session (author only; anyone else gets 404)',
        params: sessionIdParams,
        response: { 200: psychotherapyNoteResponse, ...problemResponses },
      },
      config: { access, audit: 'psychotherapy-notes.read' },
    },
    async (request, reply) => {
      const note = await readNote(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(note.version)).send(note);
    },
  );

  app.put(
    '/sessions/:id/psychotherapy-note',
    {
      schema: {
        tags,
        summary: 'Write your psychotherapy note on a session: 201 when new, 200 when replaced (If-Match required)',
        params: sessionIdParams,
        headers: ifMatchHeaders,
        body: putNoteBody,
        response: { 200: psychotherapyNoteResponse, 201: psychotherapyNoteResponse, ...problemResponses },
      },
      config: { access, audit: 'psychotherapy-notes.write' },
    },
    async (request, reply) => {
      const { note, created } = await putNote(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body.body);
      return reply
        .code(created ? 201 : 200)
        .header('etag', etagOf(note.version))
        .send(note);
    },
  );
};
