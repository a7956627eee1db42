import { sql } from 'drizzle-orm';
import { bigint, foreignKey, index, integer, jsonb, pgTable, primaryKey, smallint, text, unique, uuid } from 'drizzle-orm/pg-core';
import { timestamptz, xid8 } from './columns.js';

/**
 * One row per request that reaches the app. Append-only: triggers reject UPDATE, DELETE and
 * TRUNCATE. Not foreign-keyed to clinics: requests without a clinic (a failed login for an unknown
 * clinic) are recorded under the nil clinic id. See src/audit/README.md.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    /** Inserting transaction; the sealer orders the chain by it, never by id or time. */
    txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
    occurredAt: timestamptz('occurred_at').notNull(),
    endedAt: timestamptz('ended_at'),
    recordedAt: timestamptz('recorded_at').notNull().default(sql`clock_timestamp()`),
    requestId: text('request_id').notNull(),
    actorType: text('actor_type').$type<'staff' | 'anonymous' | 'system'>().notNull(),
    actorId: uuid('actor_id'),
    actorRoles: text('actor_roles').array().notNull().default(sql`'{}'::text[]`),
    action: text('action').$type<'C' | 'R' | 'U' | 'D' | 'E'>().notNull(),
    subtype: text('subtype').notNull(),
    outcome: text('outcome').$type<'success' | 'denied' | 'failure' | 'error'>().notNull(),
    httpStatus: smallint('http_status').notNull(),
    denialReason: text('denial_reason'),
    method: text('method').notNull(),
    route: text('route').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    clientIds: uuid('client_ids').array().notNull().default(sql`'{}'::uuid[]`),
    dataCategory: text('data_category'),
    purposeOfUse: text('purpose_of_use'),
    accessBasis: jsonb('access_basis'),
    query: jsonb('query'),
    details: jsonb('details'),
    resultCount: integer('result_count'),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    serviceVersion: text('service_version').notNull(),
  },
  (t) => [
    // The partition key (occurred_at, by month) must be part of every unique key: see 0012_audit_partitions.sql.
    primaryKey({ columns: [t.clinicId, t.id, t.occurredAt] }),
    index('audit_events_txid_idx').on(t.txid),
    index('audit_events_clinic_time_idx').on(t.clinicId, t.occurredAt),
    index('audit_events_request_idx').on(t.requestId),
  ],
);

/**
 * The HMAC chain, one per clinic, in the order the sealer saw transactions finish. Append-only,
 * like the events it seals.
 */
export const auditSeals = pgTable(
  'audit_seals',
  {
    clinicId: uuid('clinic_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    eventId: uuid('event_id').notNull(),
    /** The sealed event's occurred_at: with clinic and id, the key the foreign key needs on the partitioned events. */
    eventOccurredAt: timestamptz('event_occurred_at').notNull(),
    /** Every event whose txid is below this had been sealed when this seal was written. */
    horizon: xid8('horizon').notNull(),
    prevHmac: text('prev_hmac').notNull(),
    hmac: text('hmac').notNull(),
    sealedAt: timestamptz('sealed_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.seq] }),
    unique('audit_seals_event_key').on(t.clinicId, t.eventId),
    index('audit_seals_horizon_idx').on(t.horizon),
    foreignKey({
      name: 'audit_seals_event_fk',
      columns: [t.clinicId, t.eventId, t.eventOccurredAt],
      foreignColumns: [auditEvents.clinicId, auditEvents.id, auditEvents.occurredAt],
    }),
  ],
);
