import { sql } from 'drizzle-orm';
import { boolean, date, foreignKey, integer, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { clinics } from './clinics.js';
import { timestamptz } from './columns.js';
import { staff } from './staff.js';

export const programKinds = ['adult', 'adolescent_family', 'other'] as const;
export const missCountingUnits = ['consecutive_scheduled_weeks', 'consecutive_sessions'] as const;
export const modalities = ['individual', 'skills_group'] as const;
export const twentyFourHourTriggers = ['nssi', 'suicide_attempt', 'therapy_interfering'] as const;

export const programs = pgTable(
  'programs',
  {
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<(typeof programKinds)[number]>().notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.id] }), unique('programs_clinic_name_key').on(t.clinicId, t.name)],
);

/**
 * Program policy is data: each change is a new version with the date it takes effect, so any past
 * decision (a four-miss discharge, a refused coaching call) can name the policy that applied.
 */
export const programPolicies = pgTable(
  'program_policies',
  {
    clinicId: uuid('clinic_id').notNull(),
    programId: uuid('program_id').notNull(),
    version: integer('version').notNull(),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
    fourMissThreshold: integer('four_miss_threshold').notNull(),
    missCountingUnit: text('miss_counting_unit').$type<(typeof missCountingUnits)[number]>().notNull(),
    countedModalities: text('counted_modalities').array().$type<(typeof modalities)[number][]>().notNull(),
    latenessMissMinutes: integer('lateness_miss_minutes'),
    lateCancelMissHours: integer('late_cancel_miss_hours'),
    overrideAllowed: boolean('override_allowed').notNull(),
    twentyFourHourRule: boolean('twenty_four_hour_rule').notNull(),
    twentyFourHourTriggers: text('twenty_four_hour_triggers').array().$type<(typeof twentyFourHourTriggers)[number][]>().notNull(),
    contractWeeks: integer('contract_weeks').notNull(),
    skillsCycleWeeks: integer('skills_cycle_weeks').notNull(),
    groupSizeLimit: integer('group_size_limit').notNull(),
    entryAtModuleStartOnly: boolean('entry_at_module_start_only').notNull(),
    groupRequiresIndividual: boolean('group_requires_individual').notNull(),
    /** ISO weekday a diary-card week starts on (1 = Monday … 7 = Sunday). */
    weekStartsOn: integer('week_starts_on').notNull(),
    /** An urge at or above this (0–5) puts a target on the session agenda even without an action. */
    agendaUrgeThreshold: integer('agenda_urge_threshold').notNull().default(4),
    /** The emotions a diary card asks about, rated 0–5. */
    diaryEmotions: text('diary_emotions')
      .array()
      .notNull()
      .default(sql`'{anger,fear,joy,sadness,shame,emotional_misery,physical_misery}'::text[]`),
    createdBy: uuid('created_by'),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.programId, t.version] }),
    foreignKey({ columns: [t.clinicId, t.programId], foreignColumns: [programs.clinicId, programs.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
