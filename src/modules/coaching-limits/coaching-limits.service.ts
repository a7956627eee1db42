import { and, desc, eq } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { type AvailabilityWindow, coachingChannels, coachingLimits, staff } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { type CoachingLimitsRow, limitsInForce } from './coaching-limits.queries.js';
import type { ChangeCoachingLimitsBody, CoachingLimitsResponse } from './coaching-limits.schema.js';

const toResponse = (row: CoachingLimitsRow): CoachingLimitsResponse => ({
  staffId: row.staffId,
  version: row.version,
  effectiveFrom: row.effectiveFrom,
  windows: row.windows,
  channels: row.channels,
  maxMinutes: row.maxMinutes,
  responseMinutes: row.responseMinutes,
  backupStaffId: row.backupStaffId,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
});

/** The settings a version holds, compared between versions for the audit's before/after. */
const settingKeys = ['effectiveFrom', 'windows', 'channels', 'maxMinutes', 'responseMinutes', 'backupStaffId'] as const;

async function findStaffMember(db: DbOrTx, ctx: AuthedContext, id: string, lock = false) {
  ctx.audit.resourceId = id;
  const select = db
    .select({ id: staff.id, roles: staff.roles, active: staff.active })
    .from(staff)
    .where(and(eq(staff.clinicId, ctx.actor.clinicId), eq(staff.id, id)));
  const [member] = lock ? await select.for('update') : await select;
  if (!member) throw notFound('Staff member');
  return member;
}

async function versionsOf(db: DbOrTx, clinicId: string, staffId: string, limit?: number): Promise<CoachingLimitsRow[]> {
  const select = db
    .select()
    .from(coachingLimits)
    .where(and(eq(coachingLimits.clinicId, clinicId), eq(coachingLimits.staffId, staffId)))
    .orderBy(desc(coachingLimits.version));
  return limit ? select.limit(limit) : select;
}

/** The limits in force at an instant (now unless `at` names one), with the latest version for If-Match. */
export async function readCoachingLimits(db: Db, ctx: AuthedContext, id: string, at: Date | undefined) {
  await findStaffMember(db, ctx, id);
  const inForce = await limitsInForce(db, ctx.actor.clinicId, id, at ?? ctx.receivedAt);
  if (!inForce) {
    const [first] = await db
      .select({ effectiveFrom: coachingLimits.effectiveFrom })
      .from(coachingLimits)
      .where(and(eq(coachingLimits.clinicId, ctx.actor.clinicId), eq(coachingLimits.staffId, id)))
      .orderBy(coachingLimits.effectiveFrom)
      .limit(1);
    const when = first ? `; the first takes effect at ${first.effectiveFrom.toISOString()}` : '';
    throw new AppError('not_found', `This staff member has no coaching limits stated${at ? ` at ${at.toISOString()}` : ''}${when}`);
  }
  const [latest] = await versionsOf(db, ctx.actor.clinicId, id, 1);
  ctx.audit.resultCount = 1;
  return { limits: toResponse(inForce), latestVersion: latest?.version ?? inForce.version };
}

export async function listCoachingLimitsVersions(db: Db, ctx: AuthedContext, id: string) {
  await findStaffMember(db, ctx, id);
  const versions = await versionsOf(db, ctx.actor.clinicId, id);
  ctx.audit.resultCount = versions.length;
  return { items: versions.map(toResponse) };
}

/** Lists in one order (weekday then start; the channel enum's), so a reordering is not a change of limits. */
function canonical(input: Omit<ChangeCoachingLimitsBody, 'effectiveFrom'>) {
  const windows: AvailabilityWindow[] = [...input.windows]
    .map(({ weekday, from, to }) => ({ weekday, from, to }))
    .sort((a, b) => a.weekday - b.weekday || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { ...input, windows, channels: coachingChannels.filter((channel) => input.channels.includes(channel)) };
}

/** The audit's before/after: only what differs from the version replaced (everything, for the first). */
function changesBetween(before: CoachingLimitsRow | undefined, after: CoachingLimitsRow) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of settingKeys) {
    if (JSON.stringify(before?.[key] ?? null) !== JSON.stringify(after[key]))
      changes[key] = { from: before?.[key] ?? null, to: after[key] };
  }
  return changes;
}

async function checkBackup(tx: DbOrTx, ctx: AuthedContext, staffId: string, backupStaffId: string | null) {
  if (backupStaffId === null) return;
  if (backupStaffId === staffId) throw invalidField('backupStaffId', 'the backup must be someone other than the staff member');
  const [backup] = await tx
    .select({ roles: staff.roles, active: staff.active })
    .from(staff)
    .where(and(eq(staff.clinicId, ctx.actor.clinicId), eq(staff.id, backupStaffId)));
  if (!backup?.active || !backup.roles.includes('therapist')) {
    throw invalidField('backupStaffId', 'must be an active therapist of the clinic');
  }
}

/**
 * A change of limits is a new version from its effective moment; earlier ones stay as they were,
 * so contacts keep the judgement they were given. The staff row is locked so two changes made from
 * the same version cannot both succeed: the second gets 412 (or 428, racing a first version).
 */
export function changeCoachingLimits(db: Db, ctx: AuthedContext, id: string, ifMatch: string | undefined, input: ChangeCoachingLimitsBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const member = await findStaffMember(tx, ctx, id, true);
    if (!ctx.actor.roles.includes('admin') && id !== ctx.actor.staffId) {
      throw new AppError('forbidden', 'A therapist states only their own coaching limits', { denialReason: 'not-own-limits' });
    }
    if (!member.active || !member.roles.includes('therapist')) {
      throw new AppError('conflict', 'Coaching limits are stated only for an active therapist; this staff member is not one');
    }
    const [latest] = await versionsOf(tx, ctx.actor.clinicId, id, 1);
    if (latest) checkIfMatch(ifMatch, latest.version);
    else if (ifMatch)
      throw new AppError('precondition_failed', 'This staff member has no coaching limits yet; send the first without If-Match');
    const { effectiveFrom = ctx.receivedAt, ...settings } = input;
    await checkBackup(tx, ctx, id, settings.backupStaffId);
    const [created] = await tx
      .insert(coachingLimits)
      .values({
        clinicId: ctx.actor.clinicId,
        staffId: id,
        version: (latest?.version ?? 0) + 1,
        effectiveFrom,
        ...canonical(settings),
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const row = created as CoachingLimitsRow;
    // A first version answers 201; the audit record, written in this transaction, must say so.
    if (!latest) ctx.audit.status = 201;
    ctx.audit.details = { version: row.version, changes: changesBetween(latest, row) };
    return { limits: toResponse(row), created: !latest };
  });
}
