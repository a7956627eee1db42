import { and, eq, gt, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { clinicDateToday } from '../db/clinic-date.js';
import { clients, teamMeetings, teamMembers, teams } from '../db/schema/index.js';
import type { AuthedContext } from '../lib/context.js';
import { AppError, notFound } from '../lib/errors.js';

export type TeamRow = typeof teams.$inferSelect;
export type MeetingRow = typeof teamMeetings.$inferSelect;

/** A membership in force today (clinic-local): joined on or before today, not yet left. */
export const currentMembership = (clinicId: string, m: typeof teamMembers = teamMembers): SQL =>
  and(lte(m.joinedOn, clinicDateToday(clinicId)), or(isNull(m.leftOn), gt(m.leftOn, clinicDateToday(clinicId)))) as SQL;

/**
 * The clients a team holds, as a condition on `clients`: those whose team reference names it, and
 * those without one whose primary therapist is a current member. Clients entered in error and
 * clients without an open episode (referred, in pretreatment or active) are not the team's.
 */
export function heldByTeam(clinicId: string, teamId: string): SQL {
  const therapistIsMember = sql`exists (
    select 1 from ${teamMembers}
    where ${teamMembers.clinicId} = ${clients.clinicId} and ${teamMembers.teamId} = ${teamId}
      and ${teamMembers.staffId} = ${clients.primaryTherapistId} and ${currentMembership(clinicId)})`;
  return and(
    eq(clients.clinicId, clinicId),
    isNull(clients.enteredInErrorAt),
    sql`${clients.status} <> 'discharged'`,
    or(eq(clients.teamId, teamId), and(isNull(clients.teamId), therapistIsMember)),
  ) as SQL;
}

/** A current membership of the team_members alias given (raw SQL, for correlated subqueries). */
export const currentRaw = (clinicId: string, alias: string) => {
  const today = clinicDateToday(clinicId);
  const m = sql.raw(alias);
  return sql`${m}.joined_on <= ${today} and (${m}.left_on is null or ${m}.left_on > ${today})`;
};

/**
 * The team alias `m` holds a client with this team reference and primary therapist: the team the
 * reference names, or, without one, a team the primary therapist is a current member of.
 */
const holdsClient = (clinicId: string, teamRef: SQL | string | null, therapist: SQL | string | null) =>
  sql`(m.team_id = ${teamRef} or (${teamRef}::uuid is null and exists (select 1 from team_members p
    where p.clinic_id = m.clinic_id and p.team_id = m.team_id and p.staff_id = ${therapist}::uuid and ${currentRaw(clinicId, 'p')})))`;

/** As a condition on `clients`: the client is held by a team the staff member is a current member of. */
export const inTeamOf = (clinicId: string, staffId: string): SQL =>
  sql`exists (select 1 from team_members m where m.clinic_id = ${clients.clinicId} and m.staff_id = ${staffId}
    and ${currentRaw(clinicId, 'm')} and ${holdsClient(clinicId, sql`${clients.teamId}`, sql`${clients.primaryTherapistId}`)})`;

/**
 * A team the caller is a current member of that holds the client, if any: the basis of a team
 * member's view of the client.
 */
export async function findTeamOfClient(
  db: DbOrTx,
  clinicId: string,
  staffId: string,
  client: { teamId: string | null; primaryTherapistId: string | null },
): Promise<string | null> {
  if (!client.teamId && !client.primaryTherapistId) return null;
  const result = await db.execute(sql`select m.team_id from team_members m where m.clinic_id = ${clinicId} and m.staff_id = ${staffId}
    and ${currentRaw(clinicId, 'm')} and ${holdsClient(clinicId, client.teamId, client.primaryTherapistId)} limit 1`);
  return (result.rows[0] as { team_id: string } | undefined)?.team_id ?? null;
}

/** Whether the staff member is a current member of the team. */
export async function isCurrentMember(db: DbOrTx, clinicId: string, teamId: string, staffId: string): Promise<boolean> {
  const [found] = await db
    .select({ id: teamMembers.id })
    .from(teamMembers)
    .where(
      and(
        eq(teamMembers.clinicId, clinicId),
        eq(teamMembers.teamId, teamId),
        eq(teamMembers.staffId, staffId),
        currentMembership(clinicId),
      ),
    )
    .limit(1);
  return Boolean(found);
}

/**
 * What the caller may do with a team:
 *   - 'read': its details and members (no client data), for anyone the route's rule admitted;
 *   - 'member': its meetings, agendas and packets: current members only;
 *   - 'lead': membership and the role rota: the team lead, or an administrator when `admin` is set.
 * A team of another clinic is a 404. The basis goes into the request's audit record.
 */
export async function authorizeTeam(
  db: DbOrTx,
  ctx: AuthedContext,
  teamId: string,
  need: 'read' | 'member' | 'lead',
  options: { admin?: boolean; forUpdate?: boolean } = {},
): Promise<TeamRow> {
  const select = db
    .select()
    .from(teams)
    .where(and(eq(teams.clinicId, ctx.actor.clinicId), eq(teams.id, teamId)));
  const [team] = options.forUpdate ? await select.for('update') : await select;
  if (!team) throw notFound('Team');
  return checkTeamAccess(db, ctx, team, need, options);
}

async function checkTeamAccess(
  db: DbOrTx,
  ctx: AuthedContext,
  team: TeamRow,
  need: 'read' | 'member' | 'lead',
  options: { admin?: boolean },
) {
  const rule = ctx.basis?.rule ?? 'teams';
  if (need === 'read') return team;
  if (need === 'lead') {
    if (team.leadId === ctx.actor.staffId) {
      ctx.basis = { rule, relationship: `team-lead:${team.id}` };
      return team;
    }
    if (options.admin && ctx.actor.roles.includes('admin')) {
      ctx.basis = { rule, role: 'admin' };
      return team;
    }
    throw new AppError('forbidden', 'Only the lead of this team may do this', { denialReason: 'not-team-lead' });
  }
  if (await isCurrentMember(db, ctx.actor.clinicId, team.id, ctx.actor.staffId)) {
    ctx.basis = { rule, relationship: `team-member:${team.id}` };
    return team;
  }
  throw new AppError('forbidden', 'Only current members of this team may do this', { denialReason: 'not-team-member' });
}

/** Loads a meeting of the caller's clinic with its team, and checks the caller is a current member (or the lead, for 'lead'). */
export async function authorizeMeeting(
  db: DbOrTx,
  ctx: AuthedContext,
  meetingId: string,
  need: 'member' | 'lead' = 'member',
  options: { forUpdate?: boolean } = {},
): Promise<{ meeting: MeetingRow; team: TeamRow }> {
  const select = db
    .select({ meeting: teamMeetings, team: teams })
    .from(teamMeetings)
    .innerJoin(teams, and(eq(teams.clinicId, teamMeetings.clinicId), eq(teams.id, teamMeetings.teamId)))
    .where(and(eq(teamMeetings.clinicId, ctx.actor.clinicId), eq(teamMeetings.id, meetingId)));
  const [found] = options.forUpdate ? await select.for('update', { of: teamMeetings }) : await select;
  if (!found) throw notFound('Meeting');
  ctx.audit.resourceId = meetingId;
  await checkTeamAccess(db, ctx, found.team, need, {});
  return found;
}
