import { count } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import {
  clients,
  groupAttendance,
  groupEnrollments,
  groupSessions,
  skillsGroups,
  staff,
  teamMembers,
  teams,
  treatmentEpisodes,
} from '../../db/schema/index.js';
import { uuidv7 } from '../../lib/ids.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { insertProgram } from '../programs/programs.queries.js';
import { type CurriculumPosition, curriculumPosition, defaultCurriculum, isoWeekday } from '../skills-groups/skills-groups.curriculum.js';
import { insertStaff } from '../staff/staff.service.js';
import type { EpisodeRow } from '../treatment/episodes.queries.js';
import { insertClinicWithAdmin } from './clinics.service.js';

/**
 * On an empty embedded database, a demo clinic so `npm start` can be tried at once: an
 * administrator, a therapist and a skills trainer (same one-time password), an adult program with a
 * handful of obviously synthetic clients across the episode statuses, a skills group with a
 * term of attendance, and a consultation team (a lead, the therapist and the trainer) that holds
 * the therapist's clients. Never real data.
 */
export function seedDemoClinic(db: Db) {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select({ n: count() }).from(staff);
    if ((existing?.n ?? 0) > 0) return null;
    const { clinic, admin, password } = await insertClinicWithAdmin(tx, {
      slug: 'demo',
      name: 'Demo DBT Clinic',
      adminEmail: 'admin@demo.example',
      adminName: 'Demo Administrator',
    });
    const therapist = await insertStaff(tx, clinic.id, {
      email: 'therapist@demo.example',
      displayName: 'Demo Therapist',
      roles: ['therapist'],
      password,
    });
    const trainer = await insertStaff(tx, clinic.id, {
      email: 'trainer@demo.example',
      displayName: 'Demo Skills Trainer',
      roles: ['skills_trainer'],
      password,
    });
    const lead = await insertStaff(tx, clinic.id, {
      email: 'lead@demo.example',
      displayName: 'Demo Team Lead',
      roles: ['team_lead', 'therapist'],
      password,
    });
    const demo = await seedDemoClients(tx, clinic.id, admin.id, therapist.id);
    await seedDemoGroup(tx, clinic.id, demo, trainer.id);
    await seedDemoTeam(tx, { clinicId: clinic.id, programId: demo.programId, leadId: lead.id, memberIds: [therapist.id, trainer.id] });
    return {
      clinicSlug: clinic.slug,
      email: admin.email,
      password,
      therapistEmail: therapist.email,
      trainerEmail: trainer.email,
      leadEmail: lead.email,
    };
  });
}

/** Dates relative to today, so the demo's contracts are current whenever it is seeded. */
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const addDays = (date: string, days: number) => new Date(Date.parse(date) + days * 86_400_000).toISOString().slice(0, 10);

type DemoEpisode = Pick<EpisodeRow, 'status' | 'referredOn'> &
  Partial<Pick<EpisodeRow, 'pretreatmentOn' | 'contractStart' | 'dischargedOn' | 'dischargeReason'>>;

const demoClients = (): Array<{ givenName: string; preferredName?: string; dateOfBirth: string; episode: DemoEpisode }> => [
  { givenName: 'Alpha', dateOfBirth: '1991-03-14', episode: { status: 'referred', referredOn: daysAgo(6) } },
  {
    givenName: 'Bravo',
    dateOfBirth: '1986-07-02',
    episode: { status: 'pretreatment', referredOn: daysAgo(30), pretreatmentOn: daysAgo(20) },
  },
  {
    givenName: 'Charlie',
    preferredName: 'Charlie-Demo',
    dateOfBirth: '1999-11-23',
    episode: { status: 'active', referredOn: daysAgo(120), pretreatmentOn: daysAgo(110), contractStart: daysAgo(84) },
  },
  {
    givenName: 'Delta',
    dateOfBirth: '1978-01-30',
    episode: { status: 'active', referredOn: daysAgo(60), pretreatmentOn: daysAgo(50), contractStart: daysAgo(28) },
  },
  {
    givenName: 'Echo',
    dateOfBirth: '1994-05-09',
    episode: {
      status: 'discharged',
      referredOn: daysAgo(420),
      pretreatmentOn: daysAgo(410),
      contractStart: daysAgo(390),
      dischargeReason: 'completed',
    },
  },
  {
    givenName: 'Foxtrot',
    dateOfBirth: '2001-09-17',
    episode: {
      status: 'discharged',
      referredOn: daysAgo(250),
      pretreatmentOn: daysAgo(240),
      contractStart: daysAgo(220),
      dischargedOn: daysAgo(150),
      dischargeReason: 'four_miss',
    },
  },
];

