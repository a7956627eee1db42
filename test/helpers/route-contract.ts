import type { RouteOptions } from 'fastify';
import type { App } from '../../src/app.js';
import type { StaffRole } from '../../src/db/schema/index.js';
import { staffRoles } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { type AccessRuleName, accessRules } from '../../src/policy/rules.js';
import { query } from './app.js';
import { agendaSamples } from './contract/agenda.js';
import { attendanceSamples } from './contract/attendance.js';
import { chainAnalysisSamples } from './contract/chain-analyses.js';
import { clientSamples } from './contract/clients.js';
import { coachingContactSamples } from './contract/coaching-contacts.js';
import { coachingLimitsSamples } from './contract/coaching-limits.js';
import { complianceSamples } from './contract/compliance.js';
import { diarySamples } from './contract/diary-cards.js';
import { eventSamples } from './contract/events.js';
import { goalSamples } from './contract/goals.js';
import { groupRosterSamples } from './contract/group-roster.js';
import { programSamples } from './contract/programs.js';
import { sessionSamples } from './contract/sessions.js';
import { skillSamples } from './contract/skills.js';
import { skillsGroupSamples } from './contract/skills-groups.js';
import { targetSamples } from './contract/targets.js';
import { teamSamples } from './contract/teams.js';
import { treatmentSamples } from './contract/treatment.js';
import { createClientRecord, createProgram, createStaffMember } from './factories.js';
import { createGroupSession, createSkillsGroup } from './groups.js';
import { createMeetingRow, createTeam } from './teams.js';

/**
 * A valid request for every route that takes a body, headers or a required query, keyed by "METHOD /url". The
 * contract suite fails for a new route until it has one here, so new modules get the same
 * coverage by adding one line.
 */
export type RouteSamples = Record<string, { body?: unknown; headers?: Record<string, string>; query?: Record<string, string> }>;

const spineSamples: RouteSamples = {
  'POST /v1/staff': {
    body: { email: 'contract@example.test', displayName: 'Contract Probe', roles: ['therapist'], password: 'a long enough password' },
  },
  'PATCH /v1/staff/:id': { body: { displayName: 'Renamed Probe' }, headers: { 'if-match': '"1"' } },
  'PUT /v1/staff/:id/roles': { body: { roles: ['therapist'] }, headers: { 'if-match': '"1"' } },
  'POST /v1/staff/:id/deactivate': {},
  'POST /v1/staff/:id/reactivate': {},
  'POST /v1/break-glass': { body: { clientId: uuidv7(), reason: 'Client in crisis, primary therapist unreachable', minutes: 30 } },
  'POST /v1/break-glass/:id/review': { body: { outcome: 'justified', note: 'Reviewed against the crisis log' } },
};

export const routeSamples: RouteSamples = {
  ...spineSamples,
  ...programSamples,
  ...clientSamples,
  ...treatmentSamples,
  ...goalSamples,
  ...targetSamples,
  ...skillSamples,
  ...eventSamples,
  ...sessionSamples,
  ...diarySamples,
  ...chainAnalysisSamples,
  ...agendaSamples,
  ...attendanceSamples,
  ...groupRosterSamples,
  ...skillsGroupSamples,
  ...coachingLimitsSamples,
  ...coachingContactSamples,
  ...teamSamples,
  ...complianceSamples,
};

/**
 * Creates, in the given clinic, the resource a route's first path parameter names (keyed by the
 * path before it) and returns its id, for the 404 check.
 */
