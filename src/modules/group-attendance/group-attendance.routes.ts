import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { groupSessionIdParams, putAttendanceBody, sessionAttendanceResponse } from './group-attendance.schema.js';
import { putAttendance, readAttendance } from './group-attendance.service.js';

const tags = ['skills groups'];

/** Attendance and homework review at a group session, under /v1: the group's leaders (and administrators, to read). */
export const groupAttendanceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/group-sessions/:id/attendance',
    {
      schema: {
        tags,
        summary: "Read a group session's roster with each client's recorded attendance (null until recorded)",
        params: groupSessionIdParams,
        response: { 200: sessionAttendanceResponse, ...problemResponses },
      },
      config: { access: 'skills-groups.roster', audit: 'group-attendance.read' },
    },
    async (request) => readAttendance(request.db, ctx(request), request.params.id),
  );

  app.put(
    '/group-sessions/:id/attendance',
    {
      schema: {
        tags,
        summary: "Record the roster's attendance in one call: unchanged rows keep their version, changed rows get the next one",
        params: groupSessionIdParams,
        body: putAttendanceBody,
        response: { 200: sessionAttendanceResponse, ...problemResponses },
      },
      config: { access: 'group-attendance.write', audit: 'group-attendance.write' },
    },
    async (request) => putAttendance(request.db, ctx(request), request.params.id, request.body),
  );
};
