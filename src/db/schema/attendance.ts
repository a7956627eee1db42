import { sql } from 'drizzle-orm';
import { date, foreignKey, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz } from './columns.js';
import type { modalities } from './programs.js';
import { staff } from './staff.js';
import { treatmentEpisodes } from './treatment.js';

/**
 * A decision not to apply the four-miss rule to one met streak, where the program's policy allows
 * overrides. It names the streak by the date it was met, so a later, new streak is judged afresh.
 */
export const fourMissOverrides = pgTable(
  'four_miss_overrides',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    episodeId: uuid('episode_id').notNull(),
    modality: text('modality').$type<(typeof modalities)[number]>().notNull(),
    metOn: date('met_on', { mode: 'string' }).notNull(),
    streak: integer('streak').notNull(),
    /** The policy version that allowed the override. */
    policyVersion: integer('policy_version').notNull(),
    reason: text('reason').notNull(),
    overriddenBy: uuid('overridden_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('four_miss_overrides_episode_idx').on(t.clinicId, t.episodeId, t.modality),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.episodeId], foreignColumns: [treatmentEpisodes.clinicId, treatmentEpisodes.id] }),
    foreignKey({ columns: [t.clinicId, t.overriddenBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
