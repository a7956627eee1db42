import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { etagOf } from '../../lib/http.js';
import { problemResponses } from '../../plugins/errors.js';
import {
  clientIdParams,
  dayParams,
  diaryCardList,
  diaryCardResponse,
  diaryCardVersionList,
  diaryDayBody,
  ifMatchHeaders,
  listCardsQuery,
  replaceCardBody,
  submitDayResponse,
  weekParams,
} from './diary-cards.schema.js';
import { listCardVersions, listDiaryCards, readDiaryCard, replaceCard, submitDay } from './diary-cards.service.js';

const tags = ['diary-cards'];
const access = 'clients.clinical' as const;

/** Diary cards, one per client-week, under /v1/clients. */
export const diaryCardsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:id/diary-cards',
    {
      schema: {
        tags,
        summary: "List a client's diary cards, newest week first, with day counts and back-filled days (from/to: week starts)",
        params: clientIdParams,
        querystring: listCardsQuery,
        response: { 200: diaryCardList, ...problemResponses },
      },
      config: { access, audit: 'diary-cards.list' },
    },
    async (request) => listDiaryCards(request.db, ctx(request), request.params.id, request.query),
  );

  app.get(
    '/:id/diary-cards/:weekStart',
    {
      schema: {
        tags,
        summary: "Read one week's card with its days; weekStart must be the program's week start",
        params: weekParams,
        response: { 200: diaryCardResponse, ...problemResponses },
      },
      config: { access, audit: 'diary-cards.read' },
    },
    async (request, reply) => {
      const card = await readDiaryCard(request.db, ctx(request), request.params.id, request.params.weekStart);
      return reply.header('etag', etagOf(card.version)).send(card);
    },
  );

  app.post(
    '/:id/diary-cards/days/:date',
    {
      schema: {
        tags,
        summary: "Submit one day's entry; merged by maximum with what the day holds (201 when it starts the week's card)",
        params: dayParams,
        body: diaryDayBody,
        response: { 200: submitDayResponse, 201: submitDayResponse, ...problemResponses },
      },
      config: { access, audit: 'diary-cards.submit-day' },
    },
    async (request, reply) => {
      const { view, created } = await submitDay(request.db, ctx(request), request.params.id, request.params.date, request.body);
      return reply
        .code(created ? 201 : 200)
        .header('etag', etagOf(view.version))
        .send(view);
    },
  );

  app.put(
    '/:id/diary-cards/:weekStart',
    {
      schema: {
        tags,
        summary: 'Replace the whole card (the correction path: no merge; days left out are removed); If-Match required',
        params: weekParams,
        headers: ifMatchHeaders,
        body: replaceCardBody,
        response: { 200: diaryCardResponse, ...problemResponses },
      },
      config: { access, audit: 'diary-cards.replace' },
    },
    async (request, reply) => {
      const { id, weekStart } = request.params;
      const card = await replaceCard(request.db, ctx(request), id, weekStart, request.headers['if-match'], request.body);
      return reply.header('etag', etagOf(card.version)).send(card);
    },
  );

  app.get(
    '/:id/diary-cards/:weekStart/versions',
    {
      schema: {
        tags,
        summary: 'Every version of a card, oldest first: who changed what, when, and the days as they then were',
        params: weekParams,
        response: { 200: diaryCardVersionList, ...problemResponses },
      },
      config: { access, audit: 'diary-cards.versions' },
    },
    async (request) => listCardVersions(request.db, ctx(request), request.params.id, request.params.weekStart),
  );
};
