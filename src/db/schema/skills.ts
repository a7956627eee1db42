import { sql } from 'drizzle-orm';
import { boolean, integer, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { clinics } from './clinics.js';
import { timestamptz } from './columns.js';

export const skillModules = [
  'mindfulness',
  'distress_tolerance',
  'emotion_regulation',
  'interpersonal_effectiveness',
  'walking_the_middle_path',
] as const;

/**
 * The skills catalog of a clinic: the standard DBT skills, copied in when the clinic is created,
 * plus any the clinic adds. Diary cards, sessions and coaching contacts reference these rows.
 */
export const skills = pgTable(
  'skills',
  {
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    id: uuid('id').notNull(),
    module: text('module').$type<(typeof skillModules)[number]>().notNull(),
    name: text('name').notNull(),
    acronym: text('acronym'),
    sortOrder: integer('sort_order').notNull(),
    /** True for the standard catalog; false for a clinic's own additions. */
    standard: boolean('standard').notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.id] }), unique('skills_clinic_module_name_key').on(t.clinicId, t.module, t.name)],
);
