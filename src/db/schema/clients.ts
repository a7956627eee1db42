import { sql } from 'drizzle-orm';
import { date, foreignKey, index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { clinics } from './clinics.js';
import { timestamptz, versioned } from './columns.js';
import { programs } from './programs.js';
import { staff } from './staff.js';
import { teams } from './teams.js';

export const episodeStatuses = ['referred', 'pretreatment', 'active', 'discharged'] as const;
export type EpisodeStatus = (typeof episodeStatuses)[number];

export interface EmergencyContact {
  name: string;
  relationship?: string;
  phone: string;
}

/**
 * Registration record. `status` mirrors the current episode and is written in the same transaction
 * as every episode change, so lists can filter on it. Never deleted: entered-in-error hides it.
 */
export const clients = pgTable(
  'clients',
  {
    clinicId: uuid('clinic_id')
      .notNull()
      .references(() => clinics.id),
    id: uuid('id').notNull(),
    givenName: text('given_name').notNull(),
    familyName: text('family_name').notNull(),
    preferredName: text('preferred_name'),
    dateOfBirth: date('date_of_birth', { mode: 'string' }).notNull(),
    pronouns: text('pronouns'),
    phone: text('phone'),
    email: text('email'),
    emergencyContact: jsonb('emergency_contact').$type<EmergencyContact>(),
    externalRecordNumber: text('external_record_number'),
    programId: uuid('program_id').notNull(),
    primaryTherapistId: uuid('primary_therapist_id'),
    /** The consultation team the client is held by; without it, the teams of the primary therapist. */
    teamId: uuid('team_id'),
    status: text('status').$type<EpisodeStatus>().notNull(),
    enteredInErrorAt: timestamptz('entered_in_error_at'),
    enteredInErrorReason: text('entered_in_error_reason'),
    enteredInErrorBy: uuid('entered_in_error_by'),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    uniqueIndex('clients_external_record_key').on(t.clinicId, t.externalRecordNumber).where(sql`${t.externalRecordNumber} is not null`),
    index('clients_therapist_idx').on(t.clinicId, t.primaryTherapistId),
    index('clients_team_idx').on(t.clinicId, t.teamId),
    foreignKey({ columns: [t.clinicId, t.programId], foreignColumns: [programs.clinicId, programs.id] }),
    foreignKey({ columns: [t.clinicId, t.primaryTherapistId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.enteredInErrorBy], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.teamId], foreignColumns: [teams.clinicId, teams.id] }),
  ],
);
