import { and, eq, isNull, or, type SQL, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinicDateToday } from '../../db/clinic-date.js';
import { clients, fourMissOverrides, groupEnrollments, skillsGroups } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import { lockClient } from '../treatment/episodes.queries.js';
import type { Modality } from './attendance.compute.js';
import {
  clinicToday,
  type EpisodeStanding,
  evaluateEpisodes,
  type ModalityStanding,
  type OverrideRow,
  reevaluateFourMiss,
} from './attendance.queries.js';
import type { AtRiskQuery, AtRiskResponse, AttendanceReport, OverrideBody } from './attendance.schema.js';

const toOverride = (row: OverrideRow) => ({
  id: row.id,
  metOn: row.metOn,
  streak: row.streak,
  policyVersion: row.policyVersion,
  reason: row.reason,
  overriddenBy: row.overriddenBy,
  createdAt: row.createdAt,
});

const standingSummary = (m: ModalityStanding) => ({
  modality: m.modality,
  threshold: m.threshold,
  unit: m.unit,
  streak: m.streak.length,
  status: m.streak.status,
  metOn: m.streak.metOn,
  override: m.override ? toOverride(m.override) : null,
});

function toReport(clientId: string, standing: EpisodeStanding | undefined, only?: Modality): AttendanceReport {
  if (!standing) {
    return {
      clientId,
      episodeId: null,
      contractStart: null,
      contractEnd: null,
      policyVersion: null,
      overrideAllowed: null,
      fourMissMetOn: null,
      proposedDischarge: null,
      modalities: [],
    };
  }
  const modalities = standing.modalities.filter((m) => !only || m.modality === only);
  const metOn = only ? (modalities.find((m) => m.streak.metOn && !m.override)?.streak.metOn ?? null) : standing.metOn;
  return {
    clientId,
    episodeId: standing.episodeId,
    contractStart: standing.contractStart,
    contractEnd: standing.contractEnd,
    policyVersion: standing.policy.version,
    overrideAllowed: standing.policy.overrideAllowed,
    fourMissMetOn: metOn,
    proposedDischarge: metOn ? { reason: 'four_miss', on: metOn, reEntryEligibleOn: standing.contractEnd } : null,
    modalities: modalities.map((m) => {
      const inStreak = new Set(m.streak.units.flatMap((u) => u.occurrenceIds));
      return {
        ...standingSummary(m),
        streakUnits: m.streak.units.map((u) => ({ start: u.start, last: u.last, occurrenceIds: u.occurrenceIds })),
        unrecorded: m.occurrences.filter((o) => o.outcome === 'unrecorded').length,
        occurrences: m.occurrences.map((o) => ({
          id: o.id,
          modality: o.modality,
          groupId: o.groupId,
          date: o.date,
          at: o.at,
          recorded: o.kind,
          lateMinutes: o.lateMinutes,
          leftEarlyMinutes: o.leftEarlyMinutes,
          noticeHours: o.noticeHours,
          outcome: o.outcome,
          reason: o.reason,
          policyVersion: o.policyVersion,
          inStreak: inStreak.has(o.id),
        })),
      };
    }),
  };
}

/** A skills trainer sees the group modality of a client; the primary therapist and break-glass see every modality. */
const visibleModality = (ctx: AuthedContext): Modality | undefined =>
  ctx.basis?.relationship?.startsWith('group-trainer') ? 'skills_group' : undefined;

/** The four-miss report of one client: every occurrence since the episode became active, judged and counted. */
export async function readAttendance(db: Db, ctx: AuthedContext, clientId: string): Promise<AttendanceReport> {
  await authorizeClient(db, ctx, clientId, 'group');
  const [standing] = await evaluateEpisodes(db, ctx.actor.clinicId, [clientId], { trailingOnly: false });
  ctx.audit.resourceId = standing?.episodeId;
  return toReport(clientId, standing, visibleModality(ctx));
}

/**
 * Active clients whose streak is at warning or met in a modality, clinic-wide but only as far as
 * the caller's relationships reach: a therapist's own clients (every modality), a skills
 * trainer's current group members (the group modality). Met before warning, longer streaks first.
 */