export const resourceFactories: Record<string, (clinicId: string) => Promise<string>> = {
  '/v1/staff': async (clinicId) => (await createStaffMember(clinicId, ['therapist'])).id,
  '/v1/programs': async (clinicId) => (await createProgram(clinicId)).program.id,
  '/v1/clients': async (clinicId) => (await createClientRecord(clinicId)).id,
  '/v1/skills': async (clinicId) => {
    const id = uuidv7();
    await query(
      `INSERT INTO skills (clinic_id, id, module, name, sort_order, standard) VALUES ('${clinicId}', '${id}', 'mindfulness', 'Contract probe ${id}', 999, false)`,
    );
    return id;
  },
  '/v1/sessions': async (clinicId) => {
    const therapist = await createStaffMember(clinicId, ['therapist']);
    const client = await createClientRecord(clinicId, { primaryTherapistId: therapist.id });
    const id = uuidv7();
    await query(
      `INSERT INTO individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type, attendance, created_by)
       VALUES ('${clinicId}', '${id}', '${client.id}', '${therapist.id}', now(), 50, 'regular', 'scheduled', '${therapist.id}')`,
    );
    return id;
  },
  '/v1/coaching-contacts': async (clinicId) => {
    const therapist = await createStaffMember(clinicId, ['therapist']);
    const client = await createClientRecord(clinicId, { primaryTherapistId: therapist.id });
    const id = uuidv7();
    await query(
      `INSERT INTO coaching_contacts (clinic_id, id, client_id, staff_id, initiated_by, channel, requested_at, purpose,
         after_hours, over_minute_limit, outside_limits, rule_status, created_by)
       VALUES ('${clinicId}', '${id}', '${client.id}', '${therapist.id}', 'client', 'phone', now(), 'skills_generalization',
         false, false, false, 'not_applicable', '${therapist.id}')`,
    );
    return id;
  },
  '/v1/skills-groups': async (clinicId) => (await createSkillsGroup(clinicId)).id,
  '/v1/group-sessions': async (clinicId) => (await createGroupSession(await createSkillsGroup(clinicId), '2030-01-07')).id,
  '/v1/teams': async (clinicId) => (await createTeam(clinicId, { leadId: (await createStaffMember(clinicId, ['team_lead'])).id })).id,
  '/v1/meetings': async (clinicId) => {
    const team = await createTeam(clinicId, { leadId: (await createStaffMember(clinicId, ['team_lead'])).id });
    return (await createMeetingRow(team, '2030-01-08')).id;
  },
  '/v1/break-glass': async (clinicId) => {
    const member = await createStaffMember(clinicId, ['therapist']);
    const id = uuidv7();
    await query(
      `INSERT INTO break_glass_grants (clinic_id, id, staff_id, client_id, reason, minutes, starts_at, expires_at)
       VALUES ('${clinicId}', '${id}', '${member.id}', '${uuidv7()}', 'Synthetic grant for the contract suite', 10, now(), now() + interval '10 minutes')`,
    );
    return id;
  },
};

export interface ContractRoute {
  method: string;
  url: string;
  access: AccessRuleName;
  audit: string | false;
  resourceType: string | null;
  hasBody: boolean;
  /** The query schema refuses an empty query string: the route has required parameters. */
  needsQuery: boolean;
}

const requiresQuery = (schema: unknown) =>
  Boolean(schema) && !(schema as { safeParse: (value: unknown) => { success: boolean } }).safeParse({}).success;

export function describeRoutes(app: App): ContractRoute[] {
  return app.routeRegistry.map((route: RouteOptions) => ({
    method: String(route.method),
    url: route.url,
    access: route.config?.access as AccessRuleName,
    audit: route.config?.audit ?? false,
    resourceType: null,
    hasBody: Boolean(route.schema?.body),
    needsQuery: requiresQuery(route.schema?.querystring),
  }));
}

/** A role the route's rule admits, and one it refuses (null when every role is admitted). */
export function rolesFor(access: AccessRuleName): { allowed: StaffRole; refused: StaffRole | null } {
  const roles = accessRules[access].roles;
  if (roles === 'any') return { allowed: 'therapist', refused: null };
  const allowed = (roles as readonly StaffRole[])[0] as StaffRole;
  const refused = staffRoles.find((role) => !(roles as readonly StaffRole[]).includes(role)) ?? null;
  return { allowed, refused };
}

export const fillPath = (url: string, id: string) => url.replace(/:[A-Za-z]+/g, id);
