import { sql } from 'drizzle-orm';
import { boolean, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { clinicalEvents } from './events.js';
import { staff } from './staff.js';

export const coachingChannels = ['phone', 'text', 'secure_message', 'video'] as const;
export const coachingInitiators = ['client', 'staff'] as const;
/** In the order of priority DBT gives them: crisis first, then generalization, then repair. */
export const coachingPurposes = [
  'suicide_self_harm_crisis',
  'skills_generalization',
  'relationship_repair',
  'share_progress',
  'scheduling',
  'outside_limits',
] as const;
export const coachingEscalations = ['none', 'crisis_line', 'emergency_services', 'ed_referral'] as const;
export const twentyFourHourStatuses = ['not_applicable', 'blocked_redirected', 'overridden'] as const;
export const twentyFourHourRedirections = ['crisis_line', 'emergency_services', 'ed'] as const;

/** A window of availability: an ISO weekday (1 = Monday … 7 = Sunday) and local times HH:MM, in the clinic's time zone. */
export interface AvailabilityWindow {
  weekday: number;
  from: string;
  to: string;
}

/** Per target: the urge rated at the start and at the end of the contact (0–5). */
export interface ContactUrge {
  targetId: string;
  start: number | null;
  end: number | null;
}

/**
 * A therapist's stated coaching limits. Versioned like program policy: a change is a new version
 * from a moment on, so a contact is judged by the limits in force when it was requested.
 */
export const coachingLimits = pgTable(
  'coaching_limits',
  {
    clinicId: uuid('clinic_id').notNull(),
    staffId: uuid('staff_id').notNull(),
    version: integer('version').notNull(),
    effectiveFrom: timestamptz('effective_from').notNull(),
    windows: jsonb('windows').$type<AvailabilityWindow[]>().notNull(),
    channels: text('channels').array().$type<(typeof coachingChannels)[number][]>().notNull(),
    maxMinutes: integer('max_minutes').notNull(),
    /** Promised response time, in minutes. */
    responseMinutes: integer('response_minutes').notNull(),
    backupStaffId: uuid('backup_staff_id'),
    createdBy: uuid('created_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.staffId, t.version] }),
    index('coaching_limits_in_force_idx').on(t.clinicId, t.staffId, t.effectiveFrom),
    foreignKey({ columns: [t.clinicId, t.staffId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.backupStaffId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/**
 * A between-session coaching contact. The derived fields (response and duration minutes,
 * after-hours, over the minute limit, outside limits) are computed from the staff member's limits
 * in force at the request and stored with the version they came from. The 24-hour rule's outcome
 * is stored with what it required: the redirection given and the safety check, or an override's
 * reason, and the event that opened the window.
 */
export const coachingContacts = pgTable(
  'coaching_contacts',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    staffId: uuid('staff_id').notNull(),
    initiatedBy: text('initiated_by').$type<(typeof coachingInitiators)[number]>().notNull(),
    channel: text('channel').$type<(typeof coachingChannels)[number]>().notNull(),
    requestedAt: timestamptz('requested_at').notNull(),
    respondedAt: timestamptz('responded_at'),
    startedAt: timestamptz('started_at'),
    endedAt: timestamptz('ended_at'),
    purpose: text('purpose').$type<(typeof coachingPurposes)[number]>().notNull(),
    urges: jsonb('urges').$type<ContactUrge[]>().notNull().default(sql`'[]'::jsonb`),
    skillIds: uuid('skill_ids').array().notNull().default(sql`'{}'::uuid[]`),
    plan: text('plan'),
    outcome: text('outcome'),
    riskAssessed: boolean('risk_assessed').notNull().default(false),
    escalation: text('escalation').$type<(typeof coachingEscalations)[number]>().notNull().default('none'),
    // Derived and stored.
    responseMinutes: integer('response_minutes'),
    durationMinutes: integer('duration_minutes'),
    afterHours: boolean('after_hours').notNull(),
    overMinuteLimit: boolean('over_minute_limit').notNull(),
    outsideLimits: boolean('outside_limits').notNull(),
    /** The limits version the contact was judged by; null when the staff member had stated none. */
    limitsVersion: integer('limits_version'),
    // The 24-hour rule.
    ruleStatus: text('rule_status').$type<(typeof twentyFourHourStatuses)[number]>().notNull(),
    ruleEventId: uuid('rule_event_id'),
    redirection: text('redirection').$type<(typeof twentyFourHourRedirections)[number]>(),
    safetyCheckDone: boolean('safety_check_done'),
    overrideReason: text('override_reason'),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('coaching_contacts_client_time_idx').on(t.clinicId, t.clientId, t.requestedAt),
    index('coaching_contacts_staff_time_idx').on(t.clinicId, t.staffId, t.requestedAt),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.staffId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.ruleEventId], foreignColumns: [clinicalEvents.clinicId, clinicalEvents.id] }),
  ],
);
