import type { App } from '../../src/app.js';
import { agendaItems, teamMeetings, teamMembers, teams } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { testDatabase } from './app.js';
import { createClientRecord, createProgram, memberWithToken } from './factories.js';

type TeamRow = typeof teams.$inferSelect;
type MeetingRow = typeof teamMeetings.$inferSelect;

/**
 * Set-up for consultation-team tests, written straight to the database (set-up, not under test).
 * Members join on 2020-01-01 unless told otherwise; the lead is always a member.
 */
export async function createTeam(
  clinicId: string,
  options: { programId?: string; leadId: string; memberIds?: string[]; name?: string; categoryOrder?: TeamRow['categoryOrder'] },
) {
  const { db } = await testDatabase();
  const programId = options.programId ?? (await createProgram(clinicId)).program.id;
  const [team] = await db
    .insert(teams)
    .values({
      clinicId,
      id: uuidv7(),
      programId,
      name: options.name ?? `Synthetic team ${uuidv7()}`,
      leadId: options.leadId,
      categoryOrder: options.categoryOrder ?? null,
      createdBy: options.leadId,
    })
    .returning();
  const created = team as TeamRow;
  for (const staffId of new Set([options.leadId, ...(options.memberIds ?? [])])) await addTeamMember(created, staffId);
  return created;
}

export async function addTeamMember(team: TeamRow, staffId: string, joinedOn = '2020-01-01', leftOn: string | null = null) {
  const { db } = await testDatabase();
  await db.insert(teamMembers).values({ clinicId: team.clinicId, id: uuidv7(), teamId: team.id, staffId, joinedOn, leftOn });
}

/** A meeting row without pre-fill (the API's creation runs it; this is for tests of what comes after). */
export async function createMeetingRow(team: TeamRow, date: string, options: { durationMinutes?: number; createdBy?: string } = {}) {
  const { db } = await testDatabase();
  const [meeting] = await db
    .insert(teamMeetings)
    .values({
      clinicId: team.clinicId,
      id: uuidv7(),
      teamId: team.id,
      date,
      durationMinutes: options.durationMinutes ?? 60,
      prefillSince: new Date(`${date}T00:00:00Z`),
      prefilledAt: new Date(),
      createdBy: options.createdBy ?? team.leadId,
    })
    .returning();
  return meeting as MeetingRow;
}

/** An open agenda item on a meeting. */
export async function createAgendaItemRow(
  meeting: MeetingRow,
  options: {
    requestedBy: string;
    clientId?: string | null;
    category?: (typeof agendaItems.$inferInsert)['category'];
    question?: string;
    minutesRequested?: number;
    requestedAt?: Date;
  },
) {
  const { db } = await testDatabase();
  const [item] = await db
    .insert(agendaItems)
    .values({
      clinicId: meeting.clinicId,
      id: uuidv7(),
      meetingId: meeting.id,
      requestedBy: options.requestedBy,
      requestedAt: options.requestedAt ?? new Date(),
      clientId: options.clientId ?? null,
      category: options.category ?? 'consult',
      question: options.question ?? 'What is getting in the way of homework completion, and what could I try next?',
      minutesRequested: options.minutesRequested ?? 10,
    })
    .returning();
  return item as typeof agendaItems.$inferSelect;
}

/**
 * A clinic's team: a lead (team_lead and therapist), two therapist members, an outsider therapist
 * and an administrator, each with a token, and one client of each member therapist.
 */
export async function teamWithClients(app: App, clinicId: string, adminToken: string) {
  const lead = await memberWithToken(app, clinicId, ['team_lead', 'therapist']);
  const therapist = await memberWithToken(app, clinicId, ['therapist']);
  const colleague = await memberWithToken(app, clinicId, ['therapist']);
  const outsider = await memberWithToken(app, clinicId, ['therapist']);
  const { program } = await createProgram(clinicId);
  const team = await createTeam(clinicId, { programId: program.id, leadId: lead.id, memberIds: [therapist.id, colleague.id] });
  const client = await createClientRecord(clinicId, { primaryTherapistId: therapist.id, programId: program.id });
  const colleagueClient = await createClientRecord(clinicId, { primaryTherapistId: colleague.id, programId: program.id });
  return { team, program, lead, therapist, colleague, outsider, client, colleagueClient, adminToken };
}
