import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  chainAnalysisIdParams,
  chainAnalysisPage,
  chainAnalysisResponse,
  clientIdParams,
  createChainAnalysisBody,
  ifMatchHeaders,
  listChainAnalysesQuery,
  updateChainAnalysisBody,
} from './chain-analyses.schema.js';
import { createChainAnalysis, listChainAnalyses, readChainAnalysis, updateChainAnalysis } from './chain-analyses.service.js';

const tags = ['chain analyses'];
const access = 'clients.clinical' as const;

/** Behavioural chain analyses of a client's target behaviours, under /v1/clients. */
export const chainAnalysesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/chain-analyses',
    {
      schema: {
        tags,
        summary: "List a client's chain analyses, newest behaviour first (cursor-paginated; filter by eventId or targetId)",
        params: clientIdParams,
        querystring: listChainAnalysesQuery,
        response: { 200: chainAnalysisPage, ...problemResponses },
      },
      config: { access, audit: 'chain-analyses.list' },
    },
    async (request) => listChainAnalyses(request.db, ctx(request), request.params.id, request.query),
  );

  app.post(
    '/:id/chain-analyses',
    {
      schema: {
        tags,
        summary: 'Record a chain analysis of a target behaviour or clinical event, done in session or as homework',
        params: clientIdParams,
        body: createChainAnalysisBody,
        response: { 201: chainAnalysisResponse, ...problemResponses },
      },
      config: { access, audit: 'chain-analyses.create' },
    },
    async (request, reply) => {
      const created = await createChainAnalysis(request.db, ctx(request), request.params.id, request.body);
      return reply
        .code(201)
        .header('etag', etagOf(created.version))
        .header('location', `/v1/clients/${request.params.id}/chain-analyses/${created.id}`)
        .send(created);
    },
  );

  app.get(
    '/:id/chain-analyses/:analysisId',
    {
      schema: {
        tags,
        summary: 'Read a chain analysis',
        params: chainAnalysisIdParams,
        response: { 200: chainAnalysisResponse, ...problemResponses },
      },
      config: { access, audit: 'chain-analyses.read' },
    },
    async (request, reply) => {
      const found = await readChainAnalysis(request.db, ctx(request), request.params.id, request.params.analysisId);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.patch(
    '/:id/chain-analyses/:analysisId',
    {
      schema: {
        tags,
        summary: 'Change any part of a chain analysis (If-Match required)',
        params: chainAnalysisIdParams,
        headers: ifMatchHeaders,
        body: updateChainAnalysisBody,
        response: { 200: chainAnalysisResponse, ...problemResponses },
      },
      config: { access, audit: 'chain-analyses.update' },
    },
    async (request, reply) => {
      const { id, analysisId } = request.params;
      const updated = await updateChainAnalysis(request.db, ctx(request), id, analysisId, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );
};
