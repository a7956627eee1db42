import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { clinicDateToday } from '../../db/clinic-date.js';
import { executePrepared } from '../../db/prepared.js';
import { type fourMissOverrides, treatmentEpisodes } from '../../db/schema/index.js';
import { uuidArray } from '../../db/uuid-array.js';
import type { AuditNotes } from '../../lib/context.js';
import type { ProgramPolicyRow } from '../programs/programs.queries.js';
import {
  type ClassifiedOccurrence,
  classify,
  countingUnits,
  type Modality,
  type Occurrence,
  policyOn,
  type Streak,
  trailingStreak,
} from './attendance.compute.js';

export type OverrideRow = typeof fourMissOverrides.$inferSelect;

/** The settings of a policy version the four-miss rule reads. */
export type FourMissPolicy = Pick<
  ProgramPolicyRow,
  | 'programId'
  | 'version'
  | 'effectiveFrom'
  | 'fourMissThreshold'
  | 'missCountingUnit'
  | 'countedModalities'
  | 'latenessMissMinutes'
  | 'lateCancelMissHours'
  | 'overrideAllowed'
  | 'weekStartsOn'
>;

/** Where one required modality of an active episode stands. */
export interface ModalityStanding {
  modality: Modality;
  threshold: number;
  unit: ProgramPolicyRow['missCountingUnit'];
  /** Every occurrence loaded, oldest first, each judged by the policy in force on its date. */
  occurrences: ClassifiedOccurrence[];
  streak: Streak;
  /** The override standing for this met streak, if one was recorded. */
  override: OverrideRow | null;
}

export interface EpisodeStanding {
  clientId: string;
  episodeId: string;
  programId: string;
  contractStart: string;
  contractEnd: string | null;
  /** The policy in force on the evaluation date: its threshold, unit and required modalities apply. */
  policy: FourMissPolicy;
  modalities: ModalityStanding[];
  /** Earliest date a modality met the rule without an override, and the modalities that did. */
  metOn: string | null;
  metModalities: Modality[];
  stored: { metOn: string | null; modalities: Modality[]; version: number };
}

type OccurrenceRow = {
  client_id: string;
  modality: Modality;
  id: string;
  date: string;
  at_ms: number | null;
  kind: string | null;
  late_minutes: number | null;
  left_early_minutes: number | null;
  notice_hours: number | null;
  group_id: string | null;
};

type EpisodeRow = {
  id: string;
  clientId: string;
  programId: string;
  contractStart: string;
  contractEnd: string | null;
  fourMissMetOn: string | null;
  fourMissModalities: Modality[];
  version: number;
};

/**
 * Everything the four-miss rule reads for the given clients, in one statement (re-evaluation runs
 * on every attendance write, where each round trip counts): the clinic's date; each active episode;
 * every policy version of their programs, oldest first; the overrides recorded on those episodes;
 * and the scheduled occurrences of both modalities since each episode became active, up to now, in
 * the clinic's time zone (four_miss_occurrences, migrations 0008, 0011 and 0015). With `trailingOnly`,
 * only those from each client's last occurrence that counts as attended under any policy: nothing
 * before it can be part of the trailing streak, so the at-risk list and re-evaluation read a few
 * rows per client instead of a year of them; `since` adds every occurrence from that date on (a
 * report over a recent period).
 */
async function loadEvaluation(db: DbOrTx, clinicId: string, clientIds: string[], trailingOnly: boolean, since: string | null) {
  const ids = uuidArray(clientIds);
  const { rows } = await executePrepared<{
    today: string;
    episodes: EpisodeRow[];
    policies: FourMissPolicy[];
    overrides: Array<Omit<OverrideRow, 'createdAt'> & { createdAt: string }>;
    occurrences: OccurrenceRow[];
  }>(
    db,
    'four_miss_evaluation',
    sql`
    with ep as (
      select e.id, e.client_id, e.program_id, e.contract_start, e.contract_end, e.four_miss_met_on, e.four_miss_modalities, e.version
        from treatment_episodes e
       where e.clinic_id = ${clinicId} and e.status = 'active' and e.contract_start is not null and e.client_id = any(${ids}))
    select
      ((now() at time zone c.time_zone)::date)::text as today,
      (select coalesce(json_agg(json_build_object('id', ep.id, 'clientId', ep.client_id, 'programId', ep.program_id,
          'contractStart', ep.contract_start, 'contractEnd', ep.contract_end, 'fourMissMetOn', ep.four_miss_met_on,
          'fourMissModalities', ep.four_miss_modalities, 'version', ep.version)), '[]') from ep) as episodes,
      (select coalesce(json_agg(json_build_object('programId', p.program_id, 'version', p.version, 'effectiveFrom', p.effective_from,
          'fourMissThreshold', p.four_miss_threshold, 'missCountingUnit', p.miss_counting_unit,
          'countedModalities', p.counted_modalities, 'latenessMissMinutes', p.lateness_miss_minutes,
          'lateCancelMissHours', p.late_cancel_miss_hours, 'overrideAllowed', p.override_allowed,
          'weekStartsOn', p.week_starts_on) order by p.effective_from, p.version), '[]')
         from program_policies p
        where p.clinic_id = ${clinicId} and p.program_id in (select ep.program_id from ep)) as policies,
      (select coalesce(json_agg(json_build_object('clinicId', o.clinic_id, 'id', o.id, 'clientId', o.client_id,
          'episodeId', o.episode_id, 'modality', o.modality, 'metOn', o.met_on, 'streak', o.streak,
          'policyVersion', o.policy_version, 'reason', o.reason, 'overriddenBy', o.overridden_by, 'createdAt', o.created_at)), '[]')
         from four_miss_overrides o
        where o.clinic_id = ${clinicId} and o.episode_id in (select ep.id from ep)) as overrides,
      (select coalesce(json_agg(f order by f.client_id, f.modality, f.date, f.at_ms, f.id), '[]')
         from four_miss_occurrences(${clinicId}, ${ids}, ${trailingOnly}, ${since}::date) f) as occurrences
    from clinics c
   where c.id = ${clinicId}`,
  );
  const row = rows[0];
  if (!row) return null;
  const byClient = new Map<string, Occurrence[]>();
  for (const o of row.occurrences) {
    const list = byClient.get(o.client_id) ?? [];
    list.push({
      modality: o.modality,
      id: o.id,
      date: o.date,
      at: o.at_ms === null ? null : new Date(o.at_ms),
      kind: o.kind,
      lateMinutes: o.late_minutes,
      leftEarlyMinutes: o.left_early_minutes,
      noticeHours: o.notice_hours,
      groupId: o.group_id,
    });
    byClient.set(o.client_id, list);
  }
  const overrides: OverrideRow[] = row.overrides.map((o) => ({ ...o, createdAt: new Date(o.createdAt) }));
  return { today: row.today, episodes: row.episodes, policies: row.policies, overrides, occurrences: byClient };
}