export async function listAtRisk(db: Db, ctx: AuthedContext, query: AtRiskQuery): Promise<AtRiskResponse> {
  const { clinicId, staffId, roles } = ctx.actor;
  const reach: SQL[] = [];
  if (roles.includes('therapist')) reach.push(sql`${clients.primaryTherapistId} = ${staffId}`);
  const leadsClient = sql`exists (select 1 from ${groupEnrollments} en join ${skillsGroups} g on g.clinic_id = en.clinic_id and g.id = en.group_id
    where en.clinic_id = ${clients.clinicId} and en.client_id = ${clients.id} and en.start_date <= ${clinicDateToday(clinicId)}
      and (en.end_date is null or en.end_date >= ${clinicDateToday(clinicId)}) and (g.leader_id = ${staffId} or ${staffId}::uuid = any(g.co_leader_ids)))`;
  if (roles.includes('skills_trainer')) reach.push(leadsClient);
  ctx.basis = { rule: ctx.basis?.rule ?? 'attendance.read', relationship: 'own-clients-and-group-members' };
  const today = await clinicToday(db, clinicId);
  if (reach.length === 0) {
    ctx.audit.resultCount = 0;
    return { evaluatedOn: today, items: [] };
  }
  const visible = await db
    .select({
      id: clients.id,
      givenName: clients.givenName,
      familyName: clients.familyName,
      preferredName: clients.preferredName,
      primaryTherapistId: clients.primaryTherapistId,
      programId: clients.programId,
    })
    .from(clients)
    .where(
      and(
        eq(clients.clinicId, clinicId),
        eq(clients.status, 'active'),
        isNull(clients.enteredInErrorAt),
        query.programId ? eq(clients.programId, query.programId) : undefined,
        or(...reach),
      ),
    );
  const byId = new Map(visible.map((c) => [c.id, c]));
  const standings = await evaluateEpisodes(db, clinicId, [...byId.keys()], { trailingOnly: true });
  const items: AtRiskResponse['items'] = [];
  for (const standing of standings) {
    const client = byId.get(standing.clientId);
    if (!client) continue;
    const groupOnly = client.primaryTherapistId !== staffId;
    const modalities = standing.modalities
      .filter((m) => (!groupOnly || m.modality === 'skills_group') && (!query.modality || m.modality === query.modality))
      .filter((m) => (query.status ? m.streak.status === query.status : m.streak.status !== 'ok'))
      .map((m) => ({ ...standingSummary(m), lastOccurrenceOn: m.occurrences.at(-1)?.date ?? null }));
    if (modalities.length === 0) continue;
    const { programId: _program, ...shown } = client;
    items.push({ client: shown, episodeId: standing.episodeId, programId: standing.programId, fourMissMetOn: standing.metOn, modalities });
  }
  const rank = (item: (typeof items)[number]) => Math.max(...item.modalities.map((m) => (m.status === 'met' ? 1000 : 0) + m.streak));
  items.sort(
    (a, b) => rank(b) - rank(a) || a.client.familyName.localeCompare(b.client.familyName) || a.client.id.localeCompare(b.client.id),
  );
  ctx.audit.clientIds.push(...items.map((item) => item.client.id));
  ctx.audit.resultCount = items.length;
  return { evaluatedOn: today, items };
}

async function standingFor(tx: DbOrTx, ctx: AuthedContext, clientId: string, modality: Modality) {
  const [standing] = await evaluateEpisodes(tx, ctx.actor.clinicId, [clientId], { trailingOnly: true });
  if (!standing) throw new AppError('conflict', 'The client has no active treatment episode, so the four-miss rule does not apply');
  const found = standing.modalities.find((m) => m.modality === modality);
  if (!found) {
    throw invalidField('modality', `is not counted by policy version ${standing.policy.version} of the client's program`);
  }
  return { standing, found };
}

/**
 * Overrides a met streak, only where the program policy in force allows it, with a reason. The
 * override names the streak by the date it was met; the episode's four-miss mark is cleared, and
 * the record says which policy version allowed it.
 */
export function overrideFourMiss(db: Db, ctx: AuthedContext, clientId: string, input: OverrideBody): Promise<AttendanceReport> {
  return auditedTransaction(db, ctx, async (tx) => {
    const clinicId = ctx.actor.clinicId;
    await authorizeClient(tx, ctx, clientId, 'clinical');
    await lockClient(tx, clinicId, clientId);
    const { standing, found } = await standingFor(tx, ctx, clientId, input.modality);
    ctx.audit.resourceId = standing.episodeId;
    const { streak } = found;
    if (!streak.metOn) {
      throw new AppError(
        'conflict',
        `The ${input.modality} streak is ${streak.length} of ${found.threshold}: the rule is not met, so there is nothing to override`,
      );
    }
    if (found.override) throw new AppError('conflict', `This ${input.modality} streak (met on ${streak.metOn}) was already overridden`);
    if (!standing.policy.overrideAllowed) {
      throw new AppError(
        'conflict',
        `Policy version ${standing.policy.version} of the client's program does not allow overriding the four-miss rule`,
      );
    }
    await tx.insert(fourMissOverrides).values({
      clinicId,
      id: uuidv7(),
      clientId,
      episodeId: standing.episodeId,
      modality: input.modality,
      metOn: streak.metOn,
      streak: streak.length,
      policyVersion: standing.policy.version,
      reason: input.reason,
      overriddenBy: ctx.actor.staffId,
    });
    await reevaluateFourMiss(tx, clinicId, [clientId], ctx.audit);
    ctx.audit.details = {
      modality: input.modality,
      metOn: streak.metOn,
      streak: streak.length,
      basis: { policyVersion: standing.policy.version, overrideAllowed: true },
    };
    const [after] = await evaluateEpisodes(tx, clinicId, [clientId], { trailingOnly: false });
    return toReport(clientId, after, visibleModality(ctx));
  });
}
