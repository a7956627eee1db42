import { and, desc, eq, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { clinicTimeZone } from '../../db/clinic-date.js';
import { type AvailabilityWindow, coachingLimits } from '../../db/schema/index.js';

export type CoachingLimitsRow = typeof coachingLimits.$inferSelect;

/** The version in force at an instant: the latest with effectiveFrom <= at (ties: highest version). */
export async function limitsInForce(db: DbOrTx, clinicId: string, staffId: string, at: Date): Promise<CoachingLimitsRow | undefined> {
  const [limits] = await db
    .select()
    .from(coachingLimits)
    .where(and(eq(coachingLimits.clinicId, clinicId), eq(coachingLimits.staffId, staffId), lte(coachingLimits.effectiveFrom, at)))
    .orderBy(desc(coachingLimits.effectiveFrom), desc(coachingLimits.version))
    .limit(1);
  return limits;
}

/** The clinic's IANA time zone, in which availability windows are stated. */
export async function clinicTimeZoneOf(db: DbOrTx, clinicId: string): Promise<string> {
  const { rows } = await db.execute<{ timeZone: string | null }>(sql`select ${clinicTimeZone(clinicId)} as "timeZone"`);
  return rows[0]?.timeZone ?? 'UTC';
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const isoWeekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Local weekday (1–7, ISO) and minutes since local midnight of an instant in an IANA time zone, with the local date. */
export function localTime(at: Date, timeZone: string): { weekday: number; minutes: number; date: string } {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    weekday: isoWeekdays[parts.weekday as string] as number,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether an instant falls inside any window (from inclusive, to exclusive; a window with to <= from runs past midnight into the next day). */
export function withinWindows(windows: AvailabilityWindow[], at: Date, timeZone: string): boolean {
  const { weekday, minutes } = localTime(at, timeZone);
  return windows.some((w) => {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    if (to > from) return weekday === w.weekday && minutes >= from && minutes < to;
    const nextDay = (w.weekday % 7) + 1;
    return (weekday === w.weekday && minutes >= from) || (weekday === nextDay && minutes < to);
  });
}

export interface JudgedContact {
  responseMinutes: number | null;
  durationMinutes: number | null;
  afterHours: boolean;
  overMinuteLimit: boolean;
  outsideLimits: boolean;
  limitsVersion: number | null;
}

const minute = 60_000;

/**
 * The derived fields of a contact judged by the limits in force (or none stated). Late response is
 * the staff member's, not the client's, so it does not put a contact outside limits.
 */
export function judgeContact(
  limits: CoachingLimitsRow | undefined,
  contact: { channel: string; requestedAt: Date; respondedAt: Date | null; startedAt: Date | null; endedAt: Date | null },
  timeZone: string,
): JudgedContact {
  const responseMinutes = contact.respondedAt ? Math.floor((contact.respondedAt.getTime() - contact.requestedAt.getTime()) / minute) : null;
  const durationMinutes =
    contact.startedAt && contact.endedAt ? Math.ceil((contact.endedAt.getTime() - contact.startedAt.getTime()) / minute) : null;
  if (!limits) {
    return { responseMinutes, durationMinutes, afterHours: false, overMinuteLimit: false, outsideLimits: false, limitsVersion: null };
  }
  const start = contact.startedAt ?? contact.respondedAt ?? contact.requestedAt;
  const afterHours = !withinWindows(limits.windows, start, timeZone);
  const overMinuteLimit = durationMinutes !== null && durationMinutes > limits.maxMinutes;
  const offChannel = !(limits.channels as string[]).includes(contact.channel);
  return {
    responseMinutes,
    durationMinutes,
    afterHours,
    overMinuteLimit,
    outsideLimits: afterHours || overMinuteLimit || offChannel,
    limitsVersion: limits.version,
  };
}
