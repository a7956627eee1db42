import type { DiaryDayEntry } from '../../db/schema/index.js';
import type { DiaryDayBody } from './diary-cards.schema.js';

/**
 * Pure rules for diary-card days: how entries for the same day merge, which day a week starts on,
 * and when a day counts as back-filled. No database here, so the rules read (and test) on their own.
 */

type Action = DiaryDayEntry['targets'][number]['action'];
type Dose = { name: string; amount: string };

/** A submitted day as stored: what was left out is null (not reported), each target with its version in force. */
export function entryFrom(body: DiaryDayBody, targetVersions: Map<string, number>): DiaryDayEntry {
  return {
    targets: (body.targets ?? []).map((t) => ({
      targetId: t.targetId,
      targetVersion: targetVersions.get(t.targetId) ?? 0,
      urge: t.urge ?? null,
      action: t.action ?? null,
    })),
    emotions: { ...body.emotions },
    substances: {
      alcoholDrinks: body.substances?.alcoholDrinks ?? null,
      drugs: body.substances?.drugs ?? [],
      prn: body.substances?.prn ?? [],
      prescribedTaken: body.substances?.prescribedTaken ?? null,
    },
    skillsOverall: body.skillsOverall ?? null,
    skillIds: [...new Set(body.skillIds ?? [])],
    urgeToQuit: body.urgeToQuit ?? null,
    notes: body.notes?.trim() ? body.notes : null,
  };
}

/** Separates notes written in different entries for the same day. */
export const NOTES_SEPARATOR = '\n---\n';

const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** The behaviour happened: yes, or a count above zero. */
export const actionTaken = (action: Action) => action === true || (typeof action === 'number' && action > 0);

/**
 * Yes wins over no, the larger count over the smaller; a count above zero is more than a bare yes,
 * and a yes is more than a count of zero.
 */
export function mergeAction(a: Action, b: Action): Action {
  if (a === null) return b;
  if (b === null) return a;
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a || b;
  const count = (typeof a === 'number' ? a : b) as number;
  const flag = (typeof a === 'boolean' ? a : b) as boolean;
  return count > 0 ? count : flag;
}

/**
 * "Not taken" is the clinically significant report about prescribed medication, so it wins over
 * "taken": one missed dose that day is what the therapist needs to see.
 */
const mergePrescribed = (a: boolean | null, b: boolean | null) => (a === false || b === false ? false : (a ?? b));

const leadingNumber = (amount: string) => Number.parseFloat(amount.replace(',', '.'));

/**
 * Union by name (case-insensitive). For a name in both, the larger amount when both amounts start
 * with a number ("2 mg" vs "4 mg"); otherwise, or on a tie, the amount given last, as written.
 */
function mergeDoses(earlier: Dose[], later: Dose[]): Dose[] {
  const byName = new Map<string, Dose>();
  for (const dose of [...earlier, ...later]) {
    const key = dose.name.trim().toLowerCase();
    const known = byName.get(key);
    if (!known) {
      byName.set(key, dose);
      continue;
    }
    const [was, now] = [leadingNumber(known.amount), leadingNumber(dose.amount)];
    const keepKnown = Number.isFinite(was) && Number.isFinite(now) && was > now;
    if (!keepKnown) byName.set(key, { name: known.name, amount: dose.amount });
  }
  return [...byName.values()];
}

function mergeNotes(a: string | null, b: string | null): string | null {
  if (!a) return b || a;
  if (!b || a === b || a.split(NOTES_SEPARATOR).includes(b)) return a;
  return `${a}${NOTES_SEPARATOR}${b}`;
}

/**
 * Two entries for the same day become one, by maximum: numbers take the higher value, yes/no the
 * yes (except "prescribed taken", where no wins), lists their union, notes both texts. Nothing an
 * earlier entry said is lost. Each target keeps the version named by the later entry.
 */
export function mergeEntries(earlier: DiaryDayEntry, later: DiaryDayEntry): DiaryDayEntry {
  const targets = new Map(earlier.targets.map((t) => [t.targetId, t]));
  for (const t of later.targets) {
    const known = targets.get(t.targetId);
    targets.set(
      t.targetId,
      known
        ? {
            targetId: t.targetId,
            targetVersion: t.targetVersion,
            urge: maxOf(known.urge, t.urge),
            action: mergeAction(known.action, t.action),
          }
        : t,
    );
  }
  const emotions = { ...earlier.emotions };
  for (const [name, value] of Object.entries(later.emotions)) emotions[name] = maxOf(emotions[name] ?? null, value) as number;
  return {
    targets: [...targets.values()],
    emotions,
    substances: {
      alcoholDrinks: maxOf(earlier.substances.alcoholDrinks, later.substances.alcoholDrinks),
      drugs: mergeDoses(earlier.substances.drugs, later.substances.drugs),
      prn: mergeDoses(earlier.substances.prn, later.substances.prn),
      prescribedTaken: mergePrescribed(earlier.substances.prescribedTaken, later.substances.prescribedTaken),
    },
    skillsOverall: maxOf(earlier.skillsOverall, later.skillsOverall),
    skillIds: [...new Set([...earlier.skillIds, ...later.skillIds])],
    urgeToQuit: maxOf(earlier.urgeToQuit, later.urgeToQuit),
    notes: mergeNotes(earlier.notes, later.notes),
  };
}

const DAY_MS = 86_400_000;
const dayStart = (date: string) => Date.parse(`${date}T00:00:00Z`);

export const addDays = (date: string, days: number) => new Date(dayStart(date) + days * DAY_MS).toISOString().slice(0, 10);

/** A real calendar date in YYYY-MM-DD, or null. */
export const asDate = (value: string) =>
  /^\d{4}-\d\d-\d\d$/.test(value) && !Number.isNaN(Date.parse(value)) && addDays(value, 0) === value ? value : null;

/** ISO weekday of a date: 1 = Monday … 7 = Sunday. */
export const isoWeekday = (date: string) => new Date(dayStart(date)).getUTCDay() || 7;

/** The first day of the week holding `date`, for weeks starting on ISO weekday `weekStartsOn`. */
export const weekStartOf = (date: string, weekStartsOn: number) => addDays(date, -((isoWeekday(date) - weekStartsOn + 7) % 7));

/** Entered after the end of the day following its date (UTC): more than a day late. */
export const isBackFilled = (date: string, firstEnteredAt: Date) => firstEnteredAt.getTime() >= dayStart(date) + 2 * DAY_MS;

/**
 * The latest date that has begun somewhere on Earth (UTC+14): a client east of UTC may enter their
 * today before it is today in UTC, but nobody can enter a day that has not started anywhere.
 */
export const latestStartedDate = (now: Date) => new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