/** Today's date in the clinic's time zone. */
export async function clinicToday(db: DbOrTx, clinicId: string): Promise<string> {
  const result = await db.execute(sql`select (${clinicDateToday(clinicId)})::text as today`);
  return (result.rows[0] as { today: string }).today;
}

/**
 * Evaluates the four-miss rule for the active episodes of the given clients: for each required
 * modality, the occurrences judged by the policy in force on their dates, the trailing streak
 * judged by the policy in force today, and any override of that streak.
 */
export async function evaluateEpisodes(
  db: DbOrTx,
  clinicId: string,
  clientIds: string[],
  options: { trailingOnly: boolean; since?: string },
): Promise<EpisodeStanding[]> {
  const ids = [...new Set(clientIds)];
  if (ids.length === 0) return [];
  const loaded = await loadEvaluation(db, clinicId, ids, options.trailingOnly, options.since ?? null);
  if (!loaded) return [];
  const { today, episodes, policies, overrides, occurrences } = loaded;

  const computed = episodes.flatMap((episode) => {
    const versions = policies.filter((p) => p.programId === episode.programId);
    const policy = policyOn(versions, today);
    if (!policy) return [];
    const own = occurrences.get(episode.clientId) ?? [];
    const modalities = policy.countedModalities.map((modality) => {
      const judged = own.filter((o) => o.modality === modality).map((o) => classify(o, policyOn(versions, o.date) ?? policy));
      const streak = trailingStreak(countingUnits(judged, policy.missCountingUnit, policy.weekStartsOn), policy.fourMissThreshold);
      return { modality, threshold: policy.fourMissThreshold, unit: policy.missCountingUnit, occurrences: judged, streak };
    });
    return [{ episode, policy, modalities }];
  });

  const standings = computed.map(({ episode, policy, modalities: judged }): EpisodeStanding => {
    const modalities = judged.map(
      (m): ModalityStanding => ({
        ...m,
        override: overrides.find((o) => o.episodeId === episode.id && o.modality === m.modality && o.metOn === m.streak.metOn) ?? null,
      }),
    );
    const met = modalities.filter((m) => m.streak.metOn !== null && !m.override);
    return {
      clientId: episode.clientId,
      episodeId: episode.id,
      programId: episode.programId,
      contractStart: episode.contractStart as string,
      contractEnd: episode.contractEnd,
      policy,
      modalities,
      metOn: met.map((m) => m.streak.metOn as string).sort()[0] ?? null,
      metModalities: met.map((m) => m.modality),
      stored: { metOn: episode.fourMissMetOn, modalities: episode.fourMissModalities, version: episode.version },
    };
  });
  return standings;
}

/**
 * Re-evaluates the four-miss rule for the given clients after a write that may change their
 * attendance (group attendance, a group session cancelled, an enrollment ended, an individual
 * session's attendance, a policy change), inside the writing transaction. Marks each active
 * episode four-miss-met with the date, or clears the mark when corrected attendance or an
 * override brings every streak back under the threshold. Returns the episodes that changed, and
 * records them on the request's audit record when given its notes.
 */
export async function reevaluateFourMiss(tx: DbOrTx, clinicId: string, clientIds: string[], audit?: AuditNotes) {
  const standings = await evaluateEpisodes(tx, clinicId, clientIds, { trailingOnly: true });
  const changed = standings.filter(
    (s) => s.metOn !== s.stored.metOn || [...s.metModalities].sort().join(',') !== [...s.stored.modalities].sort().join(','),
  );
  for (const standing of changed) {
    await tx
      .update(treatmentEpisodes)
      .set({
        fourMissMetOn: standing.metOn,
        fourMissModalities: [...standing.metModalities].sort(),
        version: sql`${treatmentEpisodes.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(treatmentEpisodes.clinicId, clinicId), eq(treatmentEpisodes.id, standing.episodeId)));
  }
  const marks = changed.map((s) => ({
    episodeId: s.episodeId,
    clientId: s.clientId,
    metOn: s.metOn,
    modalities: [...s.metModalities].sort(),
  }));
  if (audit && marks.length > 0) {
    audit.fourMiss = [...(audit.fourMiss ?? []), ...marks];
    for (const mark of marks) if (!audit.clientIds.includes(mark.clientId)) audit.clientIds.push(mark.clientId);
  }
  return marks;
}
