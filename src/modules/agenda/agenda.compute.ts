import type { DiaryDayEntry } from '../../db/schema/diary.js';
import type { AgendaItem } from './agenda.schema.js';

/** Everything the agenda is computed from, already limited to the client and the window. */
export interface AgendaInput {
  /** The window: from the previous attended (or late) session's start up to this session's start. */
  from: Date;
  to: Date;
  /** ISO weekday the program's diary-card weeks start on (1 = Monday … 7 = Sunday). */
  weekStartsOn: number;
  urgeThreshold: number;
  targets: Array<{ targetId: string; category: string; label: string }>;
  /** Diary days from the first day of the window's first week up to the session date. */
  days: Array<{ day: string; entry: DiaryDayEntry; backFilled: boolean }>;
  /** Life-threatening events in the window (not entered in error). */
  events: Array<{ id: string; kind: string; severity: string; occurredAt: Date; targetId: string | null }>;
  /** Open life-threatening events without a chain analysis, whenever they happened. */
  openEvents: Array<{ id: string; kind: string; severity: string; occurredAt: Date; targetId: string | null }>;
  /** The client's other sessions in the window. */
  sessions: Array<{ id: string; scheduledStart: Date; attendance: string; lateMinutes: number | null }>;
  previous: { id: string; scheduledStart: Date; homework: string | null } | null;
}

const DAY = 86_400_000;
/** The UTC calendar date of an instant (YYYY-MM-DD). */
export const dateOf = (at: Date) => at.toISOString().slice(0, 10);
const atDay = (day: string) => new Date(`${day}T00:00:00.000Z`).toISOString();
const addDays = (day: string, n: number) => dateOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY));
/** The first day of the week holding `day`, for weeks starting on ISO weekday `startsOn`. */
export function weekStartOf(day: string, startsOn: number): string {
  const isoWeekday = ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
  return addDays(day, -((isoWeekday - startsOn + 7) % 7));
}

const severityRank: Record<string, number> = { low: 1, moderate: 2, high: 3, critical: 4 };
const categoryOrder = ['life_threatening', 'therapy_interfering', 'quality_of_life', 'skills'];
const prefix: Record<string, string> = { life_threatening: 'lt', therapy_interfering: 'ti', quality_of_life: 'qol' };
const urgeKinds = new Set(['urge', 'urge-to-quit']);
const eventTitle = (kind: string) => kind.replaceAll('_', ' ');
const actionCount = (action: boolean | number | null) => (action === true ? 1 : typeof action === 'number' ? action : 0);

/**
 * Hierarchy order: category (life-threatening → therapy-interfering → quality-of-life → skills);
 * within one, actions, events and other behaviour before urges, then severity, then the most
 * recent first, then id so equal items keep a stable order.
 */
