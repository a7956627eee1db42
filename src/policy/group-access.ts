import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { groupSessions, skillsGroups } from '../db/schema/index.js';
import type { AuthedContext } from '../lib/context.js';
import { AppError, notFound } from '../lib/errors.js';

export type SkillsGroupRow = typeof skillsGroups.$inferSelect;
export type GroupSessionRow = typeof groupSessions.$inferSelect;
type Leaders = Pick<SkillsGroupRow, 'leaderId' | 'coLeaderIds'>;

export const leadsGroup = (group: Leaders, staffId: string) => group.leaderId === staffId || group.coLeaderIds.includes(staffId);

type Need = 'read' | 'lead';
type AccessOptions = { admin?: boolean; forUpdate?: boolean };

/**
 * What the caller may do with a group:
 *   - 'read': anyone the route's rule admitted (group details hold no client data);
 *   - 'lead': an administrator, when `admin` is true for the route, or a leader or co-leader of
 *     this group; anyone else is refused with the reason recorded.
 * The basis goes into the request's audit record.
 */
function checkGroupAccess(ctx: AuthedContext, group: Leaders, need: Need, options: AccessOptions) {
  const rule = ctx.basis?.rule ?? 'skills-groups';
  if (need === 'read') return;
  if (leadsGroup(group, ctx.actor.staffId)) {
    ctx.basis = { rule, relationship: group.leaderId === ctx.actor.staffId ? 'group-leader' : 'group-co-leader' };
    return;
  }
  if (options.admin && ctx.actor.roles.includes('admin')) {
    ctx.basis = { rule, role: 'admin' };
    return;
  }
  throw new AppError('forbidden', 'Only the leaders of this group may do this', { denialReason: 'not-group-leader' });
}

/** Loads a group of the caller's clinic (404 otherwise) and checks what the caller may do with it (checkGroupAccess). */
export async function authorizeGroup(
  db: DbOrTx,
  ctx: AuthedContext,
  groupId: string,
  need: Need,
  options: AccessOptions = {},
): Promise<SkillsGroupRow> {
  const select = db
    .select()
    .from(skillsGroups)
    .where(and(eq(skillsGroups.clinicId, ctx.actor.clinicId), eq(skillsGroups.id, groupId)));
  const [group] = options.forUpdate ? await select.for('update') : await select;
  if (!group) throw notFound('Skills group');
  checkGroupAccess(ctx, group, need, options);
  return group;
}

/**
 * Loads a group session of the caller's clinic with its group, in one query (404 otherwise), and
 * checks what the caller may do with the group (checkGroupAccess). With `forUpdate`, the session
 * row is locked: writes to a session and its attendance take that lock first.
 */
export async function authorizeGroupSession(
  db: DbOrTx,
  ctx: AuthedContext,
  sessionId: string,
  need: Need,
  options: AccessOptions = {},
): Promise<GroupSessionRow> {
  ctx.audit.resourceId = sessionId;
  const select = db
    .select({ session: groupSessions, group: { leaderId: skillsGroups.leaderId, coLeaderIds: skillsGroups.coLeaderIds } })
    .from(groupSessions)
    .innerJoin(skillsGroups, and(eq(skillsGroups.clinicId, groupSessions.clinicId), eq(skillsGroups.id, groupSessions.groupId)))
    .where(and(eq(groupSessions.clinicId, ctx.actor.clinicId), eq(groupSessions.id, sessionId)));
  const [found] = options.forUpdate
    ? await select.for('update', { of: groupSessions }).prepare('group_session_for_update').execute()
    : await select.prepare('group_session').execute();
  if (!found) throw notFound('Group session');
  checkGroupAccess(ctx, found.group, need, options);
  return found.session;
}
