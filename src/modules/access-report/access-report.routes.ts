import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authed as ctx } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';
import { accessReportQuery, accessReportResponse, clientIdParams } from './access-report.schema.js';
import { readAccessReport } from './access-report.service.js';

const tags = ['audit'];

/** Who accessed a client's record, under /v1. */
export const accessReportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/clients/:id/access-report',
    {
      schema: {
        tags,
        summary:
          "Who accessed a client's record in a range, by person and clinic-local day (audit metadata only): compliance, or the primary therapist",
        params: clientIdParams,
        querystring: accessReportQuery,
        response: { 200: accessReportResponse, ...problemResponses },
      },
      config: { access: 'clients.access-report', audit: 'clients.access-report' },
    },
    async (request) => readAccessReport(request.db, ctx(request), request.params.id, request.query),
  );
};