export function compareItems(a: AgendaItem, b: AgendaItem): number {
  return (
    categoryOrder.indexOf(a.category) - categoryOrder.indexOf(b.category) ||
    Number(urgeKinds.has(a.kind)) - Number(urgeKinds.has(b.kind)) ||
    b.severity - a.severity ||
    Date.parse(b.lastAt) - Date.parse(a.lastAt) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Per-day evidence collected into one item; lastAt is the latest day. */
function dayItem(base: Omit<AgendaItem, 'evidence' | 'lastAt' | 'severity'>, evidence: AgendaItem['evidence'], severity: number) {
  const last =
    evidence
      .map((e) => e.date)
      .sort()
      .at(-1) ?? '';
  return { ...base, evidence, severity, lastAt: atDay(last) };
}

function targetItems(input: AgendaInput, inWindow: AgendaInput['days']): AgendaItem[] {
  const items: AgendaItem[] = [];
  for (const target of input.targets) {
    const category = target.category;
    const short = prefix[category];
    if (!short) continue;
    const actions: AgendaItem['evidence'] = [];
    const urges: AgendaItem['evidence'] = [];
    for (const { day, entry } of inWindow) {
      const rating = entry.targets.find((t) => t.targetId === target.targetId);
      if (!rating) continue;
      if (actionCount(rating.action) > 0) actions.push({ date: day, value: rating.action as number | boolean });
      if (rating.urge !== null && rating.urge >= input.urgeThreshold) urges.push({ date: day, value: rating.urge });
    }
    const base = { category: category as AgendaItem['category'], source: 'diary_card' as const, targetId: target.targetId };
    if (actions.length > 0) {
      const count = actions.reduce((sum, e) => sum + actionCount(e.value as number | boolean), 0);
      items.push(dayItem({ ...base, id: `${short}:action:${target.targetId}`, kind: 'action', title: target.label }, actions, count));
    } else if (urges.length > 0 && category !== 'quality_of_life') {
      // An action item already covers its target; the urge item stands alone only without one.
      const max = Math.max(...urges.map((e) => e.value as number));
      items.push(dayItem({ ...base, id: `${short}:urge:${target.targetId}`, kind: 'urge', title: `Urges: ${target.label}` }, urges, max));
    }
  }
  return items;
}

function eventItems(input: AgendaInput): AgendaItem[] {
  const item = (event: AgendaInput['events'][number], kind: string, title: string, source: AgendaItem['source']): AgendaItem => ({
    id: `lt:${kind}:${event.id}`,
    category: 'life_threatening',
    kind,
    title,
    source,
    eventId: event.id,
    ...(event.targetId ? { targetId: event.targetId } : {}),
    evidence: [{ date: dateOf(event.occurredAt), value: event.kind }],
    severity: severityRank[event.severity] ?? 0,
    lastAt: event.occurredAt.toISOString(),
  });
  return [
    ...input.events.map((e) => item(e, 'event', `Event: ${eventTitle(e.kind)}`, 'event')),
    ...input.openEvents.map((e) => item(e, 'chain-analysis-due', `Chain analysis due: ${eventTitle(e.kind)}`, 'chain_analysis')),
  ];
}

/** Card missing, partial or back-filled, for each week the window touches (days before the session date). */
function cardItems(input: AgendaInput, inWindow: AgendaInput['days']): AgendaItem[] {
  const end = dateOf(input.to);
  const entered = new Set(input.days.map((d) => d.day));
  const missing: AgendaItem['evidence'] = [];
  const partial: AgendaItem['evidence'] = [];
  const first = weekStartOf(dateOf(input.from), input.weekStartsOn);
  for (let week = first; week < end; week = addDays(week, 7)) {
    let expected = 0;
    let count = 0;
    for (let i = 0; i < 7 && addDays(week, i) < end; i++) {
      expected++;
      if (entered.has(addDays(week, i))) count++;
    }
    if (count === 0) missing.push({ date: week, value: 'missing' });
    else if (count < expected) partial.push({ date: week, value: count });
  }
  const backFilled = inWindow.filter((d) => d.backFilled).map((d) => ({ date: d.day, value: true }));
  const base = { category: 'therapy_interfering' as const, source: 'diary_card' as const };
  const items: AgendaItem[] = [];
  if (missing.length)
    items.push(dayItem({ ...base, id: 'ti:card-missing', kind: 'card-missing', title: 'Diary card missing' }, missing, missing.length));
  if (partial.length) {
    const title = 'Diary card partly filled in';
    items.push(dayItem({ ...base, id: 'ti:card-partial', kind: 'card-partial', title }, partial, partial.length));
  }
  if (backFilled.length) {
    const title = 'Diary card days filled in afterwards';
    items.push(dayItem({ ...base, id: 'ti:card-back-filled', kind: 'card-back-filled', title }, backFilled, backFilled.length));
  }
  return items;
}

function sessionItems(input: AgendaInput): AgendaItem[] {
  const base = { category: 'therapy_interfering' as const, source: 'session' as const };
  const item = (
    id: string,
    kind: string,
    title: string,
    rows: AgendaInput['sessions'],
    value: (s: AgendaInput['sessions'][number]) => string | number,
  ) =>
    rows.length === 0
      ? []
      : [
          {
            ...base,
            id,
            kind,
            title,
            evidence: rows.map((s) => ({ date: dateOf(s.scheduledStart), value: value(s) })),
            severity: rows.length,
            lastAt: new Date(Math.max(...rows.map((s) => s.scheduledStart.getTime()))).toISOString(),
          },
        ];
  const missed = input.sessions.filter((s) => s.attendance === 'no_show' || s.attendance === 'cancelled_by_client');
  const late = input.sessions.filter((s) => s.attendance === 'late');
  return [
    ...item('ti:missed-session', 'missed-session', 'Missed sessions', missed, (s) => s.attendance),
    ...item('ti:late-session', 'late-session', 'Late to sessions', late, (s) => s.lateMinutes ?? 0),
  ];
}

function diaryItems(input: AgendaInput, inWindow: AgendaInput['days']): AgendaItem[] {
  const items: AgendaItem[] = [];
  const quit = inWindow.flatMap(({ day, entry }) =>
    entry.urgeToQuit !== null && entry.urgeToQuit >= input.urgeThreshold ? [{ date: day, value: entry.urgeToQuit }] : [],
  );
  if (quit.length) {
    const base = { category: 'therapy_interfering' as const, source: 'diary_card' as const, kind: 'urge-to-quit' };
    items.push(dayItem({ ...base, id: 'ti:urge-to-quit', title: 'Urge to quit therapy' }, quit, Math.max(...quit.map((e) => e.value))));
  }
  const skills = inWindow.flatMap(({ day, entry }) => (entry.skillsOverall === null ? [] : [{ date: day, value: entry.skillsOverall }]));
  const average = skills.reduce((sum, e) => sum + e.value, 0) / (skills.length || 1);
  if (skills.length && average < 3) {
    const base = { category: 'skills' as const, source: 'diary_card' as const, kind: 'low-skills' };
    const title = `Low skills use (average ${Math.round(average * 10) / 10} of 7)`;
    items.push(dayItem({ ...base, id: 'sk:low-skills', title }, skills, Math.round((3 - average) * 100) / 100));
  }
  const previous = input.previous;
  if (previous?.homework) {
    items.push({
      id: `sk:homework:${previous.id}`,
      category: 'skills',
      kind: 'homework',
      title: 'Homework from the last session',
      source: 'session',
      evidence: [{ date: dateOf(previous.scheduledStart), value: previous.homework }],
      severity: 0,
      lastAt: previous.scheduledStart.toISOString(),
    });
  }
  return items;
}

/** The agenda the target hierarchy gives for the data in the window, ordered. */
export function computeAgenda(input: AgendaInput): AgendaItem[] {
  const from = dateOf(input.from);
  const to = dateOf(input.to);
  const inWindow = input.days.filter((d) => d.day >= from && d.day < to).sort((a, b) => (a.day < b.day ? -1 : 1));
  return [
    ...targetItems(input, inWindow),
    ...eventItems(input),
    ...cardItems(input, inWindow),
    ...sessionItems(input),
    ...diaryItems(input, inWindow),
  ].sort(compareItems);
}
