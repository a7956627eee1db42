import { sql } from 'drizzle-orm';
import {
  date,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { programs } from './programs.js';
import { staff } from './staff.js';

/** Agenda categories in the default order of priority (DESIGN.md §1): life-threatening first, celebrations last. */
export const agendaCategories = [
  'client_life_threatening',
  'client_therapy_interfering',
  'therapist_therapy_interfering',
  'therapist_burnout_motivation',
  'team_interfering',
  'consult',
  'skills_group_issue',
  'admin',
  'celebration',
] as const;
export type AgendaCategory = (typeof agendaCategories)[number];

/** The six consultation-team agreements, one of which is read at each meeting. */
export const teamAgreements = [
  'dialectical',
  'consultation_to_the_patient',
  'consistency',
  'observing_limits',
  'phenomenological_empathy',
  'fallibility',
] as const;

/** The rotating roles of a meeting; each is optional. */
export const meetingRoles = ['meetingLeader', 'mindfulnessLeader', 'observer', 'noteTaker'] as const;
export type MeetingRole = (typeof meetingRoles)[number];

export const meetingAttendanceKinds = ['present', 'late', 'absent'] as const;
export const agendaItemStatuses = ['open', 'discussed', 'withdrawn', 'carried_over'] as const;
/** What gets in the way (Koerner): skills deficit, contingencies, conditioned emotions, cognitions. */
export const agendaObstacles = ['skills_deficit', 'contingencies', 'conditioned_emotion', 'cognitions'] as const;

/** The sources the pre-fill proposes agenda items from, one proposal per client and source. */
export const proposalKinds = [
  'life_threatening_behaviour',
  'twenty_four_hour_rule',
  'event_without_chain',
  'four_miss',
  'coaching_use',
  'relationship_repair',
  'contract_ending',
] as const;
export type ProposalKind = (typeof proposalKinds)[number];
export const proposalStatuses = ['proposed', 'accepted', 'dismissed'] as const;

/** One member's attendance at a meeting. */
export interface MeetingAttendance {
  staffId: string;
  status: (typeof meetingAttendanceKinds)[number];
  lateMinutes: number | null;
}

/**
 * A consultation team: its program, its lead, the order its agenda categories are taken in (null:
 * the default order) and the thresholds the pre-fill flags coaching use by.
 */
export const teams = pgTable(
  'teams',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    programId: uuid('program_id').notNull(),
    name: text('name').notNull(),
    leadId: uuid('lead_id').notNull(),
    categoryOrder: text('category_order').array().$type<AgendaCategory[]>(),
    /** Minutes of each meeting taken by mindfulness and the agreement before the agenda. */
    openingMinutes: integer('opening_minutes').notNull().default(10),
    /** Coaching contacts of one client since the last meeting above which the pre-fill flags over-use. */
    coachingContactsThreshold: integer('coaching_contacts_threshold').notNull().default(5),
    /** Share of a client's contacts after hours above which the pre-fill flags it (with at least two contacts). */
    afterHoursShareThreshold: doublePrecision('after_hours_share_threshold').notNull().default(0.5),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('teams_clinic_name_key').on(t.clinicId, t.name),
    foreignKey({ columns: [t.clinicId, t.programId], foreignColumns: [programs.clinicId, programs.id] }),
    foreignKey({ columns: [t.clinicId, t.leadId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/**
 * A staff member's membership of a team, from the day they joined until the day they left (a member
 * while joinedOn ≤ today < leftOn). At most one open membership per person and team.
 */
export const teamMembers = pgTable(
  'team_members',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    teamId: uuid('team_id').notNull(),
    staffId: uuid('staff_id').notNull(),
    joinedOn: date('joined_on', { mode: 'string' }).notNull(),
    leftOn: date('left_on', { mode: 'string' }),
    /** When the member accepted the team's agreements. */
    agreementsAcceptedAt: timestamptz('agreements_accepted_at'),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    uniqueIndex('team_members_one_open_key').on(t.clinicId, t.teamId, t.staffId).where(sql`${t.leftOn} is null`),
    index('team_members_staff_idx').on(t.clinicId, t.staffId),
    foreignKey({ columns: [t.clinicId, t.teamId], foreignColumns: [teams.clinicId, teams.id] }),
    foreignKey({ columns: [t.clinicId, t.staffId], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** A weekly meeting: when, how long, who came, who held which role, the agreement read, notes and minutes. */
export const teamMeetings = pgTable(
  'team_meetings',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    teamId: uuid('team_id').notNull(),
    /** Local date of the meeting. */
    date: date('date', { mode: 'string' }).notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    attendance: jsonb('attendance').$type<MeetingAttendance[]>().notNull().default(sql`'[]'::jsonb`),
    meetingLeaderId: uuid('meeting_leader_id'),
    mindfulnessLeaderId: uuid('mindfulness_leader_id'),
    observerId: uuid('observer_id'),
    noteTakerId: uuid('note_taker_id'),
    agreementRead: text('agreement_read').$type<(typeof teamAgreements)[number]>(),
    observerNotes: text('observer_notes'),
    minutes: text('minutes'),
    /** The start of the data the pre-fill looked at: the previous meeting's date, or a week before. */
    prefillSince: timestamptz('prefill_since').notNull(),
    prefilledAt: timestamptz('prefilled_at').notNull(),
    createdBy: uuid('created_by').notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('team_meetings_team_date_key').on(t.clinicId, t.teamId, t.date),
    foreignKey({ columns: [t.clinicId, t.teamId], foreignColumns: [teams.clinicId, teams.id] }),
    foreignKey({ columns: [t.clinicId, t.createdBy], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.meetingLeaderId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.mindfulnessLeaderId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.observerId], foreignColumns: [staff.clinicId, staff.id] }),
    foreignKey({ columns: [t.clinicId, t.noteTakerId], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/**
 * An item on a meeting's agenda. An item carried over to the next meeting keeps its category and
 * its original request time (so its priority), names the item it came from, and the item it left
 * is marked carried_over.
 */
export const agendaItems = pgTable(
  'team_agenda_items',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    meetingId: uuid('meeting_id').notNull(),
    requestedBy: uuid('requested_by').notNull(),
    requestedAt: timestamptz('requested_at').notNull(),
    clientId: uuid('client_id'),
    category: text('category').$type<AgendaCategory>().notNull(),
    question: text('question').notNull(),
    minutesRequested: integer('minutes_requested').notNull(),
    clarity: text('clarity'),
    motivation: text('motivation'),
    obstacles: text('obstacles').array().$type<(typeof agendaObstacles)[number][]>().notNull().default(sql`'{}'::text[]`),
    obstaclesNote: text('obstacles_note'),
    outcome: text('outcome'),
    plan: text('plan'),
    followUpDue: date('follow_up_due', { mode: 'string' }),
    status: text('status').$type<(typeof agendaItemStatuses)[number]>().notNull().default('open'),
    carriedFromId: uuid('carried_from_id'),
    proposalId: uuid('proposal_id'),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    index('team_agenda_items_meeting_idx').on(t.clinicId, t.meetingId),
    uniqueIndex('team_agenda_items_carried_key').on(t.clinicId, t.carriedFromId).where(sql`${t.carriedFromId} is not null`),
    foreignKey({ columns: [t.clinicId, t.meetingId], foreignColumns: [teamMeetings.clinicId, teamMeetings.id] }),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.requestedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);

/** What a proposal shows for itself: the records behind it, by kind (see the pre-fill). */
export type ProposalEvidence = Record<string, unknown>;

/**
 * An agenda item the pre-fill proposes from the week's data for one client, with its evidence.
 * Accepting it puts an item on the agenda; dismissing it records who did and why.
 */
export const agendaProposals = pgTable(
  'team_agenda_proposals',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    meetingId: uuid('meeting_id').notNull(),
    clientId: uuid('client_id').notNull(),
    kind: text('kind').$type<ProposalKind>().notNull(),
    category: text('category').$type<AgendaCategory>().notNull(),
    summary: text('summary').notNull(),
    evidence: jsonb('evidence').$type<ProposalEvidence>().notNull(),
    status: text('status').$type<(typeof proposalStatuses)[number]>().notNull().default('proposed'),
    decidedBy: uuid('decided_by'),
    decidedAt: timestamptz('decided_at'),
    dismissReason: text('dismiss_reason'),
    agendaItemId: uuid('agenda_item_id'),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('team_agenda_proposals_key').on(t.clinicId, t.meetingId, t.clientId, t.kind),
    foreignKey({ columns: [t.clinicId, t.meetingId], foreignColumns: [teamMeetings.clinicId, teamMeetings.id] }),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
    foreignKey({ columns: [t.clinicId, t.decidedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
