import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { skillsGroups } from '../db/schema/index.js';
import type { AuthedContext } from '../lib/context.js';
import { AppError, notFound } from '../lib/errors.js';

export type SkillsGroupRow = typeof skillsGroups.$inferSelect;

export const leadsGroup = (group: Pick<SkillsGroupRow, 'leaderId' | 'coLeaderIds'>, staffId: string) =>
  group.leaderId === staffId || group.coLeaderIds.includes(staffId);

/**
 * Loads a group of the caller's clinic (404 otherwise) and checks what the caller may do with it:
 *   - 'read': anyone the route's rule admitted (group details hold no client data);
 *   - 'lead': an administrator, when `admin` is true for the route, or a leader or co-leader of
 *     this group; anyone else is refused with the reason recorded.
 * The basis goes into the request's audit record.
 */
export async function authorizeGroup(
  db: DbOrTx,
  ctx: AuthedContext,
  groupId: string,
  need: 'read' | 'lead',
  options: { admin?: boolean; forUpdate?: boolean } = {},
): Promise<SkillsGroupRow> {
  const select = db
    .select()
    .from(skillsGroups)
    .where(and(eq(skillsGroups.clinicId, ctx.actor.clinicId), eq(skillsGroups.id, groupId)));
  const [group] = options.forUpdate ? await select.for('update') : await select;
  if (!group) throw notFound('Skills group');
  const rule = ctx.basis?.rule ?? 'skills-groups';
  if (need === 'read') return group;
  if (leadsGroup(group, ctx.actor.staffId)) {
    ctx.basis = { rule, relationship: group.leaderId === ctx.actor.staffId ? 'group-leader' : 'group-co-leader' };
    return group;
  }
  if (options.admin && ctx.actor.roles.includes('admin')) {
    ctx.basis = { rule, role: 'admin' };
    return group;
  }
  throw new AppError('forbidden', 'Only the leaders of this group may do this', { denialReason: 'not-group-leader' });
}
