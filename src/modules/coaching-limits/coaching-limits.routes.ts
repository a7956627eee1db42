import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  changeCoachingLimitsBody,
  coachingLimitsResponse,
  coachingLimitsVersionList,
  ifMatchHeaders,
  readCoachingLimitsQuery,
  staffIdParams,
} from './coaching-limits.schema.js';
import { changeCoachingLimits, listCoachingLimitsVersions, readCoachingLimits } from './coaching-limits.service.js';

const tags = ['coaching'];

/** A therapist's stated coaching limits, versioned from an effective moment, under /v1/staff/:id. */
export const coachingLimitsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/coaching-limits',
    {
      schema: {
        tags,
        summary: 'The coaching limits in force now, or at the instant `at` names (ETag: the latest version, for If-Match)',
        params: staffIdParams,
        querystring: readCoachingLimitsQuery,
        response: { 200: coachingLimitsResponse, ...problemResponses },
      },
      config: { access: 'coaching-limits.read', audit: 'coaching-limits.read' },
    },
    async (request, reply) => {
      const { limits, latestVersion } = await readCoachingLimits(request.db, ctx(request), request.params.id, request.query.at);
      return reply.header('etag', etagOf(latestVersion)).send(limits);
    },
  );

  app.get(
    '/:id/coaching-limits/versions',
    {
      schema: {
        tags,
        summary: "Every version of the staff member's coaching limits, newest first",
        params: staffIdParams,
        response: { 200: coachingLimitsVersionList, ...problemResponses },
      },
      config: { access: 'coaching-limits.read', audit: 'coaching-limits.versions' },
    },
    async (request, reply) => {
      const history = await listCoachingLimitsVersions(request.db, ctx(request), request.params.id);
      const latest = history.items[0];
      if (latest) reply.header('etag', etagOf(latest.version));
      return reply.send(history);
    },
  );

  app.put(
    '/:id/coaching-limits',
    {
      schema: {
        tags,
        summary: 'State coaching limits: a new version from its effective moment; 201 for the first, 200 after (If-Match required)',
        params: staffIdParams,
        headers: ifMatchHeaders,
        body: changeCoachingLimitsBody,
        response: { 200: coachingLimitsResponse, 201: coachingLimitsResponse, ...problemResponses },
      },
      config: { access: 'coaching-limits.manage', audit: 'coaching-limits.change' },
    },
    async (request, reply) => {
      const { limits, created } = await changeCoachingLimits(
        request.db,
        ctx(request),
        request.params.id,
        request.headers['if-match'],
        request.body,
      );
      return reply
        .code(created ? 201 : 200)
        .header('etag', etagOf(limits.version))
        .send(limits);
    },
  );
};
