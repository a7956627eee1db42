import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { clinicalEvents } from './events.js';
import { individualSessions } from './sessions.js';
import { staff } from './staff.js';

export const chainLinkTypes = ['thought', 'emotion', 'body_sensation', 'action', 'event'] as const;

export interface ChainLink {
  type: (typeof chainLinkTypes)[number];
  text: string;
  skillfulAlternative: string | null;
  skillId: string | null;
}

export interface ChainConsequence {
  term: 'short' | 'long';
  text: string;
}

/** A behavioural chain analysis of one occurrence of a target behaviour. */
export const chainAnalyses = pgTable(
  'chain_analyses',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    /** The target (its id across versions) and the version in force when the behaviour happened. */
    targetId: uuid('target_id'),
    targetVersion: integer('target_version'),
    eventId: uuid('event_id'),
    behaviourAt: timestamptz('behaviour_at').notNull(),
    problemBehaviour: text('problem_behaviour').notNull(),
    promptingEvent: text('prompting_event'),
    vulnerabilities: text('vulnerabilities').array().notNull().default(sql`'{}'::text[]`),
    links: jsonb('links').$type<ChainLink[]>().notNull(),
    consequences: jsonb('consequences').$type<ChainConsequence[]>().notNull(),
    solutions: text('solutions').array().notNull().default(sql`'{}'::text[]`),
    repair: text('repair'),
    commitment: text('commitment'),
    completedIn: text('completed_in').$type<'session' | 'homework'>().notNull(),
    sessionId: uuid('session_id'),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('chain_analyses_client_idx').on(t.clinicId, t.clientId, t.behaviourAt),
    index('chain_analyses_event_idx').on(t.clinicId, t.eventId),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.eventId], foreignColumns: [clinicalEvents.clinicId, clinicalEvents.id] }),
    foreignKey({ columns: [t.clinicId, t.sessionId], foreignColumns: [individualSessions.clinicId, individualSessions.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
