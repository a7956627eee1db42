import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  changeRolesBody,
  createStaffBody,
  ifMatchHeaders,
  listStaffQuery,
  staffIdParams,
  staffPage,
  staffResponse,
  updateStaffBody,
} from './staff.schema.js';
import { changeRoles, createStaff, listStaff, readStaff, setActive, updateStaff } from './staff.service.js';

const tags = ['staff'];
const access = 'staff.manage' as const;

export const staffRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/',
    {
      schema: { tags, summary: 'Create a staff account', body: createStaffBody, response: { 201: staffResponse, ...problemResponses } },
      config: { access, audit: 'staff.create' },
    },
    async (request, reply) => {
      const created = await createStaff(request.db, ctx(request), request.body);
      return reply.code(201).header('etag', etagOf(created.version)).header('location', `/v1/staff/${created.id}`).send(created);
    },
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List staff (cursor-paginated)',
        querystring: listStaffQuery,
        response: { 200: staffPage, ...problemResponses },
      },
      config: { access, audit: 'staff.list' },
    },
    async (request) => listStaff(request.db, ctx(request), request.query),
  );

  app.get(
    '/:id',
    {
      schema: { tags, summary: 'Read a staff account', params: staffIdParams, response: { 200: staffResponse, ...problemResponses } },
      config: { access, audit: 'staff.read' },
    },
    async (request, reply) => {
      const found = await readStaff(request.db, ctx(request), request.params.id);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Update email or display name (If-Match required)',
        params: staffIdParams,
        headers: ifMatchHeaders,
        body: updateStaffBody,
        response: { 200: staffResponse, ...problemResponses },
      },
      config: { access, audit: 'staff.update' },
    },
    async (request, reply) => {
      const updated = await updateStaff(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.put(
    '/:id/roles',
    {
      schema: {
        tags,
        summary: 'Replace the roles (If-Match required; recorded as a privilege change)',
        params: staffIdParams,
        headers: ifMatchHeaders,
        body: changeRolesBody,
        response: { 200: staffResponse, ...problemResponses },
      },
      config: { access, audit: 'staff.roles' },
    },
    async (request, reply) => {
      const updated = await changeRoles(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body.roles);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  for (const [path, active] of [
    ['deactivate', false],
    ['reactivate', true],
  ] as const) {
    app.post(
      `/:id/${path}`,
      {
        schema: {
          tags,
          summary: active ? 'Reactivate an account' : 'Deactivate an account; its tokens stop working at once',
          params: staffIdParams,
          response: { 200: staffResponse, ...problemResponses },
        },
        config: { access, audit: active ? 'staff.reactivate' : 'staff.deactivate' },
      },
      async (request, reply) => {
        const updated = await setActive(request.db, ctx(request), request.params.id, active);
        return reply.header('etag', etagOf(updated.version)).send(updated);
      },
    );
  }
};
