import { sql } from 'drizzle-orm';
import { customType, integer, timestamp } from 'drizzle-orm/pg-core';

/**
 * Timestamps cross the app as Date, with millisecond precision in the database too, so a value
 * read back is exactly the value written (the audit chain hashes what it reads).
 */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

/** Postgres xid8 (64-bit transaction id), carried as a decimal string. */
export const xid8 = customType<{ data: string; driverData: string }>({
  dataType: () => 'xid8',
});

/**
 * The columns every mutable record carries: a version for If-Match (incremented by each change)
 * and creation and change times.
 */
export const versioned = () => ({
  version: integer('version').notNull().default(1),
  createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
});
