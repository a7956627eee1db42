import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { auditEventPage, exportAuditEventsQuery, searchAuditEventsQuery } from './audit-events.schema.js';
import { exportAuditEvents, exportContentTypes, searchAuditEvents } from './audit-events.service.js';

const tags = ['audit'];

/** The manifest in a header: JSON with non-ASCII escaped, so it is a valid field value. */
const asHeaderValue = (value: unknown) =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Searching and exporting the clinic's audit trail, under /v1/audit (compliance only; both are audited). */
export const auditEventsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/events',
    {
      schema: {
        tags,
        summary:
          "Search the clinic's audit events in a range (from, to required; at most 400 days). Cursor pages never repeat a row; the first page pins a snapshot, so rows recorded after it are left out of every later page",
        querystring: searchAuditEventsQuery,
        response: { 200: auditEventPage, ...problemResponses },
      },
      config: { access: 'audit.read', audit: 'audit.search' },
    },
    async (request) => searchAuditEvents(request.db, ctx(request), request.query),
  );

  app.get(
    '/events/export',
    {
      schema: {
        tags,
        summary:
          'Export every audit event of a range, streamed in (occurredAt, id) order: NDJSON (one line per event, then a last line {"manifest":{…}} whose sha256 covers every byte before it), CSV or a FHIR R4 Bundle of AuditEvent (format= or Accept). Every format also sends the manifest in the HTTP trailer x-audit-manifest; the export is recorded when it starts and again, with its row count and manifest, when it ends',
        querystring: exportAuditEventsQuery,
        response: {
          200: {
            description: 'The export; the manifest ends NDJSON and comes in the x-audit-manifest trailer',
            content: {
              'application/x-ndjson': { schema: z.string() },
              'text/csv': { schema: z.string() },
              'application/fhir+json': { schema: z.string() },
            },
          },
          ...problemResponses,
        },
      },
      config: { access: 'audit.read', audit: 'audit.export' },
    },
    async (request, reply) => {
      const exported = exportAuditEvents(request.db, ctx(request), request.query, request.headers.accept);
      const extension = exported.format === 'fhir' ? 'fhir.json' : exported.format;
      reply
        .type(exportContentTypes[exported.format])
        .header('vary', 'accept')
        .header('content-disposition', `attachment; filename="audit-events.${extension}"`)
        .trailer('x-audit-manifest', async () => asHeaderValue(exported.manifest()));
      // A stream is sent as it is (no serializer); the declared string schemas only document the media types.
      return reply.send(exported.body as unknown as string);
    },
  );
};
