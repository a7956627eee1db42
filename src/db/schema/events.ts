import { sql } from 'drizzle-orm';
import { date, foreignKey, index, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { staff } from './staff.js';

export const clinicalEventKinds = [
  'nssi',
  'suicide_attempt',
  'suicidal_crisis_behaviour',
  'ed_visit',
  'psychiatric_admission',
  'crisis_service_use',
] as const;
/** The events that are life-threatening behaviour: they need a chain analysis and top the agenda. */
export const lifeThreateningEventKinds = ['nssi', 'suicide_attempt', 'suicidal_crisis_behaviour'] as const;
export const eventSeverities = ['low', 'moderate', 'high', 'critical'] as const;
export const eventSources = ['diary_card', 'client_report', 'records'] as const;

/**
 * Clinical events: self-harm, suicide attempts, crises, emergency visits and admissions. They open
 * the 24-hour coaching window and feed the session agenda and the team's prep. An event created from
 * a diary-card entry names that card, day and target, so a resubmitted day never duplicates it.
 */
export const clinicalEvents = pgTable(
  'clinical_events',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    kind: text('kind').$type<(typeof clinicalEventKinds)[number]>().notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
    /** For psychiatric admissions: the discharge, from which days in hospital follow. */
    dischargedAt: timestamptz('discharged_at'),
    severity: text('severity').$type<(typeof eventSeverities)[number]>().notNull(),
    source: text('source').$type<(typeof eventSources)[number]>().notNull(),
    description: text('description'),
    diaryCardId: uuid('diary_card_id'),
    diaryDate: date('diary_date', { mode: 'string' }),
    targetId: uuid('target_id'),
    enteredInErrorAt: timestamptz('entered_in_error_at'),
    enteredInErrorReason: text('entered_in_error_reason'),
    recordedBy: uuid('recorded_by'),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('clinical_events_client_time_idx').on(t.clinicId, t.clientId, t.occurredAt),
    uniqueIndex('clinical_events_diary_key')
      .on(t.clinicId, t.diaryCardId, t.diaryDate, t.targetId, t.kind)
      .where(sql`${t.diaryCardId} is not null`),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.recordedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
