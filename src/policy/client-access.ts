import { and, desc, eq, gte, isNull, lte, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { clinicDateToday } from '../db/clinic-date.js';
import { clients, coachingLimits, groupEnrollments, skillsGroups } from '../db/schema/index.js';
import type { AuthedContext } from '../lib/context.js';
import { AppError, notFound } from '../lib/errors.js';
import { findActiveGrant } from './break-glass.js';
import { findTeamOfClient } from './team-access.js';

export type ClientRow = typeof clients.$inferSelect;

/**
 * What the caller wants of the client: its registration (name, contact, program, therapist), a
 * change to its registration (not part of any read-only view), its clinical record (episodes'
 * notes, stages, commitments, goals, targets and everything later), or the group view a skills
 * trainer works with (name, group attendance, homework, diary-card skills), its coaching, or the
 * team view its consultation team works with (summaries, events, attendance, prep packets — no
 * session or psychotherapy notes).
 */
export type ClientAccess = 'registration' | 'registration-change' | 'clinical' | 'group' | 'coaching' | 'team';

/** The views a current member of the client's consultation team has. */
const teamViews: readonly ClientAccess[] = ['registration', 'group', 'coaching', 'team'];

/**
 * Whether the caller is the backup named in the primary therapist's coaching limits in force now:
 * the colleague who covers coaching for that therapist's clients.
 */
export async function coversFor(db: DbOrTx, clinicId: string, staffId: string, primaryTherapistId: string): Promise<boolean> {
  const [limits] = await db
    .select({ backupStaffId: coachingLimits.backupStaffId })
    .from(coachingLimits)
    .where(
      and(
        eq(coachingLimits.clinicId, clinicId),
        eq(coachingLimits.staffId, primaryTherapistId),
        lte(coachingLimits.effectiveFrom, sql`now()`),
      ),
    )
    .orderBy(desc(coachingLimits.effectiveFrom), desc(coachingLimits.version))
    .limit(1);
  return limits?.backupStaffId === staffId;
}

/**
 * The group the caller leads (as leader or co-leader) in which the client is enrolled today, if
 * any: the basis of a skills trainer's group view.
 */
export async function findTrainerGroup(db: DbOrTx, clinicId: string, staffId: string, clientId: string) {
  const today = clinicDateToday(clinicId);
  const [group] = await db
    .select({ id: skillsGroups.id })
    .from(groupEnrollments)
    .innerJoin(skillsGroups, and(eq(skillsGroups.clinicId, groupEnrollments.clinicId), eq(skillsGroups.id, groupEnrollments.groupId)))
    .where(
      and(
        eq(groupEnrollments.clinicId, clinicId),
        eq(groupEnrollments.clientId, clientId),
        lte(groupEnrollments.startDate, today),
        or(isNull(groupEnrollments.endDate), gte(groupEnrollments.endDate, today)),
        or(eq(skillsGroups.leaderId, staffId), sql`${staffId}::uuid = any(${skillsGroups.coLeaderIds})`),
      ),
    )
    .limit(1);
  return group ?? null;
}

/**
 * A client of the clinic, or a 404: the lookup every client route starts with, whatever rule
 * then decides (authorizeClient's relationships, a break-glass request, an enrollment, the access
 * report). A named prepared statement: it runs on nearly every request.
 */
export async function clientOfClinic(db: DbOrTx, clinicId: string, clientId: string): Promise<ClientRow> {
  const [client] = await db
    .select()
    .from(clients)
    .where(and(eq(clients.clinicId, clinicId), eq(clients.id, clientId)))
    .prepare('client_by_id')
    .execute();
  if (!client) throw notFound('Client');
  return client;
}

/**
 * The relationship check for one client, after the route's role check. Deny by default; allow with
 * a basis that goes into the audit record:
 *   - administrators: the registration only (reading and changing it);
 *   - the primary therapist: everything;
 *   - for the group view only, a skills trainer leading a group the client is enrolled in today;
 *   - for coaching only, the backup named in the primary therapist's coaching limits in force;
 *   - for the registration, group, coaching and team views, a current member of a consultation
 *     team that holds the client;
 *   - anyone holding a break-glass grant for the client that is in force now: everything, flagged.
 * A client of another clinic is a 404, never a 403, so its existence is not revealed.
 */
export async function authorizeClient(db: DbOrTx, ctx: AuthedContext, clientId: string, access: ClientAccess): Promise<ClientRow> {
  const client = await clientOfClinic(db, ctx.actor.clinicId, clientId);
  ctx.audit.clientIds.push(client.id);
  const rule = ctx.basis?.rule ?? 'clients';
  if ((access === 'registration' || access === 'registration-change') && ctx.actor.roles.includes('admin')) {
    ctx.basis = { rule, role: 'admin', relationship: 'registration-only' };
    return client;
  }
  if (client.primaryTherapistId === ctx.actor.staffId) {
    ctx.basis = { rule, relationship: 'primary-therapist' };
    return client;
  }
  if (access === 'group' && ctx.actor.roles.includes('skills_trainer')) {
    const group = await findTrainerGroup(db, ctx.actor.clinicId, ctx.actor.staffId, client.id);
    if (group) {
      ctx.basis = { rule, role: 'skills_trainer', relationship: `group-trainer:${group.id}` };
      return client;
    }
  }
  if (
    access === 'coaching' &&
    client.primaryTherapistId &&
    (await coversFor(db, ctx.actor.clinicId, ctx.actor.staffId, client.primaryTherapistId))
  ) {
    ctx.basis = { rule, relationship: `covering-for:${client.primaryTherapistId}` };
    return client;
  }
  if (teamViews.includes(access)) {
    const teamId = await findTeamOfClient(db, ctx.actor.clinicId, ctx.actor.staffId, client);
    if (teamId) {
      ctx.basis = { rule, relationship: `team-member:${teamId}` };
      return client;
    }
  }
  const grant = await findActiveGrant(db, ctx.actor.clinicId, ctx.actor.staffId, client.id);
  if (grant) {
    ctx.basis = { rule, relationship: 'break-glass', grantId: grant.id };
    return client;
  }
  throw new AppError('forbidden', 'You have no care relationship with this client', { denialReason: 'no-relationship' });
}
