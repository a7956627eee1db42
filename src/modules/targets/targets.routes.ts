import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  clientIdParams,
  ifMatchHeaders,
  listTargetsQuery,
  retireTargetBody,
  targetBody,
  targetIdParams,
  targetList,
  targetResponse,
} from './targets.schema.js';
import { changeTarget, createTarget, listTargets, retireTarget } from './targets.service.js';

const tags = ['targets'];
const access = 'clients.clinical' as const;

/** Versioned treatment targets, under /v1/clients. */
export const targetsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/targets',
    {
      schema: {
        tags,
        summary: "List a client's targets in force, in hierarchy order (history=true: every version of every target)",
        params: clientIdParams,
        querystring: listTargetsQuery,
        response: { 200: targetList, ...problemResponses },
      },
      config: { access, audit: 'targets.list' },
    },
    async (request) => listTargets(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/:id/targets',
    {
      schema: {
        tags,
        summary: 'Add a target (version 1)',
        params: clientIdParams,
        body: targetBody,
        response: { 201: targetResponse, ...problemResponses },
      },
      config: { access, audit: 'targets.create' },
    },
    async (request, reply) => {
      const created = await createTarget(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).send(created);
    },
  );

  app.put(
    '/:id/targets/:targetId',
    {
      schema: {
        tags,
        summary: 'Change a target: a new version when its meaning changes (201), the current one when nothing did (200); If-Match required',
        params: targetIdParams,
        headers: ifMatchHeaders,
        body: targetBody,
        response: { 200: targetResponse, 201: targetResponse, ...problemResponses },
      },
      config: { access, audit: 'targets.change' },
    },
    async (request, reply) => {
      const { id, targetId } = request.params;
      const { target, created } = await changeTarget(request.db, ctx(request), id, targetId, request.headers['if-match'], request.body);
      return reply
        .code(created ? 201 : 200)
        .header('etag', etagOf(target.version))
        .send(target);
    },
  );

  app.post(
    '/:id/targets/:targetId/retire',
    {
      schema: {
        tags,
        summary: 'Retire a target: its version in force is closed and stays in the history (If-Match optional)',
        params: targetIdParams,
        headers: ifMatchHeaders,
        body: retireTargetBody,
        response: { 200: targetResponse, ...problemResponses },
      },
      config: { access, audit: 'targets.retire' },
    },
    async (request, reply) => {
      const { id, targetId } = request.params;
      const retired = await retireTarget(request.db, ctx(request), id, targetId, request.headers['if-match'], request.body);
      return reply.send(retired);
    },
  );
};
