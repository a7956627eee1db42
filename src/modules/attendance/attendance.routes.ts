import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { atRiskQuery, atRiskResponse, attendanceReport, clientIdParams, overrideBody } from './attendance.schema.js';
import { listAtRisk, overrideFourMiss, readAttendance } from './attendance.service.js';

const tags = ['attendance'];

/** The four-miss rule: a client's streaks per modality, the clinic's at-risk list, and overrides. */
export const attendanceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/clients/:id/attendance',
    {
      schema: {
        tags,
        summary:
          'Four-miss report: every scheduled occurrence since the episode became active, judged by policy, and the streak per modality',
        params: clientIdParams,
        response: { 200: attendanceReport, ...problemResponses },
      },
      config: { access: 'attendance.read', audit: 'attendance.read' },
    },
    async (request) => readAttendance(request.db, ctx(request), request.params.id),
  );

  app.post(
    '/clients/:id/attendance/override',
    {
      schema: {
        tags,
        summary: "Override a met four-miss streak, where the program's policy allows it, with a reason",
        params: clientIdParams,
        body: overrideBody,
        response: { 201: attendanceReport, ...problemResponses },
      },
      config: { access: 'attendance.override', audit: 'attendance.override' },
    },
    async (request, reply) => reply.code(201).send(await overrideFourMiss(request.db, ctx(request), request.params.id, request.body)),
  );

  app.get(
    '/attendance/at-risk',
    {
      schema: {
        tags,
        summary: "Active clients at warning (threshold − 1) or met, as far as the caller's relationships reach",
        querystring: atRiskQuery,
        response: { 200: atRiskResponse, ...problemResponses },
      },
      config: { access: 'attendance.read', audit: 'attendance.at-risk' },
    },
    async (request) => listAtRisk(request.db, ctx(request), request.query),
  );
};
