import { sql } from 'drizzle-orm';
import { boolean, date, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { programs } from './programs.js';
import type { skillModules } from './skills.js';
import { staff } from './staff.js';

export type SkillModule = (typeof skillModules)[number];

/** One block of a curriculum cycle: a module taught for a number of consecutive weeks. */
export interface CurriculumBlock {
  module: SkillModule;
  weeks: number;
}

export const groupSessionStatuses = ['scheduled', 'cancelled_by_clinic'] as const;
export const groupAttendanceKinds = ['present', 'late', 'left_early', 'absent', 'absent_with_notice'] as const;
export const enrollmentEndReasons = ['completed', 'four_miss', 'discharged', 'transferred', 'client_choice', 'clinical', 'other'] as const;

/**
 * A skills-training group: who leads it, when it meets, how many it takes and the curriculum it
 * cycles through. Week 1 of the cycle is the week starting on `cycleStartDate`; the cycle repeats.
 */
export const skillsGroups = pgTable(
  'skills_groups',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    programId: uuid('program_id').notNull(),
    name: text('name').notNull(),
    leaderId: uuid('leader_id').notNull(),
    /** Co-leaders (staff ids of the clinic, checked on write; arrays cannot carry a foreign key). */
    coLeaderIds: uuid('co_leader_ids').array().notNull().default(sql`'{}'::uuid[]`),
    /** ISO weekday the group meets on (1 = Monday … 7 = Sunday), in the clinic's time zone. */
    weekday: integer('weekday').notNull(),
    /** Local start time, HH:MM. */
    startTime: text('start_time').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    /** Places in the group; null follows the program policy's group size limit. */
    capacity: integer('capacity'),
    curriculum: jsonb('curriculum').$type<CurriculumBlock[]>().notNull(),
    cycleStartDate: date('cycle_start_date', { mode: 'string' }).notNull(),
    active: boolean('active').notNull().default(true),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('skills_groups_clinic_name_key').on(t.clinicId, t.name),
    foreignKey({ columns: [t.clinicId, t.programId], foreignColumns: [programs.clinicId, programs.id] }),
    foreignKey({ columns: [t.clinicId, t.leaderId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/**
 * One meeting of a group. A clinic cancellation is a state with a reason, never a deletion: the
 * four-miss rule treats it as neither attended nor missed.
 */
export const groupSessions = pgTable(
  'group_sessions',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    groupId: uuid('group_id').notNull(),
    /** Local date of the meeting. */
    date: date('date', { mode: 'string' }).notNull(),
    module: text('module').$type<SkillModule>().notNull(),
    /** Week of the module block (1-based) and of the whole cycle (1-based). */
    moduleWeek: integer('module_week').notNull(),
    cycleWeek: integer('cycle_week').notNull(),
    skillIds: uuid('skill_ids').array().notNull().default(sql`'{}'::uuid[]`),
    homework: text('homework'),
    status: text('status').$type<(typeof groupSessionStatuses)[number]>().notNull().default('scheduled'),
    cancelReason: text('cancel_reason'),
    cancelledBy: uuid('cancelled_by'),
    cancelledAt: timestamptz('cancelled_at'),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('group_sessions_group_date_key').on(t.clinicId, t.groupId, t.date),
    foreignKey({ columns: [t.clinicId, t.groupId], foreignColumns: [skillsGroups.clinicId, skillsGroups.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.cancelledBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** A client's membership of a group from a start date until an end date (null: still a member). */
export const groupEnrollments = pgTable(
  'group_enrollments',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    groupId: uuid('group_id').notNull(),
    clientId: uuid('client_id').notNull(),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    /** Last day of membership (inclusive). */
    endDate: date('end_date', { mode: 'string' }),
    endReason: text('end_reason').$type<(typeof enrollmentEndReasons)[number]>(),
    endNote: text('end_note'),
    createdBy: uuid('created_by').notNull(),
    endedBy: uuid('ended_by'),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('group_enrollments_group_idx').on(t.clinicId, t.groupId, t.startDate),
    index('group_enrollments_client_idx').on(t.clinicId, t.clientId, t.startDate),
    foreignKey({ columns: [t.clinicId, t.groupId], foreignColumns: [skillsGroups.clinicId, skillsGroups.id] }),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.endedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** Attendance of one enrolled client at one group session, written for the whole roster at once. */
export const groupAttendance = pgTable(
  'group_attendance',
  {
    clinicId: uuid('clinic_id').notNull(),
    sessionId: uuid('session_id').notNull(),
    clientId: uuid('client_id').notNull(),
    status: text('status').$type<(typeof groupAttendanceKinds)[number]>().notNull(),
    lateMinutes: integer('late_minutes'),
    leftEarlyMinutes: integer('left_early_minutes'),
    /** Hours of notice given for an absence with notice, when known. */
    noticeHours: integer('notice_hours'),
    homeworkReviewed: boolean('homework_reviewed').notNull().default(false),
    recordedBy: uuid('recorded_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.sessionId, t.clientId] }),
    index('group_attendance_client_idx').on(t.clinicId, t.clientId),
    foreignKey({ columns: [t.clinicId, t.sessionId], foreignColumns: [groupSessions.clinicId, groupSessions.id] }),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.recordedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
