import { and, arrayContains, asc, desc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { programPolicies, skillsGroups } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeGroup, type SkillsGroupRow } from '../../policy/group-access.js';
import { checkProgram, today } from '../programs/programs.queries.js';
import { allActiveWithRole } from '../staff/staff.queries.js';
import { curriculumPosition, cycleWeeks, defaultCurriculum, isoWeekday } from './skills-groups.curriculum.js';
import type {
  CreateSkillsGroupBody,
  CurriculumResponse,
  ListSkillsGroupsQuery,
  SkillsGroupResponse,
  UpdateSkillsGroupBody,
} from './skills-groups.schema.js';

const toResponse = (row: SkillsGroupRow, sizeLimits: Map<string, number>): SkillsGroupResponse => ({
  id: row.id,
  programId: row.programId,
  name: row.name,
  leaderId: row.leaderId,
  coLeaderIds: row.coLeaderIds,
  weekday: row.weekday,
  startTime: row.startTime,
  durationMinutes: row.durationMinutes,
  capacity: row.capacity,
  effectiveCapacity: row.capacity ?? sizeLimits.get(row.programId) ?? null,
  curriculum: row.curriculum,
  cycleWeeks: cycleWeeks(row.curriculum),
  cycleStartDate: row.cycleStartDate,
  active: row.active,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** The group size limit of the policy in force today, per program (as policyInForce picks it). */
async function groupSizeLimits(db: DbOrTx, clinicId: string, programIds: string[]): Promise<Map<string, number>> {
  if (programIds.length === 0) return new Map();
  const p = programPolicies;
  const rows = await db
    .selectDistinctOn([p.programId], { programId: p.programId, groupSizeLimit: p.groupSizeLimit })
    .from(p)
    .where(and(eq(p.clinicId, clinicId), inArray(p.programId, [...new Set(programIds)]), lte(p.effectiveFrom, today())))
    .orderBy(p.programId, desc(p.effectiveFrom), desc(p.version));
  return new Map(rows.map((row) => [row.programId, row.groupSizeLimit]));
}

const respond = async (db: DbOrTx, row: SkillsGroupRow) => toResponse(row, await groupSizeLimits(db, row.clinicId, [row.programId]));

const nameTaken = () => new AppError('conflict', 'The clinic already has a skills group with this name');

const allTrainers = (tx: DbOrTx, clinicId: string, ids: string[]) => allActiveWithRole(tx, clinicId, ids, ['skills_trainer']);

/**
 * Leaders are active skills trainers of the clinic and the leader is not also a co-leader. Only
 * the fields the body sends are checked against staff, so a trainer who left does not block an
 * unrelated change; the error names the field that was sent.
 */
async function checkLeaders(
  tx: DbOrTx,
  clinicId: string,
  group: { leaderId: string; coLeaderIds: string[] },
  sent: { leaderId: boolean; coLeaderIds: boolean },
) {
  if (group.coLeaderIds.includes(group.leaderId)) {
    throw sent.coLeaderIds
      ? invalidField('coLeaderIds', 'must not include the leader')
      : invalidField('leaderId', 'is already a co-leader; change coLeaderIds with it');
  }
  if (sent.leaderId && !(await allTrainers(tx, clinicId, [group.leaderId]))) {
    throw invalidField('leaderId', 'must be an active skills trainer of this clinic');
  }
  if (sent.coLeaderIds && !(await allTrainers(tx, clinicId, group.coLeaderIds))) {
    throw invalidField('coLeaderIds', 'must all be active skills trainers of this clinic');
  }
}

const weekdayNames = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Week 1 starts on a meeting day, so every cycle week holds exactly one regular session. */
function checkCycleStart(group: { weekday: number; cycleStartDate: string }, field: 'cycleStartDate' | 'weekday') {
  const actual = isoWeekday(group.cycleStartDate);
  if (actual === group.weekday) return;
  const message =
    field === 'cycleStartDate'
      ? `must fall on the group's weekday (${weekdayNames[group.weekday - 1]}); ${group.cycleStartDate} is a ${weekdayNames[actual - 1]}`
      : `must be the weekday of the cycle start date ${group.cycleStartDate} (${actual}); change cycleStartDate with it`;
  throw invalidField(field, message);
}

export async function listSkillsGroups(db: Db, ctx: AuthedContext, query: ListSkillsGroupsQuery) {
  const g = skillsGroups;
  const clinicId = ctx.actor.clinicId;
  const rows = await db
    .select()
    .from(g)
    .where(
      and(
        eq(g.clinicId, clinicId),
        eq(g.active, query.active === 'true'),
        query.programId ? eq(g.programId, query.programId) : undefined,
        query.leaderId ? or(eq(g.leaderId, query.leaderId), arrayContains(g.coLeaderIds, [query.leaderId])) : undefined,
        query.cursor
          ? sql`(${g.name}, ${g.id}) > (select c.name, c.id from skills_groups c where c.clinic_id = ${clinicId} and c.id = ${query.cursor})`
          : undefined,
      ),
    )
    .orderBy(asc(g.name), asc(g.id))
    .limit(query.limit + 1);
  const limits = await groupSizeLimits(
    db,
    clinicId,
    rows.map((row) => row.programId),
  );
  const result = toPage(
    rows.map((row) => toResponse(row, limits)),
    query.limit,
  );
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createSkillsGroup(db: Db, ctx: AuthedContext, input: CreateSkillsGroupBody): Promise<SkillsGroupResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const clinicId = ctx.actor.clinicId;
      const coLeaderIds = input.coLeaderIds ?? [];
      await checkProgram(tx, clinicId, input.programId);
      await checkLeaders(tx, clinicId, { leaderId: input.leaderId, coLeaderIds }, { leaderId: true, coLeaderIds: true });
      checkCycleStart(input, 'cycleStartDate');
      const [row] = await tx
        .insert(skillsGroups)
        .values({
          clinicId,
          id: uuidv7(),
          programId: input.programId,
          name: input.name,
          leaderId: input.leaderId,
          coLeaderIds,
          weekday: input.weekday,
          startTime: input.startTime,
          durationMinutes: input.durationMinutes,
          capacity: input.capacity ?? null,
          curriculum: input.curriculum ?? defaultCurriculum,
          cycleStartDate: input.cycleStartDate,
          createdBy: ctx.actor.staffId,
        })
        .returning();
      const created = row as SkillsGroupRow;
      ctx.audit.resourceId = created.id;
      ctx.audit.details = { fields: Object.keys(input).sort() };
      return respond(tx, created);
    }),
    nameTaken,
  );
}

