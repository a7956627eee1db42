import { sql } from 'drizzle-orm';
import { foreignKey, integer, jsonb, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';
import { individualSessions } from './sessions.js';
import { staff } from './staff.js';

/**
 * A session agenda as the therapist settled it: the order the hierarchy computed when it was saved,
 * and the final order with any items the therapist added, so both stay readable.
 */
export const sessionAgendas = pgTable(
  'session_agendas',
  {
    clinicId: uuid('clinic_id').notNull(),
    sessionId: uuid('session_id').notNull(),
    computed: jsonb('computed').$type<unknown[]>().notNull(),
    final: jsonb('final').$type<unknown[]>().notNull(),
    version: integer('version').notNull().default(1),
    updatedBy: uuid('updated_by').notNull(),
    updatedAt: timestamptz('updated_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.sessionId] }),
    foreignKey({ columns: [t.clinicId, t.sessionId], foreignColumns: [individualSessions.clinicId, individualSessions.id] }),
    foreignKey({ columns: [t.clinicId, t.updatedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
