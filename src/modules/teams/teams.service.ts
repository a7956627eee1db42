import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinicDateToday } from '../../db/clinic-date.js';
import { onUniqueViolation } from '../../db/errors.js';
import { agendaCategories, type StaffRole, teamMembers, teams } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeTeam, currentMembership, currentRaw, type TeamRow } from '../../policy/team-access.js';
import { checkProgram } from '../programs/programs.queries.js';
import { allActiveWithRole } from '../staff/staff.queries.js';
import type { CreateTeamBody, ListTeamsQuery, TeamResponse, UpdateTeamBody } from './teams.schema.js';

/** Who may sit on a consultation team: the clinic's clinicians. */
export const teamClinicianRoles: StaffRole[] = ['therapist', 'skills_trainer', 'team_lead'];

/** The order a team takes its agenda categories in: those it names first, the others in the default order. */
export const categoryOrderOf = (team: Pick<TeamRow, 'categoryOrder'>) => [...new Set([...(team.categoryOrder ?? []), ...agendaCategories])];

/**
 * Current members of each team selected, as a correlated subquery. Raw names on purpose: drizzle
 * leaves columns unqualified in the selection of a one-table query, which would bind them inside.
 */
const currentMembers = (clinicId: string) =>
  sql<number>`(select count(*)::int from team_members cm where cm.clinic_id = "teams"."clinic_id"
    and cm.team_id = "teams"."id" and ${currentRaw(clinicId, 'cm')})`;

const toResponse = (row: TeamRow, members: number): TeamResponse => ({
  id: row.id,
  programId: row.programId,
  name: row.name,
  leadId: row.leadId,
  categoryOrder: row.categoryOrder,
  effectiveCategoryOrder: categoryOrderOf(row),
  openingMinutes: row.openingMinutes,
  coachingContactsThreshold: row.coachingContactsThreshold,
  afterHoursShareThreshold: row.afterHoursShareThreshold,
  currentMembers: members,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

async function respond(db: DbOrTx, team: TeamRow): Promise<TeamResponse> {
  const [row] = await db
    .select({ members: currentMembers(team.clinicId) })
    .from(teams)
    .where(and(eq(teams.clinicId, team.clinicId), eq(teams.id, team.id)));
  return toResponse(team, row?.members ?? 0);
}

const nameTaken = () => new AppError('conflict', 'The clinic already has a team with this name');

async function checkLead(tx: DbOrTx, clinicId: string, leadId: string) {
  if (!(await allActiveWithRole(tx, clinicId, [leadId], ['team_lead']))) {
    throw invalidField('leadId', 'must be an active staff member of this clinic with the team_lead role');
  }
}

/** Opens a membership from today unless the person is already a current member. */
export async function joinTeam(tx: DbOrTx, team: TeamRow, staffId: string, joinedOn?: string, agreementsAcceptedAt?: Date | null) {
  return tx
    .insert(teamMembers)
    .values({
      clinicId: team.clinicId,
      id: uuidv7(),
      teamId: team.id,
      staffId,
      joinedOn: joinedOn ?? clinicDateToday(team.clinicId),
      agreementsAcceptedAt: agreementsAcceptedAt ?? null,
    })
    .onConflictDoNothing()
    .returning();
}

export async function listTeams(db: Db, ctx: AuthedContext, query: ListTeamsQuery) {
  const clinicId = ctx.actor.clinicId;
  const memberOf = query.memberId
    ? sql`exists (select 1 from ${teamMembers} where ${teamMembers.clinicId} = ${teams.clinicId} and ${teamMembers.teamId} = ${teams.id}
        and ${teamMembers.staffId} = ${query.memberId} and ${currentMembership(clinicId)})`
    : undefined;
  const rows = await db
    .select({ team: teams, members: currentMembers(clinicId) })
    .from(teams)
    .where(
      and(
        eq(teams.clinicId, clinicId),
        query.programId ? eq(teams.programId, query.programId) : undefined,
        memberOf,
        query.cursor ? gt(teams.id, query.cursor) : undefined,
      ),
    )
    .orderBy(asc(teams.id))
    .limit(query.limit + 1);
  const result = toPage(
    rows.map((row) => toResponse(row.team, row.members)),
    query.limit,
  );
  ctx.audit.resultCount = result.items.length;
  return result;
}

/** Creates a team; the lead and the members named join today. */
export function createTeam(db: Db, ctx: AuthedContext, input: CreateTeamBody): Promise<TeamResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const clinicId = ctx.actor.clinicId;
      await checkProgram(tx, clinicId, input.programId);
      await checkLead(tx, clinicId, input.leadId);
      const memberIds = (input.memberIds ?? []).filter((id) => id !== input.leadId);
      if (!(await allActiveWithRole(tx, clinicId, memberIds, teamClinicianRoles))) {
        throw invalidField('memberIds', 'must all be active clinicians (therapists, skills trainers or team leads) of this clinic');
      }
      const [row] = await tx
        .insert(teams)
        .values({
          clinicId,
          id: uuidv7(),
          programId: input.programId,
          name: input.name,
          leadId: input.leadId,
          categoryOrder: input.categoryOrder ?? null,
          openingMinutes: input.openingMinutes,
          coachingContactsThreshold: input.coachingContactsThreshold,
          afterHoursShareThreshold: input.afterHoursShareThreshold,
          createdBy: ctx.actor.staffId,
        })
        .returning();
      const team = row as TeamRow;
      for (const staffId of [input.leadId, ...memberIds]) await joinTeam(tx, team, staffId);
      ctx.audit.resourceId = team.id;
      ctx.audit.details = { fields: Object.keys(input).sort(), members: memberIds.length + 1 };
      return respond(tx, team);
    }),
    nameTaken,
  );
}

export async function readTeam(db: Db, ctx: AuthedContext, teamId: string): Promise<TeamResponse> {
  ctx.audit.resourceId = teamId;
  return respond(db, await authorizeTeam(db, ctx, teamId, 'read'));
}

const comparable = (value: unknown) => JSON.stringify(value);

/** The lead or an administrator changes the team; only an administrator names a new lead, who joins if not a member. */
export function updateTeam(db: Db, ctx: AuthedContext, teamId: string, ifMatch: string | undefined, input: UpdateTeamBody) {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      ctx.audit.resourceId = teamId;
      const current = await authorizeTeam(tx, ctx, teamId, 'lead', { admin: true, forUpdate: true });
      if (input.leadId !== undefined && input.leadId !== current.leadId) {
        if (!ctx.actor.roles.includes('admin')) {
          throw new AppError('forbidden', 'Only an administrator names a new team lead', { denialReason: 'lead-admin-only' });
        }
        await checkLead(tx, current.clinicId, input.leadId);
      }
      checkIfMatch(ifMatch, current.version);
      const changes = Object.fromEntries(
        Object.entries(input).filter(([key, value]) => comparable(value) !== comparable(current[key as keyof TeamRow])),
      );
      ctx.audit.details = { fields: Object.keys(changes).sort() };
      const [row] = await tx
        .update(teams)
        .set({ ...changes, version: current.version + 1, updatedAt: sql`now()` })
        .where(and(eq(teams.clinicId, current.clinicId), eq(teams.id, teamId)))
        .returning();
      const team = row as TeamRow;
      if (changes.leadId) await joinTeam(tx, team, team.leadId);
      return respond(tx, team);
    }),
    nameTaken,
  );
}
