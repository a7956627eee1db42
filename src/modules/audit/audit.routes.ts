import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { verifyChain } from '../../audit/verify.js';
import type { Config } from '../../config.js';
import { authed } from '../../lib/context.js';
import { problemResponses } from '../../plugins/errors.js';

const verifyResponse = z
  .object({
    clinicId: z.uuid(),
    ok: z.boolean(),
    rowsChecked: z.number().int(),
    sealedThrough: z.number().int(),
    firstBreak: z
      .object({
        seq: z.number().int().nullable(),
        eventId: z.uuid().nullable(),
        reason: z.enum(['sequence-gap', 'previous-link-mismatch', 'event-missing', 'hmac-mismatch', 'unsealed-event-in-sealed-range']),
      })
      .nullable(),
  })
  .meta({ id: 'AuditVerification' });

export const auditRoutes: FastifyPluginAsyncZod<{ config: Config }> = async (app, { config }) => {
  app.get(
    '/verify',
    {
      schema: {
        tags: ['audit'],
        summary: "Seal pending records, then verify the clinic's audit chain end to end",
        response: { 200: verifyResponse, ...problemResponses },
      },
      config: { access: 'audit.read', audit: 'audit.verify' },
    },
    async (request) => {
      const ctx = authed(request);
      const seal = () => app.auditSealer.sealPending();
      await (request.scope ? request.scope.outside(seal) : seal());
      const report = await verifyChain(request.db, config.AUDIT_HMAC_KEY, ctx.actor.clinicId);
      ctx.audit.resultCount = report.rowsChecked;
      ctx.audit.details = { ok: report.ok, firstBreak: report.firstBreak };
      return report;
    },
  );
};
