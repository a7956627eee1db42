import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import { type Database, databaseOptions, openDatabase } from './db/client.js';
import { uuidv7 } from './lib/ids.js';
import { loggerOptions } from './lib/logger.js';
import { accessReportRoutes } from './modules/access-report/access-report.routes.js';
import { agendaRoutes } from './modules/agenda/agenda.routes.js';
import { attendanceRoutes } from './modules/attendance/attendance.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { auditEventsRoutes } from './modules/audit-events/audit-events.routes.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { breakGlassRoutes } from './modules/break-glass/break-glass.routes.js';
import { chainAnalysesRoutes } from './modules/chain-analyses/chain-analyses.routes.js';
import { clientsRoutes } from './modules/clients/clients.routes.js';
import { coachingContactsRoutes } from './modules/coaching-contacts/coaching-contacts.routes.js';
import { coachingLimitsRoutes } from './modules/coaching-limits/coaching-limits.routes.js';
import { coachingSummariesRoutes } from './modules/coaching-summaries/coaching-summaries.routes.js';
import { diaryCardsRoutes } from './modules/diary-cards/diary-cards.routes.js';
import { enrollmentsRoutes } from './modules/enrollments/enrollments.routes.js';
import { eventsRoutes } from './modules/events/events.routes.js';
import { goalsRoutes } from './modules/goals/goals.routes.js';
import { groupAttendanceRoutes } from './modules/group-attendance/group-attendance.routes.js';
import { groupSessionsRoutes } from './modules/group-sessions/group-sessions.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { meetingsRoutes } from './modules/meetings/meetings.routes.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { programsRoutes } from './modules/programs/programs.routes.js';
import { sessionsRoutes } from './modules/sessions/sessions.routes.js';
import { skillsRoutes } from './modules/skills/skills.routes.js';
import { skillsGroupsRoutes } from './modules/skills-groups/skills-groups.routes.js';
import { skillsUseRoutes } from './modules/skills-use/skills-use.routes.js';
import { staffRoutes } from './modules/staff/staff.routes.js';
import { targetsRoutes } from './modules/targets/targets.routes.js';
import { teamAgendaRoutes } from './modules/team-agenda/team-agenda.routes.js';
import { teamPrefillRoutes } from './modules/team-prefill/team-prefill.routes.js';
import { teamPrepRoutes } from './modules/team-prep/team-prep.routes.js';
import { teamMembersRoutes } from './modules/teams/team-members.routes.js';
import { teamsRoutes } from './modules/teams/teams.routes.js';
import { treatmentRoutes } from './modules/treatment/treatment.routes.js';
import accessPlugin from './plugins/access.js';
import auditPlugin, { answerFrameworkError } from './plugins/audit.js';
import authPlugin from './plugins/auth.js';
import docsPlugin from './plugins/docs.js';
import errorsPlugin from './plugins/errors.js';
import idempotencyPlugin from './plugins/idempotency.js';
import metricsPlugin from './plugins/metrics.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import requestContextPlugin, { REQUEST_ID_PATTERN } from './plugins/request-context.js';
import requestScopePlugin, { requestCommitPlugin } from './plugins/request-scope.js';
import securityPlugin from './plugins/security.js';
import storedTextPlugin from './plugins/stored-text.js';

export interface AppDeps {
  /** An open database; when omitted the app opens one from the config and closes it on close. */
  database?: Database;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(config: Config, deps: AppDeps = {}) {
  const database = deps.database ?? (await openDatabase(databaseOptions(config)));
  const app: FastifyInstance = Fastify({
    logger: deps.logger ?? loggerOptions(config),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS,
    exposeHeadRoutes: false,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : uuidv7();
    },
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: (error, request, reply) => void answerFrameworkError(app, config.SERVICE_VERSION, error, request, reply),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // A JSON API: a body in any other media type is a 415, not a string handed to validation.
  app.removeContentTypeParser('text/plain');

  // Each request's handle (request.db) runs it in its row-level-security scope (src/db/scope.ts);
  // the audit writer and sealer work across clinics on the pool itself.
  const root = database.db;
  const rowSecurity = database.kind === 'postgres' && config.DB_ROW_SECURITY === 'on';
  await app.register(requestContextPlugin, { serviceVersion: config.SERVICE_VERSION });
  await app.register(errorsPlugin);
  await app.register(storedTextPlugin);
  await app.register(requestScopePlugin, { root, enabled: rowSecurity });
  await app.register(authPlugin, { config });
  await app.register(accessPlugin);
  await app.register(securityPlugin, { config });
  await app.register(rateLimitPlugin, { config });
  // onSend order: the idempotency record joins the request's transaction, the commit ends it, and
  // only then does the audit plugin record whatever did not record itself.
  await app.register(idempotencyPlugin, { root });
  await app.register(requestCommitPlugin);
  await app.register(auditPlugin, { config, db: root });
  await app.register(metricsPlugin, { database });
  await app.register(docsPlugin, { version: config.SERVICE_VERSION });

  await app.register(healthRoutes, { database });
  await app.register(metricsRoutes, { config });
  await app.register(authRoutes, { prefix: '/v1', config });
  await app.register(staffRoutes, { prefix: '/v1/staff' });
  await app.register(coachingLimitsRoutes, { prefix: '/v1/staff' });
  await app.register(breakGlassRoutes, { prefix: '/v1/break-glass' });
  await app.register(auditRoutes, { prefix: '/v1/audit', config });
  await app.register(auditEventsRoutes, { prefix: '/v1/audit' });
  await app.register(programsRoutes, { prefix: '/v1/programs' });
  await app.register(clientsRoutes, { prefix: '/v1/clients' });
  await app.register(treatmentRoutes, { prefix: '/v1/clients' });
  await app.register(goalsRoutes, { prefix: '/v1/clients' });
  await app.register(targetsRoutes, { prefix: '/v1/clients' });
  await app.register(skillsRoutes, { prefix: '/v1/skills' });
  await app.register(eventsRoutes, { prefix: '/v1/clients' });
  await app.register(diaryCardsRoutes, { prefix: '/v1/clients' });
  await app.register(chainAnalysesRoutes, { prefix: '/v1/clients' });
  await app.register(sessionsRoutes, { prefix: '/v1' });
  await app.register(agendaRoutes, { prefix: '/v1' });
  await app.register(skillsGroupsRoutes, { prefix: '/v1' });
  await app.register(groupSessionsRoutes, { prefix: '/v1' });
  await app.register(enrollmentsRoutes, { prefix: '/v1' });
  await app.register(groupAttendanceRoutes, { prefix: '/v1' });
  await app.register(skillsUseRoutes, { prefix: '/v1' });
  await app.register(attendanceRoutes, { prefix: '/v1' });
  await app.register(coachingSummariesRoutes, { prefix: '/v1' });
  await app.register(coachingContactsRoutes, { prefix: '/v1' });
  await app.register(accessReportRoutes, { prefix: '/v1' });
  await app.register(teamsRoutes, { prefix: '/v1/teams' });
  await app.register(teamMembersRoutes, { prefix: '/v1/teams' });
  await app.register(meetingsRoutes, { prefix: '/v1' });
  await app.register(teamAgendaRoutes, { prefix: '/v1' });
  await app.register(teamPrefillRoutes, { prefix: '/v1' });
  await app.register(teamPrepRoutes, { prefix: '/v1' });

  if (!deps.database) app.addHook('onClose', () => database.close());
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
