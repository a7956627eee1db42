import { sql } from 'drizzle-orm';
import { pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';

/** The tenant. Every tenant-owned table carries clinic_id in its keys. */
export const clinics = pgTable('clinics', {
  id: uuid('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  timeZone: text('time_zone').notNull().default('UTC'),
  createdAt: timestamptz('created_at').notNull().default(sql`now()`),
});
