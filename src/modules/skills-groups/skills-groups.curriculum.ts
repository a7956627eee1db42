import type { CurriculumBlock } from '../../db/schema/index.js';

/** The common 24-week cycle: mindfulness before each module (Linehan; programs differ, so it is data). */
export const defaultCurriculum: CurriculumBlock[] = [
  { module: 'mindfulness', weeks: 2 },
  { module: 'distress_tolerance', weeks: 6 },
  { module: 'mindfulness', weeks: 2 },
  { module: 'emotion_regulation', weeks: 8 },
  { module: 'mindfulness', weeks: 2 },
  { module: 'interpersonal_effectiveness', weeks: 4 },
];

export interface CurriculumPosition {
  date: string;
  /** Which repetition of the cycle (1-based). */
  cycle: number;
  /** Week of the cycle (1-based) and the date that week starts. */
  cycleWeek: number;
  weekStart: string;
  /** Index of the block in the curriculum (0-based), its module, and the week within it (1-based). */
  block: number;
  module: CurriculumBlock['module'];
  moduleWeek: number;
  moduleWeeks: number;
  /** First day of this block's first week: the module start a new member may join at. */
  moduleStart: string;
  /** First day of the next block (possibly in the next cycle). */
  nextModuleStart: string;
}

const DAY = 86_400_000;
const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY;
const dateOf = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
export const addDays = (date: string, days: number) => dateOf(dayNumber(date) + days);
export const daysBetween = (from: string, to: string) => dayNumber(to) - dayNumber(from);

export const cycleWeeks = (curriculum: CurriculumBlock[]) => curriculum.reduce((sum, block) => sum + block.weeks, 0);

/**
 * Where a group's curriculum stands on a date: week 1 of the cycle is the seven days from the
 * cycle start date, and the cycle repeats. Null before the cycle starts.
 */
export function curriculumPosition(
  group: { cycleStartDate: string; curriculum: CurriculumBlock[] },
  date: string,
): CurriculumPosition | null {
  const elapsed = daysBetween(group.cycleStartDate, date);
  if (elapsed < 0) return null;
  const total = cycleWeeks(group.curriculum);
  const week = Math.floor(elapsed / 7);
  const cycle = Math.floor(week / total);
  const cycleWeek = (week % total) + 1;
  let before = 0;
  let block = 0;
  for (; block < group.curriculum.length; block++) {
    const weeks = (group.curriculum[block] as CurriculumBlock).weeks;
    if (cycleWeek <= before + weeks) break;
    before += weeks;
  }
  const current = group.curriculum[block] as CurriculumBlock;
  const cycleStart = addDays(group.cycleStartDate, cycle * total * 7);
  const moduleStart = addDays(cycleStart, before * 7);
  return {
    date,
    cycle: cycle + 1,
    cycleWeek,
    weekStart: addDays(group.cycleStartDate, week * 7),
    block,
    module: current.module,
    moduleWeek: cycleWeek - before,
    moduleWeeks: current.weeks,
    moduleStart,
    nextModuleStart: addDays(moduleStart, current.weeks * 7),
  };
}

/** ISO weekday of a date: 1 = Monday … 7 = Sunday. */
export const isoWeekday = (date: string) => ((new Date(dayNumber(date) * DAY).getUTCDay() + 6) % 7) + 1;

/** The dates from `from` to `to` (inclusive) that fall on an ISO weekday. */
export function datesOnWeekday(from: string, to: string, weekday: number): string[] {
  const dates: string[] = [];
  for (let date = addDays(from, (weekday - isoWeekday(from) + 7) % 7); date <= to; date = addDays(date, 7)) dates.push(date);
  return dates;
}

/** The cycle week of a module's week in the first block that teaches it; null when no block does. */
export function cycleWeekOf(curriculum: CurriculumBlock[], module: CurriculumBlock['module'], moduleWeek: number): number | null {
  let before = 0;
  for (const block of curriculum) {
    if (block.module === module && moduleWeek <= block.weeks) return before + moduleWeek;
    before += block.weeks;
  }
  return null;
}
