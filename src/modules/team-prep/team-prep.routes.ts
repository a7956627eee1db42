import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { renderPrepMarkdown } from './team-prep.markdown.js';
import { clientIdParams, meetingIdParams, type PrepFormat, prepQuery, teamPrepPacket, teamSummaryResponse } from './team-prep.schema.js';
import { readMeetingPrep, readTeamSummary } from './team-prep.service.js';

const tags = ['teams'];
const MARKDOWN = 'text/markdown';

/** The quality an Accept header gives a media type (exact matches only); 0 when it is not named. */
function quality(accept: string, mediaType: string): { q: number; at: number } {
  const ranges = accept.split(',').map((range) => range.trim().toLowerCase());
  const at = ranges.findIndex((range) => range.split(';')[0]?.trim() === mediaType);
  if (at < 0) return { q: 0, at };
  const q = /;\s*q=([0-9.]+)/.exec(ranges[at] as string)?.[1];
  return { q: q === undefined ? 1 : Number(q), at };
}

/** Markdown when the query says so, or when Accept prefers text/markdown to application/json; JSON otherwise. */
function prepFormat(format: PrepFormat | undefined, accept: string | undefined): PrepFormat {
  if (format) return format;
  if (!accept) return 'json';
  const markdown = quality(accept, MARKDOWN);
  const json = quality(accept, 'application/json');
  const prefersMarkdown = markdown.q > json.q || (markdown.q > 0 && markdown.q === json.q && markdown.at < json.at);
  return prefersMarkdown ? 'markdown' : 'json';
}

/** The consultation team's prep packet for a meeting, under /v1, and the same summary of one client. */
export const teamPrepRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/meetings/:id/prep',
    {
      schema: {
        tags,
        summary:
          "The meeting's prep packet: per client on the agenda, their items and four weeks of stage, targets, diary trends, events, attendance, coaching and the last chain analysis (JSON, or Markdown with format=markdown or Accept: text/markdown)",
        params: meetingIdParams,
        querystring: prepQuery,
        response: {
          200: {
            description: 'The prep packet',
            content: { 'application/json': { schema: teamPrepPacket }, [MARKDOWN]: { schema: z.string() } },
          },
          ...problemResponses,
        },
      },
      config: { access: 'meetings.prep', audit: 'meetings.prep' },
    },
    async (request, reply) => {
      const format = prepFormat(request.query.format, request.headers.accept);
      const packet = await readMeetingPrep(request.db, ctx(request), request.params.id, format);
      reply.header('vary', 'accept');
      if (format === 'json') return reply.type('application/json; charset=utf-8').send(packet);
      return reply.type(`${MARKDOWN}; charset=utf-8`).send(renderPrepMarkdown(packet));
    },
  );

  app.get(
    '/clients/:id/team-summary',
    {
      schema: {
        tags,
        summary: 'The team view of a client over the four weeks ending today: what the packet shows of them, outside a meeting',
        params: clientIdParams,
        response: { 200: teamSummaryResponse, ...problemResponses },
      },
      config: { access: 'clients.team-view', audit: 'team-summary.read' },
    },
    async (request) => readTeamSummary(request.db, ctx(request), request.params.id),
  );
};
