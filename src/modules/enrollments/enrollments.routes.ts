import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  createEnrollmentBody,
  endEnrollmentBody,
  enrollmentPage,
  enrollmentParams,
  enrollmentResponse,
  groupIdParams,
  ifMatchHeaders,
  listEnrollmentsQuery,
} from './enrollments.schema.js';
import { createEnrollment, endEnrollment, listEnrollments } from './enrollments.service.js';

const tags = ['skills groups'];
const access = 'skills-groups.roster' as const;

/** A group's roster, under /v1: who is enrolled, joining and leaving. Administrators and the group's leaders. */
export const enrollmentsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/skills-groups/:id/enrollments',
    {
      schema: {
        tags,
        summary: "List a group's enrollments by start date (client names only): by default those active today or starting later",
        params: groupIdParams,
        querystring: listEnrollmentsQuery,
        response: { 200: enrollmentPage, ...problemResponses },
      },
      config: { access, audit: 'enrollments.list' },
    },
    async (request) => listEnrollments(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/skills-groups/:id/enrollments',
    {
      schema: {
        tags,
        summary: "Enroll a client of the group's program, within capacity and the program's entry policy",
        params: groupIdParams,
        body: createEnrollmentBody,
        response: { 201: enrollmentResponse, ...problemResponses },
      },
      config: { access, audit: 'enrollments.create' },
    },
    async (request, reply) => {
      const created = await createEnrollment(request.db, ctx(request), request.params.id, request.body);
      return reply
        .code(201)
        .header('etag', etagOf(created.version))
        .header('location', `/v1/skills-groups/${created.groupId}/enrollments/${created.id}`)
        .send(created);
    },
  );

  app.post(
    '/skills-groups/:id/enrollments/:enrollmentId/end',
    {
      schema: {
        tags,
        summary: 'End an enrollment on its last day, with a reason (If-Match required)',
        params: enrollmentParams,
        headers: ifMatchHeaders,
        body: endEnrollmentBody,
        response: { 200: enrollmentResponse, ...problemResponses },
      },
      config: { access, audit: 'enrollments.end' },
    },
    async (request, reply) => {
      const ended = await endEnrollment(request.db, ctx(request), request.params, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(ended.version)).send(ended);
    },
  );
};
