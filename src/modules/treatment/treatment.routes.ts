import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import { createCommitment, listCommitments } from './commitments.service.js';
import { listEpisodes, openEpisode, transitionEpisode } from './episodes.service.js';
import { assignStage, listStages } from './stages.service.js';
import {
  assignStageBody,
  clientIdParams,
  commitmentList,
  commitmentResponse,
  createCommitmentBody,
  episodeList,
  episodeParams,
  episodeResponse,
  ifMatchHeaders,
  openEpisodeBody,
  stageList,
  stageResponse,
  transitionBody,
} from './treatment.schema.js';

const tags = ['treatment'];
/** The clinical record: the primary therapist, or a clinician with a break-glass grant (checked in the service). */
const access = 'clients.clinical' as const;

export const treatmentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/episodes',
    {
      schema: {
        tags,
        summary: "List the client's treatment episodes, newest first",
        params: clientIdParams,
        response: { 200: episodeList, ...problemResponses },
      },
      config: { access, audit: 'episodes.list' },
    },
    async (request) => listEpisodes(request.db, ctx(request), request.params.id),
  );

  app.post(
    '/:id/episodes',
    {
      schema: {
        tags,
        summary: 'Open a new referred episode (one open episode at a time; four-miss re-entry needs the eligible date and a recommitment)',
        params: clientIdParams,
        body: openEpisodeBody,
        response: { 201: episodeResponse, ...problemResponses },
      },
      config: { access, audit: 'episodes.open' },
    },
    async (request, reply) => {
      const created = await openEpisode(request.db, ctx(request), request.params.id, request.body);
      return reply.code(201).header('etag', etagOf(created.version)).send(created);
    },
  );

  app.post(
    '/:id/episodes/:episodeId/transitions',
    {
      schema: {
        tags,
        summary: 'Move an episode: referred → pretreatment → active → discharged with a reason (If-Match required)',
        params: episodeParams,
        headers: ifMatchHeaders,
        body: transitionBody,
        response: { 200: episodeResponse, ...problemResponses },
      },
      config: { access, audit: 'episodes.transition' },
    },
    async (request, reply) => {
      const { id, episodeId } = request.params;
      const updated = await transitionEpisode(request.db, ctx(request), id, episodeId, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.get(
    '/:id/stages',
    {
      schema: {
        tags,
        summary: "The client's stage history, newest first",
        params: clientIdParams,
        response: { 200: stageList, ...problemResponses },
      },
      config: { access, audit: 'stages.list' },
    },
    async (request) => listStages(request.db, ctx(request), request.params.id),
  );

  app.post(
    '/:id/stages',
    {
      schema: {
        tags,
        summary: 'Assign a stage (closes the current assignment; rationale required)',
        params: clientIdParams,
        body: assignStageBody,
        response: { 201: stageResponse, ...problemResponses },
      },
      config: { access, audit: 'stages.assign' },
    },
    async (request, reply) => reply.code(201).send(await assignStage(request.db, ctx(request), request.params.id, request.body)),
  );

  app.get(
    '/:id/commitments',
    {
      schema: {
        tags,
        summary: "The client's commitments and recommitments, newest first",
        params: clientIdParams,
        response: { 200: commitmentList, ...problemResponses },
      },
      config: { access, audit: 'commitments.list' },
    },
    async (request) => listCommitments(request.db, ctx(request), request.params.id),
  );

  app.post(
    '/:id/commitments',
    {
      schema: {
        tags,
        summary: 'Record a commitment or recommitment (never edited: each one is a new record)',
        params: clientIdParams,
        body: createCommitmentBody,
        response: { 201: commitmentResponse, ...problemResponses },
      },
      config: { access, audit: 'commitments.create' },
    },
    async (request, reply) => reply.code(201).send(await createCommitment(request.db, ctx(request), request.params.id, request.body)),
  );
};
