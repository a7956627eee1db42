import type { StaffRole } from '../db/schema/index.js';

/**
 * Every route names one of these rules in its config; a name not listed here refuses start-up.
 * A rule lists the roles that may use the route at all. Rules about one client add a relationship
 * check in the service (see clientAccess), where the client is known.
 */
export interface AccessRule {
  description: string;
  /** Roles that pass the role check; 'any' admits every signed-in staff member. */
  roles: readonly StaffRole[] | 'any';
}

const clinicians = ['therapist', 'skills_trainer', 'team_lead'] as const satisfies readonly StaffRole[];

export const accessRules = {
  public: { description: 'no sign-in needed', roles: 'any' },
  self: { description: 'any signed-in staff member, about themselves', roles: 'any' },
  'staff.manage': { description: 'administrators manage staff accounts and roles', roles: ['admin'] },
  'break-glass.request': { description: 'clinicians request emergency access to a client', roles: clinicians },
  'break-glass.review': { description: 'compliance reviews emergency access', roles: ['compliance'] },
  'audit.read': { description: 'compliance reads and verifies the audit trail', roles: ['compliance'] },
  'programs.read': { description: 'anyone in the clinic reads programs and their policy', roles: 'any' },
  'programs.manage': { description: 'administrators create programs and change policy', roles: ['admin'] },
  'clients.register': {
    description: 'administrators and therapists register clients and keep registration current (therapists: their own clients)',
    roles: ['admin', 'therapist'],
  },
  'clients.read': {
    description: 'registration details: administrators for every client, clinicians for clients they are related to (own, team, group)',
    roles: ['admin', ...clinicians],
  },
  'skills.read': { description: 'anyone in the clinic reads the skills catalog', roles: 'any' },
  'skills.manage': {
    description: 'administrators and skills trainers add and edit the clinic’s skills',
    roles: ['admin', 'skills_trainer'],
  },
  'clients.clinical': {
    description: 'the clinical record: the primary therapist, or a clinician holding a break-glass grant',
    roles: clinicians,
  },
  'skills-groups.read': {
    description: 'administrators and clinicians read skills groups, their schedule, curriculum and sessions (no client data)',
    roles: ['admin', ...clinicians],
  },
  'skills-groups.create': { description: 'administrators create skills groups', roles: ['admin'] },
  'skills-groups.manage': {
    description: 'administrators, and skills trainers who lead the group, change it and its sessions',
    roles: ['admin', 'skills_trainer'],
  },
  'skills-groups.roster': {
    description: "administrators, and skills trainers who lead the group, see and manage the group's enrollments",
    roles: ['admin', 'skills_trainer'],
  },
  'group-attendance.write': {
    description: 'skills trainers who lead the group record attendance and homework review for the roster',
    roles: ['skills_trainer'],
  },
  'clients.group-view': {
    description: "the group view of a client (diary-card skills use): the client's skills trainers, primary therapist, team or break-glass",
    roles: clinicians,
  },
  'attendance.read': {
    description:
      'four-miss streaks: the primary therapist or a member of the client’s team (every modality), skills trainers of the client’s group (the group), or break-glass',
    roles: clinicians,
  },
  'attendance.override': {
    description: 'the primary therapist overrides a met four-miss streak, where program policy allows it',
    roles: ['therapist'],
  },
  'coaching-limits.read': {
    description: 'administrators and clinicians read coaching limits (who is available when, and who covers)',
    roles: ['admin', ...clinicians],
  },
  'coaching-limits.manage': {
    description: 'therapists state their own coaching limits; administrators keep anyone’s current',
    roles: ['admin', 'therapist'],
  },
  'coaching.contacts': {
    description:
      'coaching contacts and the 24-hour status: the primary therapist, the backup covering for them, a member of the client’s team, or a break-glass grant',
    roles: ['therapist', 'team_lead'],
  },
  'coaching.load': {
    description: 'a therapist’s coaching load across their clients: the therapist, or a team lead',
    roles: ['therapist', 'team_lead'],
  },
  'teams.read': {
    description: 'administrators and clinicians read consultation teams and their members (no client data)',
    roles: ['admin', ...clinicians],
  },
  'teams.create': { description: 'administrators create consultation teams', roles: ['admin'] },
  'teams.manage': {
    description: 'the team lead (or an administrator) changes the team and its membership',
    roles: ['admin', 'team_lead'],
  },
  'meetings.read': {
    description: "current members of a team read its meetings, agendas and the pre-fill's proposals",
    roles: clinicians,
  },
  'meetings.write': {
    description:
      'current members of a team create its meetings, keep their record and put items on the agenda; the lead sets the role rota',
    roles: clinicians,
  },
  'meetings.prep': {
    description: "current members of a team generate a meeting's prep packet for the clients on its agenda",
    roles: clinicians,
  },
  'clients.team-view': {
    description:
      "the team view of a client (its events and team summary): the primary therapist, a current member of the client's team, or break-glass",
    roles: clinicians,
  },
  'clients.access-report': {
    description: "who accessed a client's record, when and why: compliance, and the primary therapist for their own clients",
    roles: ['compliance', 'therapist'],
  },
} as const satisfies Record<string, AccessRule>;

export type AccessRuleName = keyof typeof accessRules;

export const isAccessRuleName = (value: unknown): value is AccessRuleName => typeof value === 'string' && Object.hasOwn(accessRules, value);
