import { sql } from 'drizzle-orm';
import { boolean, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { clinics } from './clinics.js';
import { timestamptz, versioned } from './columns.js';

export const staffRoles = ['admin', 'therapist', 'skills_trainer', 'team_lead', 'compliance'] as const;
export type StaffRole = (typeof staffRoles)[number];

export const staff = pgTable(
  'staff',
  {
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    id: uuid('id').notNull(),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    roles: text('roles').array().$type<StaffRole[]>().notNull(),
    active: boolean('active').notNull().default(true),
    passwordHash: text('password_hash').notNull(),
    /** Tokens issued before this instant are refused (set on deactivation and password change). */
    tokensValidAfter: timestamptz('tokens_valid_after'),
    ...versioned(),
  },
  (t) => [primaryKey({ columns: [t.clinicId, t.id] }), uniqueIndex('staff_clinic_email_key').on(t.clinicId, sql`lower(${t.email})`)],
);

/** Failed-login counters, shared by every instance; keyed by account or by source address. */
export const loginThrottle = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  firstFailureAt: timestamptz('first_failure_at').notNull(),
  lockedUntil: timestamptz('locked_until'),
});
