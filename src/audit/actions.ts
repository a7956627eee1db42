/**
 * The closed set of audit actions a route may declare. `action` follows FHIR/ATNA
 * (C create, R read, U update, D delete, E execute); `subtype` says what exactly happened.
 */
export const auditActions = {
  'auth.login': { action: 'E', subtype: 'login', resourceType: 'staff', dataCategory: 'credentials', purpose: null },
  'auth.me': { action: 'R', subtype: 'read', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.create': { action: 'C', subtype: 'create', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.list': { action: 'R', subtype: 'search', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.read': { action: 'R', subtype: 'read', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.update': { action: 'U', subtype: 'update', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.roles': { action: 'U', subtype: 'privilege-change', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.deactivate': { action: 'U', subtype: 'privilege-change', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'staff.reactivate': { action: 'U', subtype: 'privilege-change', resourceType: 'staff', dataCategory: 'staff', purpose: 'HOPERAT' },
  'break-glass.create': {
    action: 'C',
    subtype: 'break-glass',
    resourceType: 'break-glass-grant',
    dataCategory: 'access-grant',
    purpose: 'ETREAT',
  },
  'break-glass.list': {
    action: 'R',
    subtype: 'search',
    resourceType: 'break-glass-grant',
    dataCategory: 'access-grant',
    purpose: 'HOPERAT',
  },
  'break-glass.review': {
    action: 'C',
    subtype: 'review',
    resourceType: 'break-glass-grant',
    dataCategory: 'access-grant',
    purpose: 'HOPERAT',
  },
  'audit.verify': { action: 'E', subtype: 'verify', resourceType: 'audit-trail', dataCategory: 'audit', purpose: 'HOPERAT' },
  'programs.list': { action: 'R', subtype: 'search', resourceType: 'program', dataCategory: 'program-policy', purpose: 'HOPERAT' },
  'programs.create': { action: 'C', subtype: 'create', resourceType: 'program', dataCategory: 'program-policy', purpose: 'HOPERAT' },
  'programs.read': { action: 'R', subtype: 'read', resourceType: 'program', dataCategory: 'program-policy', purpose: 'HOPERAT' },
  'programs.policy-change': {
    action: 'U',
    subtype: 'policy-change',
    resourceType: 'program',
    dataCategory: 'program-policy',
    purpose: 'HOPERAT',
  },
  'programs.policy-versions': {
    action: 'R',
    subtype: 'search',
    resourceType: 'program',
    dataCategory: 'program-policy',
    purpose: 'HOPERAT',
  },
  'clients.create': { action: 'C', subtype: 'create', resourceType: 'client', dataCategory: 'client-registration', purpose: 'HOPERAT' },
  'clients.list': { action: 'R', subtype: 'search', resourceType: 'client', dataCategory: 'client-registration', purpose: 'TREAT' },
  'clients.read': { action: 'R', subtype: 'read', resourceType: 'client', dataCategory: 'client-registration', purpose: 'TREAT' },
  'clients.update': { action: 'U', subtype: 'update', resourceType: 'client', dataCategory: 'client-registration', purpose: 'HOPERAT' },
  'clients.entered-in-error': {
    action: 'D',
    subtype: 'entered-in-error',
    resourceType: 'client',
    dataCategory: 'client-registration',
    purpose: 'HOPERAT',
  },
  'episodes.list': {
    action: 'R',
    subtype: 'search',
    resourceType: 'treatment-episode',
    dataCategory: 'treatment-episode',
    purpose: 'TREAT',
  },
  'episodes.open': {
    action: 'C',
    subtype: 'create',
    resourceType: 'treatment-episode',
    dataCategory: 'treatment-episode',
    purpose: 'TREAT',
  },
  'episodes.transition': {
    action: 'U',
    subtype: 'status-change',
    resourceType: 'treatment-episode',
    dataCategory: 'treatment-episode',
    purpose: 'TREAT',
  },
  'stages.list': { action: 'R', subtype: 'search', resourceType: 'stage-assignment', dataCategory: 'stage', purpose: 'TREAT' },
  'stages.assign': { action: 'C', subtype: 'create', resourceType: 'stage-assignment', dataCategory: 'stage', purpose: 'TREAT' },
  'commitments.list': { action: 'R', subtype: 'search', resourceType: 'commitment', dataCategory: 'commitment', purpose: 'TREAT' },
  'commitments.create': { action: 'C', subtype: 'create', resourceType: 'commitment', dataCategory: 'commitment', purpose: 'TREAT' },
  'goals.list': { action: 'R', subtype: 'search', resourceType: 'goal', dataCategory: 'goal', purpose: 'TREAT' },
  'goals.create': { action: 'C', subtype: 'create', resourceType: 'goal', dataCategory: 'goal', purpose: 'TREAT' },
  'goals.revise': { action: 'U', subtype: 'update', resourceType: 'goal', dataCategory: 'goal', purpose: 'TREAT' },
  'targets.list': { action: 'R', subtype: 'search', resourceType: 'target', dataCategory: 'target', purpose: 'TREAT' },
  'targets.create': { action: 'C', subtype: 'create', resourceType: 'target', dataCategory: 'target', purpose: 'TREAT' },
  'targets.change': { action: 'U', subtype: 'new-version', resourceType: 'target', dataCategory: 'target', purpose: 'TREAT' },
  'targets.retire': { action: 'U', subtype: 'retire', resourceType: 'target', dataCategory: 'target', purpose: 'TREAT' },
  'skills.list': { action: 'R', subtype: 'search', resourceType: 'skill', dataCategory: 'skills-catalog', purpose: 'HOPERAT' },
  'skills.create': { action: 'C', subtype: 'create', resourceType: 'skill', dataCategory: 'skills-catalog', purpose: 'HOPERAT' },
  'skills.update': { action: 'U', subtype: 'update', resourceType: 'skill', dataCategory: 'skills-catalog', purpose: 'HOPERAT' },
  'events.list': { action: 'R', subtype: 'search', resourceType: 'clinical-event', dataCategory: 'clinical-event', purpose: 'TREAT' },
  'events.create': { action: 'C', subtype: 'create', resourceType: 'clinical-event', dataCategory: 'clinical-event', purpose: 'TREAT' },
  'events.read': { action: 'R', subtype: 'read', resourceType: 'clinical-event', dataCategory: 'clinical-event', purpose: 'TREAT' },
  'events.update': { action: 'U', subtype: 'update', resourceType: 'clinical-event', dataCategory: 'clinical-event', purpose: 'TREAT' },
  'events.entered-in-error': {
    action: 'D',
    subtype: 'entered-in-error',
    resourceType: 'clinical-event',
    dataCategory: 'clinical-event',
    purpose: 'TREAT',
  },
  'sessions.list': { action: 'R', subtype: 'search', resourceType: 'individual-session', dataCategory: 'session', purpose: 'TREAT' },
  'sessions.create': { action: 'C', subtype: 'create', resourceType: 'individual-session', dataCategory: 'session', purpose: 'TREAT' },
  'sessions.read': { action: 'R', subtype: 'read', resourceType: 'individual-session', dataCategory: 'session-note', purpose: 'TREAT' },
  'sessions.update': { action: 'U', subtype: 'update', resourceType: 'individual-session', dataCategory: 'session-note', purpose: 'TREAT' },
  'psychotherapy-notes.read': {
    action: 'R',
    subtype: 'read',
    resourceType: 'psychotherapy-note',
    dataCategory: 'psychotherapy-note',
    purpose: 'TREAT',
  },
  'psychotherapy-notes.write': {
    action: 'U',
    subtype: 'update',
    resourceType: 'psychotherapy-note',
    dataCategory: 'psychotherapy-note',
    purpose: 'TREAT',
  },
  'diary-cards.list': { action: 'R', subtype: 'search', resourceType: 'diary-card', dataCategory: 'diary-card', purpose: 'TREAT' },
  'diary-cards.read': { action: 'R', subtype: 'read', resourceType: 'diary-card', dataCategory: 'diary-card', purpose: 'TREAT' },
  'diary-cards.submit-day': {
    action: 'C',
    subtype: 'diary-entry',
    resourceType: 'diary-card',
    dataCategory: 'diary-card',
    purpose: 'TREAT',
  },
  'diary-cards.replace': { action: 'U', subtype: 'update', resourceType: 'diary-card', dataCategory: 'diary-card', purpose: 'TREAT' },
  'diary-cards.versions': { action: 'R', subtype: 'history', resourceType: 'diary-card', dataCategory: 'diary-card', purpose: 'TREAT' },
  'chain-analyses.list': {
    action: 'R',
    subtype: 'search',
    resourceType: 'chain-analysis',
    dataCategory: 'chain-analysis',
    purpose: 'TREAT',
  },
  'chain-analyses.create': {
    action: 'C',
    subtype: 'create',
    resourceType: 'chain-analysis',
    dataCategory: 'chain-analysis',
    purpose: 'TREAT',
  },
  'chain-analyses.read': { action: 'R', subtype: 'read', resourceType: 'chain-analysis', dataCategory: 'chain-analysis', purpose: 'TREAT' },
  'chain-analyses.update': {
    action: 'U',
    subtype: 'update',
    resourceType: 'chain-analysis',
    dataCategory: 'chain-analysis',
    purpose: 'TREAT',
  },
  'agenda.read': { action: 'R', subtype: 'read', resourceType: 'session-agenda', dataCategory: 'session-agenda', purpose: 'TREAT' },
  'agenda.update': { action: 'U', subtype: 'update', resourceType: 'session-agenda', dataCategory: 'session-agenda', purpose: 'TREAT' },
  'request.unrouted': { action: 'R', subtype: 'unrouted', resourceType: null, dataCategory: null, purpose: null },
} as const satisfies Record<string, AuditActionSpec>;

export interface AuditActionSpec {
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  subtype: string;
  resourceType: string | null;
  dataCategory: string | null;
  /** HL7 v3 purpose of use: TREAT, ETREAT (emergency), HOPERAT (operations). */
  purpose: 'TREAT' | 'ETREAT' | 'HOPERAT' | null;
}

export type AuditAction = keyof typeof auditActions;

export const isAuditAction = (value: unknown): value is AuditAction => typeof value === 'string' && Object.hasOwn(auditActions, value);
