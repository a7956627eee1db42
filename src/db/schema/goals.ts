import { sql } from 'drizzle-orm';
import { foreignKey, index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { staff } from './staff.js';

export const goalStatuses = ['active', 'achieved', 'on_hold', 'set_aside'] as const;

/** A life-worth-living goal, in the client's own words. */
export const goals = pgTable(
  'goals',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    text: text('text').notNull(),
    domain: text('domain'),
    status: text('status').$type<(typeof goalStatuses)[number]>().notNull(),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('goals_client_idx').on(t.clinicId, t.clientId),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** Dated progress notes on a goal; a revision may also record a change of status or wording. */
export const goalRevisions = pgTable(
  'goal_revisions',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    goalId: uuid('goal_id').notNull(),
    note: text('note').notNull(),
    status: text('status').$type<(typeof goalStatuses)[number]>(),
    text: text('text'),
    revisedBy: uuid('revised_by').notNull(),
    revisedAt: timestamptz('revised_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('goal_revisions_goal_idx').on(t.clinicId, t.goalId, t.revisedAt),
    foreignKey({ columns: [t.clinicId, t.goalId], foreignColumns: [goals.clinicId, goals.id] }),
    foreignKey({ columns: [t.clinicId, t.revisedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
