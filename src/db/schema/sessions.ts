import { sql } from 'drizzle-orm';
import { boolean, foreignKey, index, integer, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { staff } from './staff.js';

export const sessionTypes = ['pretreatment', 'regular', 'extra_crisis', 'family'] as const;
export const attendanceKinds = [
  'scheduled',
  'attended',
  'late',
  'no_show',
  'cancelled_by_client',
  'cancelled_by_clinic',
  'rescheduled',
] as const;
export const riskLevels = ['low', 'moderate', 'high', 'imminent'] as const;

/** An individual therapy session: schedule, attendance, what was reviewed and taught, the session note. */
export const individualSessions = pgTable(
  'individual_sessions',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    therapistId: uuid('therapist_id').notNull(),
    scheduledStart: timestamptz('scheduled_start').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    type: text('type').$type<(typeof sessionTypes)[number]>().notNull(),
    attendance: text('attendance').$type<(typeof attendanceKinds)[number]>().notNull(),
    lateMinutes: integer('late_minutes'),
    noticeHours: integer('notice_hours'),
    /** The diary card reviewed in the session (a foreign key arrives with diary cards), or missing. */
    diaryCardId: uuid('diary_card_id'),
    diaryCardMissing: boolean('diary_card_missing').notNull().default(false),
    riskAssessmentDone: boolean('risk_assessment_done').notNull().default(false),
    riskLevel: text('risk_level').$type<(typeof riskLevels)[number]>(),
    skillIds: uuid('skill_ids').array().notNull().default(sql`'{}'::uuid[]`),
    homework: text('homework'),
    /** Clinical session note: part of the record, readable by the primary therapist. */
    note: text('note'),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('individual_sessions_client_time_idx').on(t.clinicId, t.clientId, t.scheduledStart),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.therapistId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/**
 * Psychotherapy notes (HIPAA 164.501): kept apart from the record, readable by their author only,
 * not even by the client's primary therapist when someone else wrote them.
 */
export const psychotherapyNotes = pgTable(
  'psychotherapy_notes',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    sessionId: uuid('session_id').notNull(),
    authorId: uuid('author_id').notNull(),
    body: text('body').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('psychotherapy_notes_one_per_author_key').on(t.clinicId, t.sessionId, t.authorId),
    foreignKey({ columns: [t.clinicId, t.sessionId], foreignColumns: [individualSessions.clinicId, individualSessions.id] }),
    foreignKey({ columns: [t.clinicId, t.authorId], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
