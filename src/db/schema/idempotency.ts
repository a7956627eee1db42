import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';
import { staff } from './staff.js';

/**
 * One row per Idempotency-Key a staff member sent with a POST in the last 24 hours. The row is
 * claimed inside the request's own transaction, so it exists exactly when the change committed;
 * the response is stored after it, and a retry with the same key and body gets that response
 * back. See src/plugins/idempotency.ts.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    clinicId: uuid('clinic_id').notNull(),
    staffId: uuid('staff_id').notNull(),
    key: text('key').notNull(),
    method: text('method').notNull(),
    /** The route pattern (`/v1/clients/:id/goals`). */
    route: text('route').notNull(),
    /** SHA-256 of the method, route, path parameters, query and canonical JSON body. */
    requestHash: text('request_hash').notNull(),
    /** The request that claimed the key; a replay's audit record points back to it. */
    requestId: text('request_id').notNull(),
    /** What the original request's audit record named, repeated on the replay's record. */
    resourceId: text('resource_id'),
    clientIds: uuid('client_ids').array().notNull().default(sql`'{}'::uuid[]`),
    responseStatus: integer('response_status'),
    /** The ETag, Location and Content-Type the original response carried. */
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.staffId, t.key] }),
    foreignKey({ columns: [t.clinicId, t.staffId], foreignColumns: [staff.clinicId, staff.id] }),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);
