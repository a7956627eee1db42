import { sql } from 'drizzle-orm';
import { type AnyPgColumn, date, foreignKey, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { clients, type EpisodeStatus } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { type modalities, programs } from './programs.js';
import { staff } from './staff.js';

type Modality = (typeof modalities)[number];

export const dischargeReasons = ['completed', 'four_miss', 'dropped_out', 'clinical', 'declined_commitment', 'transferred'] as const;
export const stages = ['pretreatment', 'stage_1', 'stage_2', 'stage_3', 'stage_4'] as const;
export const commitmentTypes = ['treatment', 'therapist', 'skills_group', 'phone_coaching', 'caregiver', 'recommitment'] as const;
export const commitmentMethods = ['oral', 'written'] as const;

const clientKey = (t: { clinicId: AnyPgColumn; clientId: AnyPgColumn }) =>
  foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] });

/** A treatment contract, from referral to discharge. At most one open (not discharged) per client. */
export const treatmentEpisodes = pgTable(
  'treatment_episodes',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    programId: uuid('program_id').notNull(),
    /** Version of the program policy the contract was made under. */
    policyVersion: integer('policy_version').notNull(),
    status: text('status').$type<EpisodeStatus>().notNull(),
    referredOn: date('referred_on', { mode: 'string' }).notNull(),
    pretreatmentOn: date('pretreatment_on', { mode: 'string' }),
    contractStart: date('contract_start', { mode: 'string' }),
    contractEnd: date('contract_end', { mode: 'string' }),
    dischargedOn: date('discharged_on', { mode: 'string' }),
    dischargeReason: text('discharge_reason').$type<(typeof dischargeReasons)[number]>(),
    reEntryEligibleOn: date('re_entry_eligible_on', { mode: 'string' }),
    /**
     * Set by the four-miss evaluation when a required modality's streak of misses reaches the
     * threshold (and no override stands): the date it was met and the modalities that met it. A
     * therapist then confirms the proposed four_miss discharge. Cleared if corrected attendance
     * brings every streak back under the threshold.
     */
    fourMissMetOn: date('four_miss_met_on', { mode: 'string' }),
    fourMissModalities: text('four_miss_modalities').array().$type<Modality[]>().notNull().default(sql`'{}'::text[]`),
    /** Clinical notes on the episode: not shown to administrators. */
    notes: text('notes'),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    uniqueIndex('treatment_episodes_one_open_key').on(t.clinicId, t.clientId).where(sql`${t.status} <> 'discharged'`),
    clientKey(t),
    foreignKey({ columns: [t.clinicId, t.programId], foreignColumns: [programs.clinicId, programs.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** Stage history: a new assignment closes the previous one. */
export const stageAssignments = pgTable(
  'stage_assignments',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    stage: text('stage').$type<(typeof stages)[number]>().notNull(),
    fromDate: date('from_date', { mode: 'string' }).notNull(),
    toDate: date('to_date', { mode: 'string' }),
    rationale: text('rationale').notNull(),
    decidedBy: uuid('decided_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('stage_assignments_client_idx').on(t.clinicId, t.clientId, t.fromDate),
    clientKey(t),
    foreignKey({ columns: [t.clinicId, t.decidedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** Commitments are made and remade: each one is a record, never a flag. */
export const commitments = pgTable(
  'commitments',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    episodeId: uuid('episode_id'),
    type: text('type').$type<(typeof commitmentTypes)[number]>().notNull(),
    items: text('items').array().notNull(),
    method: text('method').$type<(typeof commitmentMethods)[number]>().notNull(),
    agreedAt: timestamptz('agreed_at').notNull(),
    recordedBy: uuid('recorded_by').notNull(),
    createdAt: timestamptz('created_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('commitments_client_idx').on(t.clinicId, t.clientId, t.agreedAt),
    clientKey(t),
    foreignKey({ columns: [t.clinicId, t.episodeId], foreignColumns: [treatmentEpisodes.clinicId, treatmentEpisodes.id] }),
    foreignKey({ columns: [t.clinicId, t.recordedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
