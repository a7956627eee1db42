import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { meetingRoles, staff, teamMeetings, teamMembers } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { authorizeTeam, currentMembership, type TeamRow } from '../../policy/team-access.js';
import { allActiveWithRole } from '../staff/staff.queries.js';
import type { AddMemberBody, RotaResponse, TeamMemberResponse, UpdateMemberBody } from './teams.schema.js';
import { joinTeam, teamClinicianRoles } from './teams.service.js';

const m = teamMembers;

/** Members with their names and whether they are members today, ordered by name. */
function selectMembers(db: DbOrTx, team: TeamRow, condition = sql`true`) {
  return db
    .select({ member: m, displayName: staff.displayName, roles: staff.roles, current: sql<boolean>`${currentMembership(team.clinicId)}` })
    .from(m)
    .innerJoin(staff, and(eq(staff.clinicId, m.clinicId), eq(staff.id, m.staffId)))
    .where(and(eq(m.clinicId, team.clinicId), eq(m.teamId, team.id), condition))
    .orderBy(asc(staff.displayName), asc(m.joinedOn), asc(m.id));
}

type MemberRow = Awaited<ReturnType<typeof selectMembers>>[number];

const toResponse = (team: TeamRow, row: MemberRow): TeamMemberResponse => ({
  id: row.member.id,
  teamId: row.member.teamId,
  staffId: row.member.staffId,
  displayName: row.displayName,
  roles: row.roles,
  joinedOn: row.member.joinedOn,
  leftOn: row.member.leftOn,
  agreementsAcceptedAt: row.member.agreementsAcceptedAt,
  current: row.current,
  lead: row.member.staffId === team.leadId,
  version: row.member.version,
  createdAt: row.member.createdAt,
  updatedAt: row.member.updatedAt,
});

export async function listMembers(db: Db, ctx: AuthedContext, teamId: string, current: boolean) {
  ctx.audit.resourceId = teamId;
  const team = await authorizeTeam(db, ctx, teamId, 'read');
  const rows = await selectMembers(db, team, current ? currentMembership(team.clinicId) : undefined);
  ctx.audit.resultCount = rows.length;
  return { items: rows.map((row) => toResponse(team, row)) };
}

async function readMember(db: DbOrTx, team: TeamRow, memberId: string): Promise<TeamMemberResponse> {
  const [row] = await selectMembers(db, team, eq(m.id, memberId));
  if (!row) throw notFound('Team member');
  return toResponse(team, row);
}

/** The lead (or an administrator) adds an active clinician; someone already a member is a 409. */
export function addMember(db: Db, ctx: AuthedContext, teamId: string, input: AddMemberBody): Promise<TeamMemberResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    ctx.audit.resourceId = teamId;
    const team = await authorizeTeam(tx, ctx, teamId, 'lead', { admin: true });
    if (!(await allActiveWithRole(tx, team.clinicId, [input.staffId], teamClinicianRoles))) {
      throw invalidField('staffId', 'must be an active clinician (therapist, skills trainer or team lead) of this clinic');
    }
    const accepted = input.agreementsAcceptedAt ? new Date(input.agreementsAcceptedAt) : null;
    const [row] = await joinTeam(tx, team, input.staffId, input.joinedOn, accepted);
    if (!row) throw new AppError('conflict', 'This person is already a member of the team; end that membership first');
    ctx.audit.details = { staffId: input.staffId, joinedOn: row.joinedOn };
    return readMember(tx, team, row.id);
  });
}

/** The lead (or an administrator) records that a member left, or when they accepted the agreements. */
export function updateMember(
  db: Db,
  ctx: AuthedContext,
  teamId: string,
  memberId: string,
  ifMatch: string | undefined,
  input: UpdateMemberBody,
): Promise<TeamMemberResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    ctx.audit.resourceId = teamId;
    const team = await authorizeTeam(tx, ctx, teamId, 'lead', { admin: true });
    const [current] = await tx
      .select()
      .from(m)
      .where(and(eq(m.clinicId, team.clinicId), eq(m.teamId, team.id), eq(m.id, memberId)))
      .for('update');
    if (!current) throw notFound('Team member');
    checkIfMatch(ifMatch, current.version);
    if (input.leftOn && input.leftOn < current.joinedOn) throw invalidField('leftOn', `must not be before joinedOn (${current.joinedOn})`);
    if (input.leftOn && current.staffId === team.leadId) {
      throw invalidField('leftOn', 'the team lead cannot leave; name a new lead first');
    }
    const changes = {
      ...(input.leftOn !== undefined ? { leftOn: input.leftOn } : {}),
      ...(input.agreementsAcceptedAt !== undefined
        ? { agreementsAcceptedAt: input.agreementsAcceptedAt ? new Date(input.agreementsAcceptedAt) : null }
        : {}),
    };
    ctx.audit.details = { memberId, staffId: current.staffId, fields: Object.keys(changes).sort() };
    await tx
      .update(m)
      .set({ ...changes, version: current.version + 1, updatedAt: sql`now()` })
      .where(and(eq(m.clinicId, team.clinicId), eq(m.id, memberId)));
    return readMember(tx, team, memberId);
  });
}

const roleColumns = {
  meetingLeader: teamMeetings.meetingLeaderId,
  mindfulnessLeader: teamMeetings.mindfulnessLeaderId,
  observer: teamMeetings.observerId,
  noteTaker: teamMeetings.noteTakerId,
} as const;

/**
 * The rotation suggested from history: for each role, the current member who has gone longest
 * without it — never held first, then the oldest last turn, then the fewest turns, then by name.
 * One person is not suggested for two roles while another member is free.
 */
export async function readRota(db: Db, ctx: AuthedContext, teamId: string): Promise<RotaResponse> {
  ctx.audit.resourceId = teamId;
  const team = await authorizeTeam(db, ctx, teamId, 'read');
  const members = await selectMembers(db, team, currentMembership(team.clinicId));
  const history = await db
    .select({ date: teamMeetings.date, ...roleColumns })
    .from(teamMeetings)
    .where(and(eq(teamMeetings.clinicId, team.clinicId), eq(teamMeetings.teamId, team.id)))
    .orderBy(desc(teamMeetings.date));
  const taken = new Set<string>();
  const suggestions = meetingRoles.map((role) => {
    const turns = (staffId: string) => history.filter((meeting) => meeting[role] === staffId);
    const ranked = members
      .map((row) => ({ staffId: row.member.staffId, name: row.displayName, turns: turns(row.member.staffId) }))
      .sort(
        (a, b) =>
          Number(taken.has(a.staffId)) - Number(taken.has(b.staffId)) ||
          (a.turns[0]?.date ?? '').localeCompare(b.turns[0]?.date ?? '') ||
          a.turns.length - b.turns.length ||
          a.name.localeCompare(b.name),
      );
    const pick = ranked[0];
    if (pick) taken.add(pick.staffId);
    return { role, staffId: pick?.staffId ?? null, lastHeldOn: pick?.turns[0]?.date ?? null, timesHeld: pick?.turns.length ?? 0 };
  });
  return { teamId, basedOnMeetings: history.length, suggestions };
}
