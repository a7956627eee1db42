import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz } from './columns.js';
import { staff } from './staff.js';

export const targetCategories = ['life_threatening', 'therapy_interfering', 'quality_of_life', 'skill_increase'] as const;
export const lifeThreateningSubtypes = [
  'suicide_attempt',
  'nssi',
  'suicidal_crisis_behaviour',
  'suicidal_ideation_communication',
  'homicidal',
  'other_imminent',
] as const;
export const therapyInterferingActors = ['client', 'therapist'] as const;
export const targetDirections = ['decrease', 'increase'] as const;
export const targetMeasures = ['urge_and_action', 'count', 'minutes'] as const;

/**
 * A target, versioned. `targetId` names the target across versions; each row is one version, and
 * changing the label, category or measure closes it (effective_to) and opens the next, so trends
 * stay readable against the wording in force at the time.
 */
export const targets = pgTable(
  'targets',
  {
    clinicId: uuid('clinic_id').notNull(),
    targetId: uuid('target_id').notNull(),
    version: integer('version').notNull(),
    clientId: uuid('client_id').notNull(),
    category: text('category').$type<(typeof targetCategories)[number]>().notNull(),
    lifeThreateningSubtype: text('life_threatening_subtype').$type<(typeof lifeThreateningSubtypes)[number]>(),
    therapyInterferingActor: text('therapy_interfering_actor').$type<(typeof therapyInterferingActors)[number]>(),
    direction: text('direction').$type<(typeof targetDirections)[number]>().notNull(),
    measure: text('measure').$type<(typeof targetMeasures)[number]>().notNull(),
    label: text('label').notNull(),
    effectiveFrom: timestamptz('effective_from').notNull(),
    effectiveTo: timestamptz('effective_to'),
    /** Why this version ended: changed (a newer version follows) or retired. */
    endReason: text('end_reason').$type<'changed' | 'retired'>(),
    /** The clinician's note on why the target was retired (clinical: never copied into the audit trail). */
    endNote: text('end_note'),
    createdBy: uuid('created_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.targetId, t.version] }),
    uniqueIndex('targets_one_current_key').on(t.clinicId, t.targetId).where(sql`${t.effectiveTo} is null`),
    index('targets_client_idx').on(t.clinicId, t.clientId),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
