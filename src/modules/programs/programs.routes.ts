import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  changePolicyBody,
  createProgramBody,
  ifMatchHeaders,
  listProgramsQuery,
  policyVersionList,
  policyVersionResponse,
  programIdParams,
  programPage,
  programResponse,
  readProgramQuery,
} from './programs.schema.js';
import { changePolicy, createProgram, listPolicyVersions, listPrograms, readProgram } from './programs.service.js';

const tags = ['programs'];

export const programsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      schema: {
        tags,
        summary: "List the clinic's programs, each with the policy in force today (cursor-paginated)",
        querystring: listProgramsQuery,
        response: { 200: programPage, ...problemResponses },
      },
      config: { access: 'programs.read', audit: 'programs.list' },
    },
    async (request) => listPrograms(request.db, ctx(request), request.query),
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a program; its first policy version takes the defaults for its kind, with any overrides',
        body: createProgramBody,
        response: { 201: programResponse, ...problemResponses },
      },
      config: { access: 'programs.manage', audit: 'programs.create' },
    },
    async (request, reply) => {
      const created = await createProgram(request.db, ctx(request), request.body);
      return reply
        .code(201)
        .header('etag', etagOf(created.latestPolicyVersion))
        .header('location', `/v1/programs/${created.id}`)
        .send(created);
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Read a program with the policy in force today, or on the date `at` names',
        params: programIdParams,
        querystring: readProgramQuery,
        response: { 200: programResponse, ...problemResponses },
      },
      config: { access: 'programs.read', audit: 'programs.read' },
    },
    async (request, reply) => {
      const found = await readProgram(request.db, ctx(request), request.params.id, request.query.at);
      return reply.header('etag', etagOf(found.latestPolicyVersion)).send(found);
    },
  );

  app.put(
    '/:id/policy',
    {
      schema: {
        tags,
        summary: 'Change the policy: a new version from its effective date (If-Match: the ETag of the latest version)',
        params: programIdParams,
        headers: ifMatchHeaders,
        body: changePolicyBody,
        response: { 200: policyVersionResponse, ...problemResponses },
      },
      config: { access: 'programs.manage', audit: 'programs.policy-change' },
    },
    async (request, reply) => {
      const created = await changePolicy(request.db, ctx(request), request.params.id, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(created.version)).send(created);
    },
  );

  app.get(
    '/:id/policy/versions',
    {
      schema: {
        tags,
        summary: "Every version of the program's policy, newest first",
        params: programIdParams,
        response: { 200: policyVersionList, ...problemResponses },
      },
      config: { access: 'programs.read', audit: 'programs.policy-versions' },
    },
    async (request, reply) => {
      const history = await listPolicyVersions(request.db, ctx(request), request.params.id);
      const latest = history.items[0];
      if (latest) reply.header('etag', etagOf(latest.version));
      return reply.send(history);
    },
  );
};