async function seedDemoClients(tx: DbOrTx, clinicId: string, adminId: string, therapistId: string) {
  const seeded = new Map<string, { clientId: string; contractStart: string | null }>();
  const { program, policy } = await insertProgram(tx, {
    clinicId,
    name: 'Adult DBT (demo)',
    kind: 'adult',
    effectiveFrom: '2020-01-01',
    createdBy: adminId,
  });
  for (const [index, demo] of demoClients().entries()) {
    const clientId = uuidv7();
    const { episode } = demo;
    await tx.insert(clients).values({
      clinicId,
      id: clientId,
      givenName: demo.givenName,
      familyName: 'Synthetic',
      preferredName: demo.preferredName ?? null,
      dateOfBirth: demo.dateOfBirth,
      pronouns: 'they/them',
      phone: `+1 555 0100 ${String(index + 1).padStart(3, '0')}`,
      email: `${demo.givenName.toLowerCase()}.synthetic@demo.example`,
      emergencyContact: { name: 'Demo Contact', relationship: 'friend', phone: '+1 555 0199 000' },
      externalRecordNumber: `DEMO-${String(index + 1).padStart(4, '0')}`,
      programId: program.id,
      primaryTherapistId: therapistId,
      status: episode.status,
    });
    const contractEnd = episode.contractStart ? addDays(episode.contractStart, policy.contractWeeks * 7) : null;
    await tx.insert(treatmentEpisodes).values({
      clinicId,
      id: uuidv7(),
      clientId,
      programId: program.id,
      policyVersion: policy.version,
      ...episode,
      contractEnd,
      // A completed contract ends on its end date.
      dischargedOn: episode.dischargeReason === 'completed' ? contractEnd : (episode.dischargedOn ?? null),
      reEntryEligibleOn: episode.dischargeReason === 'four_miss' ? contractEnd : null,
      createdBy: adminId,
    });
    seeded.set(demo.givenName, { clientId, contractStart: episode.contractStart ?? null });
  }
  return { programId: program.id, clients: seeded };
}

/**
 * A Wednesday skills group whose cycle began twelve weeks ago, with its past and next four weekly
 * sessions. The two active demo clients joined at a module start; Delta has missed the last three
 * group weeks, so the four-miss rule shows a warning.
 */
async function seedDemoGroup(tx: DbOrTx, clinicId: string, demo: Awaited<ReturnType<typeof seedDemoClients>>, trainerId: string) {
  const twelveWeeksAgo = daysAgo(84);
  const cycleStart = addDays(twelveWeeksAgo, -((isoWeekday(twelveWeeksAgo) - 3 + 7) % 7));
  const [group] = await tx
    .insert(skillsGroups)
    .values({
      clinicId,
      id: uuidv7(),
      programId: demo.programId,
      name: 'Wednesday evening skills group (demo)',
      leaderId: trainerId,
      weekday: 3,
      startTime: '18:00',
      durationMinutes: 150,
      curriculum: defaultCurriculum,
      cycleStartDate: cycleStart,
      createdBy: trainerId,
    })
    .returning();
  const groupId = (group as typeof skillsGroups.$inferSelect).id;
  const sessions = Array.from({ length: 16 }, (_, week) => {
    const date = addDays(cycleStart, week * 7);
    const position = curriculumPosition({ cycleStartDate: cycleStart, curriculum: defaultCurriculum }, date) as CurriculumPosition;
    return {
      clinicId,
      id: uuidv7(),
      groupId,
      date,
      module: position.module,
      moduleWeek: position.moduleWeek,
      cycleWeek: position.cycleWeek,
    };
  });
  await tx.insert(groupSessions).values(sessions.map((session) => ({ ...session, createdBy: trainerId })));
  const today = daysAgo(0);
  const lastThreeWeeks = addDays(today, -21);
  const members = [
    { name: 'Charlie', from: cycleStart, missed: (date: string) => date === addDays(cycleStart, 5 * 7) },
    { name: 'Delta', from: addDays(cycleStart, 8 * 7), missed: (date: string) => date >= lastThreeWeeks },
  ];
  for (const member of members) {
    const client = demo.clients.get(member.name);
    if (!client) continue;
    await tx
      .insert(groupEnrollments)
      .values({ clinicId, id: uuidv7(), groupId, clientId: client.clientId, startDate: member.from, createdBy: trainerId });
    const past = sessions.filter((session) => session.date >= member.from && session.date < today);
    if (past.length === 0) continue;
    await tx.insert(groupAttendance).values(
      past.map((session) => ({
        clinicId,
        sessionId: session.id,
        clientId: client.clientId,
        status: member.missed(session.date) ? ('absent' as const) : ('present' as const),
        homeworkReviewed: !member.missed(session.date),
        recordedBy: trainerId,
      })),
    );
  }
  await reevaluateFourMiss(
    tx,
    clinicId,
    [...demo.clients.values()].map((client) => client.clientId),
  );
}

/** The consultation team: its lead, the therapist and the trainer, all members since the team began. */
async function seedDemoTeam(tx: DbOrTx, team: { clinicId: string; programId: string; leadId: string; memberIds: string[] }) {
  const teamId = uuidv7();
  await tx.insert(teams).values({
    clinicId: team.clinicId,
    id: teamId,
    programId: team.programId,
    name: 'Demo consultation team',
    leadId: team.leadId,
    createdBy: team.leadId,
  });
  await tx.insert(teamMembers).values(
    [team.leadId, ...team.memberIds].map((staffId) => ({
      clinicId: team.clinicId,
      id: uuidv7(),
      teamId,
      staffId,
      joinedOn: daysAgo(180),
      agreementsAcceptedAt: new Date(`${daysAgo(180)}T17:00:00Z`),
    })),
  );
}
