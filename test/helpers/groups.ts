import { and, eq, sql } from 'drizzle-orm';
import {
  type CurriculumBlock,
  clients,
  groupEnrollments,
  groupSessions,
  skillsGroups,
  treatmentEpisodes,
} from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { curriculumPosition, defaultCurriculum } from '../../src/modules/skills-groups/skills-groups.curriculum.js';
import { testDatabase } from './app.js';
import { createProgram, createStaffMember } from './factories.js';

/**
 * Set-up for skills-group tests, written straight to the database (set-up, not under test).
 * Dates are YYYY-MM-DD; the default cycle starts on Monday 2030-01-07.
 */
export async function createSkillsGroup(
  clinicId: string,
  options: {
    programId?: string;
    leaderId?: string;
    coLeaderIds?: string[];
    weekday?: number;
    cycleStartDate?: string;
    capacity?: number | null;
    curriculum?: CurriculumBlock[];
    createdBy?: string;
  } = {},
) {
  const { db } = await testDatabase();
  const programId = options.programId ?? (await createProgram(clinicId)).program.id;
  const leaderId = options.leaderId ?? (await createStaffMember(clinicId, ['skills_trainer'])).id;
  const [group] = await db
    .insert(skillsGroups)
    .values({
      clinicId,
      id: uuidv7(),
      programId,
      name: `Synthetic skills group ${uuidv7()}`,
      leaderId,
      coLeaderIds: options.coLeaderIds ?? [],
      weekday: options.weekday ?? 1,
      startTime: '18:00',
      durationMinutes: 150,
      capacity: options.capacity === undefined ? null : options.capacity,
      curriculum: options.curriculum ?? defaultCurriculum,
      cycleStartDate: options.cycleStartDate ?? '2030-01-07',
      createdBy: options.createdBy ?? leaderId,
    })
    .returning();
  return group as typeof skillsGroups.$inferSelect;
}

/** A group session on a date, its module and week taken from the group's curriculum. */
export async function createGroupSession(
  group: typeof skillsGroups.$inferSelect,
  date: string,
  options: { status?: 'scheduled' | 'cancelled_by_clinic' } = {},
) {
  const { db } = await testDatabase();
  const position = curriculumPosition(group, date);
  const [session] = await db
    .insert(groupSessions)
    .values({
      clinicId: group.clinicId,
      id: uuidv7(),
      groupId: group.id,
      date,
      module: position?.module ?? 'mindfulness',
      moduleWeek: position?.moduleWeek ?? 1,
      cycleWeek: position?.cycleWeek ?? 1,
      status: options.status ?? 'scheduled',
      cancelReason: options.status === 'cancelled_by_clinic' ? 'Synthetic closure' : null,
      createdBy: group.leaderId,
    })
    .returning();
  return session as typeof groupSessions.$inferSelect;
}

export async function enrollClient(
  group: typeof skillsGroups.$inferSelect,
  clientId: string,
  startDate: string,
  endDate: string | null = null,
) {
  const { db } = await testDatabase();
  const [enrollment] = await db
    .insert(groupEnrollments)
    .values({ clinicId: group.clinicId, id: uuidv7(), groupId: group.id, clientId, startDate, endDate, createdBy: group.leaderId })
    .returning();
  return enrollment as typeof groupEnrollments.$inferSelect;
}

/** Moves the client's open episode straight to active with the given contract start (and the client's status with it). */
export async function activateClient(clinicId: string, clientId: string, contractStart: string, contractEnd = '2031-12-31') {
  const { db } = await testDatabase();
  await db
    .update(treatmentEpisodes)
    .set({ status: 'active', pretreatmentOn: contractStart, contractStart, contractEnd, version: sql`${treatmentEpisodes.version} + 1` })
    .where(
      and(
        eq(treatmentEpisodes.clinicId, clinicId),
        eq(treatmentEpisodes.clientId, clientId),
        sql`${treatmentEpisodes.status} <> 'discharged'`,
      ),
    );
  await db
    .update(clients)
    .set({ status: 'active' })
    .where(and(eq(clients.clinicId, clinicId), eq(clients.id, clientId)));
}
