import type { missCountingUnits, modalities } from '../../db/schema/index.js';
import type { ProgramPolicyRow } from '../programs/programs.queries.js';

export type Modality = (typeof modalities)[number];
export type Outcome = 'miss' | 'attended' | 'neutral' | 'unrecorded';

/** One scheduled occurrence of a modality, as stored: an individual session or a group session the client was enrolled for. */
export interface Occurrence {
  modality: Modality;
  id: string;
  /** Local date (clinic time zone) and, for ordering within a day, the start time when known. */
  date: string;
  at: Date | null;
  /** Individual: the session's attendance; group: the attendance status, 'cancelled_by_clinic' or null when unrecorded. */
  kind: string | null;
  lateMinutes: number | null;
  leftEarlyMinutes: number | null;
  noticeHours: number | null;
  groupId: string | null;
}

export interface ClassifiedOccurrence extends Occurrence {
  outcome: Outcome;
  /** Why, in the words of the policy: e.g. late-past-threshold, clinic-cancelled. */
  reason: string;
  /** The policy version the occurrence was judged by: the one in force on its date. */
  policyVersion: number;
}

type Policy = Pick<ProgramPolicyRow, 'version' | 'effectiveFrom' | 'latenessMissMinutes' | 'lateCancelMissHours'>;

const atLeast = (value: number | null, threshold: number | null) => threshold !== null && value !== null && value >= threshold;

/**
 * Classifies one occurrence by the policy in force on its date:
 *   - attended, or present: attended;
 *   - late (or left early) by at least the policy's lateness minutes: a miss; otherwise attended;
 *   - no-show, absent without notice: a miss;
 *   - cancelled by the client, or absent with notice: a miss when the notice was shorter than the
 *     policy's late-cancel hours (or is unknown while the policy sets them); otherwise neutral;
 *   - cancelled by the clinic, rescheduled: neutral (not scheduled therapy that week);
 *   - nothing recorded yet for a past occurrence: unrecorded (neither breaks nor extends a streak).
 */
export function classify(occurrence: Occurrence, policy: Policy): ClassifiedOccurrence {
  const judged = (outcome: Outcome, reason: string) => ({ ...occurrence, outcome, reason, policyVersion: policy.version });
  const lateness = policy.latenessMissMinutes;
  const lateCancel = policy.lateCancelMissHours;
  switch (occurrence.kind) {
    case 'attended':
    case 'present':
      return judged('attended', 'attended');
    case 'late':
      return atLeast(occurrence.lateMinutes, lateness)
        ? judged('miss', 'late-past-threshold')
        : judged('attended', 'late-within-threshold');
    case 'left_early':
      return atLeast(occurrence.leftEarlyMinutes, lateness)
        ? judged('miss', 'left-early-past-threshold')
        : judged('attended', 'left-early-within-threshold');
    case 'no_show':
      return judged('miss', 'no-show');
    case 'absent':
      return judged('miss', 'absent');
    case 'cancelled_by_client':
    case 'absent_with_notice':
      if (lateCancel === null) return judged('neutral', 'cancelled-with-notice');
      return occurrence.noticeHours !== null && occurrence.noticeHours >= lateCancel
        ? judged('neutral', 'cancelled-with-notice')
        : judged('miss', 'late-cancellation');
    case 'cancelled_by_clinic':
      return judged('neutral', 'clinic-cancelled');
    case 'rescheduled':
      return judged('neutral', 'rescheduled');
    default:
      return judged('unrecorded', 'not-recorded');
  }
}

/** The policy version in force on a date: the latest effective on or before it (versions sorted by effectiveFrom, version). */
export function policyOn<P extends Policy>(versions: P[], date: string): P | undefined {
  let found: P | undefined;
  for (const policy of versions) if (policy.effectiveFrom <= date) found = policy;
  return found;
}

/** A unit of counting: one occurrence, or one week of them. */
export interface CountingUnit {
  outcome: Outcome;
  /** The week's first day, or the occurrence's date. */
  start: string;
  /** The last day with an occurrence in the unit. */
  last: string;
  /** The occurrences that decided the unit's outcome (a missed week: its misses). */
  occurrenceIds: string[];
}

const DAY = 86_400_000;

/** The start of the week holding a date, weeks starting on an ISO weekday (1 = Monday … 7 = Sunday). */
export function weekStartOf(date: string, weekStartsOn: number): string {
  const day = Date.parse(`${date}T00:00:00Z`) / DAY;
  // Day 0 of the epoch (1970-01-01) was a Thursday, ISO weekday 4.
  const isoWeekday = ((day + 3) % 7) + 1;
  return new Date((day - ((isoWeekday - weekStartsOn + 7) % 7)) * DAY).toISOString().slice(0, 10);
}

const weekOutcome = (outcomes: Outcome[]): Outcome => {
  if (outcomes.includes('attended')) return 'attended';
  if (outcomes.includes('unrecorded')) return 'unrecorded';
  if (outcomes.includes('miss')) return 'miss';
  return 'neutral';
};

/**
 * Groups classified occurrences (sorted by time) into counting units. By sessions, each occurrence
 * is a unit. By scheduled weeks, a week is attended if any occurrence in it was attended, a miss
 * only if every scheduled occurrence in it was missed (neutral ones aside), and pending while any
 * is unrecorded.
 */
export function countingUnits(
  occurrences: ClassifiedOccurrence[],
  unit: (typeof missCountingUnits)[number],
  weekStartsOn: number,
): CountingUnit[] {
  if (unit === 'consecutive_sessions') {
    return occurrences.map((o) => ({ outcome: o.outcome, start: o.date, last: o.date, occurrenceIds: [o.id] }));
  }
  const weeks = new Map<string, ClassifiedOccurrence[]>();
  for (const o of occurrences) {
    const start = weekStartOf(o.date, weekStartsOn);
    const week = weeks.get(start);
    if (week) week.push(o);
    else weeks.set(start, [o]);
  }
  return [...weeks.entries()].map(([start, list]) => {
    const outcome = weekOutcome(list.map((o) => o.outcome));
    // The occurrences that decided the week: its attended ones, or its misses.
    const deciding = list.filter((o) => o.outcome === outcome);
    return {
      outcome,
      start,
      last: (list.at(-1) as ClassifiedOccurrence).date,
      occurrenceIds: (deciding.length ? deciding : list).map((o) => o.id),
    };
  });
}

export interface Streak {
  /** Consecutive missed units at the end, skipping neutral and unrecorded ones. */
  length: number;
  /** The missed units that make it, oldest first. */
  units: CountingUnit[];
  /** When the streak reached the threshold: the last day of the unit that made it, or null. */
  metOn: string | null;
  status: 'ok' | 'warning' | 'met';
}

/** The trailing run of misses, and what it means against the threshold (warning at threshold − 1). */
export function trailingStreak(units: CountingUnit[], threshold: number): Streak {
  const run: CountingUnit[] = [];
  for (let i = units.length - 1; i >= 0; i--) {
    const unit = units[i] as CountingUnit;
    if (unit.outcome === 'attended') break;
    if (unit.outcome === 'miss') run.unshift(unit);
  }
  const metOn = run.length >= threshold ? (run[threshold - 1] as CountingUnit).last : null;
  const status = run.length >= threshold ? 'met' : threshold > 1 && run.length >= threshold - 1 ? 'warning' : 'ok';
  return { length: run.length, units: run, metOn, status };
}
