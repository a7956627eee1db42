import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  createGrantBody,
  grantIdParams,
  grantPage,
  grantResponse,
  listGrantsQuery,
  reviewBody,
  reviewQueueQuery,
  reviewQueueResponse,
} from './break-glass.schema.js';
import { createGrant, listGrants, listReviewQueue, reviewGrant } from './break-glass.service.js';

const tags = ['break-glass'];

export const breakGlassRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Open emergency access to a client outside your relationships (time-boxed, reviewed by compliance)',
        body: createGrantBody,
        response: { 201: grantResponse, ...problemResponses },
      },
      config: { access: 'break-glass.request', audit: 'break-glass.create' },
    },
    async (request, reply) => reply.code(201).send(await createGrant(request.db, authed(request), request.body)),
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List grants for review (default: unreviewed)',
        querystring: listGrantsQuery,
        response: { 200: grantPage, ...problemResponses },
      },
      config: { access: 'break-glass.review', audit: 'break-glass.list' },
    },
    async (request) => listGrants(request.db, authed(request), request.query),
  );

  app.get(
    '/queue',
    {
      schema: {
        tags,
        summary: 'The review queue: unreviewed grants with everything accessed under each, overdue first, then oldest first',
        querystring: reviewQueueQuery,
        response: { 200: reviewQueueResponse, ...problemResponses },
      },
      config: { access: 'break-glass.review', audit: 'break-glass.queue' },
    },
    async (request) => listReviewQueue(request.db, authed(request), request.query),
  );

  app.post(
    '/:id/review',
    {
      schema: {
        tags,
        summary: 'Record the compliance review of a grant',
        params: grantIdParams,
        body: reviewBody,
        response: { 201: grantResponse, ...problemResponses },
      },
      config: { access: 'break-glass.review', audit: 'break-glass.review' },
    },
    async (request, reply) => reply.code(201).send(await reviewGrant(request.db, authed(request), request.params.id, request.body)),
  );
};
