import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { clinics } from './clinics.js';
import { timestamptz } from './columns.js';
import { staff } from './staff.js';

/** A time-boxed emergency grant for one clinician to one client outside their relationships. */
export const breakGlassGrants = pgTable(
  'break_glass_grants',
  {
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    id: uuid('id').notNull(),
    staffId: uuid('staff_id').notNull(),
    clientId: uuid('client_id').notNull(),
    reason: text('reason').notNull(),
    minutes: integer('minutes').notNull(),
    startsAt: timestamptz('starts_at').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    foreignKey({ columns: [t.clinicId, t.staffId], foreignColumns: [staff.clinicId, staff.id] }),
    index('break_glass_grants_lookup_idx').on(t.clinicId, t.staffId, t.clientId, t.expiresAt),
  ],
);

export const breakGlassOutcomes = ['justified', 'unjustified', 'needs_follow_up'] as const;

/** Compliance review of a grant: one per grant, written once. */
export const breakGlassReviews = pgTable(
  'break_glass_reviews',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    grantId: uuid('grant_id').notNull(),
    reviewerId: uuid('reviewer_id').notNull(),
    outcome: text('outcome').$type<(typeof breakGlassOutcomes)[number]>().notNull(),
    note: text('note').notNull(),
    reviewedAt: timestamptz('reviewed_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('break_glass_reviews_grant_key').on(t.clinicId, t.grantId),
    foreignKey({ columns: [t.clinicId, t.grantId], foreignColumns: [breakGlassGrants.clinicId, breakGlassGrants.id] }),
    foreignKey({ columns: [t.clinicId, t.reviewerId], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
