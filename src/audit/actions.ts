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
