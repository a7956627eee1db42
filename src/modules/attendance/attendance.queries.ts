import { and, asc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { clinicDateToday } from '../../db/clinic-date.js';
import { clinics, fourMissOverrides, programPolicies, treatmentEpisodes } from '../../db/schema/index.js';
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

/**
 * The scheduled occurrences of both modalities since each episode became active, up to now, in
 * the clinic's time zone (four_miss_occurrences, migrations 0008 and 0011). With `trailingOnly`, only those
 * from each client's last occurrence that counts as attended under any policy: nothing before it
 * can be part of the trailing streak, so the at-risk list and re-evaluation read a few rows per
 * client instead of a year of them; `since` adds every occurrence from that date on (a report over
 * a recent period).
 */
async function loadOccurrences(db: DbOrTx, clinicId: string, clientIds: string[], trailingOnly: boolean, since: string | null) {
  const result = await db.execute(
    sql`select * from four_miss_occurrences(${clinicId}, ${uuidArray(clientIds)}, ${trailingOnly}, ${since}::date)`,
  );
  const byClient = new Map<string, Occurrence[]>();
  for (const row of result.rows as OccurrenceRow[]) {
    const list = byClient.get(row.client_id) ?? [];
    list.push({
      modality: row.modality,
      id: row.id,
      date: row.date,
      at: row.at_ms === null ? null : new Date(Number(row.at_ms)),
      kind: row.kind,
      lateMinutes: row.late_minutes,
      leftEarlyMinutes: row.left_early_minutes,
      noticeHours: row.notice_hours,
      groupId: row.group_id,
    });
    byClient.set(row.client_id, list);
  }
  return byClient;
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
  // Each active episode with every policy version of its program (and the clinic's date), in one
  // query: re-evaluation runs on every attendance write, where each round trip counts.
  const te = treatmentEpisodes;
  const pp = programPolicies;
  const rows = await db
    .select({
      episode: {
        id: te.id,
        clientId: te.clientId,
        programId: te.programId,
        contractStart: te.contractStart,
        contractEnd: te.contractEnd,
        fourMissMetOn: te.fourMissMetOn,
        fourMissModalities: te.fourMissModalities,
        version: te.version,
      },
      policy: {
        programId: pp.programId,
        version: pp.version,
        effectiveFrom: pp.effectiveFrom,
        fourMissThreshold: pp.fourMissThreshold,
        missCountingUnit: pp.missCountingUnit,
        countedModalities: pp.countedModalities,
        latenessMissMinutes: pp.latenessMissMinutes,
        lateCancelMissHours: pp.lateCancelMissHours,
        overrideAllowed: pp.overrideAllowed,
        weekStartsOn: pp.weekStartsOn,
      },
      today: sql<string>`((now() at time zone ${clinics.timeZone})::date)::text`,
    })
    .from(treatmentEpisodes)
    .innerJoin(clinics, eq(clinics.id, treatmentEpisodes.clinicId))
    .innerJoin(
      programPolicies,
      and(eq(programPolicies.clinicId, treatmentEpisodes.clinicId), eq(programPolicies.programId, treatmentEpisodes.programId)),
    )
    .where(
      and(
        eq(treatmentEpisodes.clinicId, clinicId),
        eq(treatmentEpisodes.status, 'active'),
        sql`${te.clientId} = any(${uuidArray(ids)})`,
        isNotNull(treatmentEpisodes.contractStart),
      ),
    )
    .orderBy(asc(programPolicies.effectiveFrom), asc(programPolicies.version));
  const today = rows[0]?.today;
  if (!today) return [];
  const episodes = [...new Map(rows.map((row) => [row.episode.id, row.episode])).values()];
  const policies = [...new Map(rows.map((row) => [`${row.policy.programId}:${row.policy.version}`, row.policy])).values()];
  const occurrences = await loadOccurrences(
    db,
    clinicId,
    episodes.map((e) => e.clientId),
    options.trailingOnly,
    options.since ?? null,
  );

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

  // Overrides matter only for met streaks, which are rare: read them only then.
  const metEpisodes = computed.filter((c) => c.modalities.some((m) => m.streak.metOn !== null)).map((c) => c.episode.id);
  const overrides =
    metEpisodes.length === 0
      ? []
      : await db
          .select()
          .from(fourMissOverrides)
          .where(and(eq(fourMissOverrides.clinicId, clinicId), inArray(fourMissOverrides.episodeId, metEpisodes)));

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