export async function readSkillsGroup(db: Db, ctx: AuthedContext, groupId: string): Promise<SkillsGroupResponse> {
  ctx.audit.resourceId = groupId;
  return respond(db, await authorizeGroup(db, ctx, groupId, 'read'));
}

const comparable = (value: unknown) => JSON.stringify(value);

/**
 * Changes a group. Sessions already created keep the module and week they were stored with, so a
 * new curriculum or cycle start only shapes sessions created from now on.
 */
export function updateSkillsGroup(
  db: Db,
  ctx: AuthedContext,
  groupId: string,
  ifMatch: string | undefined,
  input: UpdateSkillsGroupBody,
): Promise<SkillsGroupResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      ctx.audit.resourceId = groupId;
      const current = await authorizeGroup(tx, ctx, groupId, 'lead', { admin: true, forUpdate: true });
      const changesLeaders = input.leaderId !== undefined || input.coLeaderIds !== undefined;
      if (changesLeaders && !ctx.actor.roles.includes('admin')) {
        throw new AppError('forbidden', 'Only an administrator changes who leads a group', { denialReason: 'leaders-admin-only' });
      }
      checkIfMatch(ifMatch, current.version);
      const next = { ...current, ...input };
      if (changesLeaders) {
        await checkLeaders(tx, current.clinicId, next, {
          leaderId: input.leaderId !== undefined,
          coLeaderIds: input.coLeaderIds !== undefined,
        });
      }
      if (input.weekday !== undefined || input.cycleStartDate !== undefined) {
        checkCycleStart(next, input.cycleStartDate !== undefined ? 'cycleStartDate' : 'weekday');
      }
      const changes = Object.fromEntries(
        Object.entries(input).filter(([key, value]) => comparable(value) !== comparable(current[key as keyof SkillsGroupRow])),
      );
      ctx.audit.details = { fields: Object.keys(changes).sort() };
      const [row] = await tx
        .update(skillsGroups)
        .set({ ...changes, version: current.version + 1, updatedAt: sql`now()` })
        .where(and(eq(skillsGroups.clinicId, current.clinicId), eq(skillsGroups.id, groupId)))
        .returning();
      return respond(tx, row as SkillsGroupRow);
    }),
    nameTaken,
  );
}

/** Which module and week the group is in on a date (today unless given). */
export async function readCurriculum(db: Db, ctx: AuthedContext, groupId: string, date = today()): Promise<CurriculumResponse> {
  ctx.audit.resourceId = groupId;
  const group = await authorizeGroup(db, ctx, groupId, 'read');
  const position = curriculumPosition(group, date);
  return { date, started: position !== null, cycleStartDate: group.cycleStartDate, position, curriculum: group.curriculum };
}
