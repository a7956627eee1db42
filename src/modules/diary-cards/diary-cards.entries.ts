import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { clinicalEvents, type DiaryDayEntry, type diaryCards, skills, targets } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, type FieldError } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import type { ClientRow } from '../../policy/client-access.js';
import { defaultPolicy, policyInForce, today } from '../programs/programs.queries.js';
import { actionTaken, asDate, entryFrom, isoWeekday, latestStartedDate } from './diary-cards.merge.js';
import type { DiaryDayBody } from './diary-cards.schema.js';

/** Turning requests into day entries (every check that needs the database) and actions into clinical events. */

type CardRow = typeof diaryCards.$inferSelect;

export const invalid = (errors: FieldError[]) =>
  new AppError('validation_failed', `Invalid ${errors.map((e) => `${e.in}.${e.field}`).join(', ')}`, { errors });

const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** A real calendar date in YYYY-MM-DD, or null. */
export function dateParam(value: string, field: string): string {
  const date = asDate(value);
  if (!date) throw invalid([{ in: 'params', field, message: 'must be a date (YYYY-MM-DD)' }]);
  return date;
}

/** The diary-card settings of the client's program on a date (the first policy, before it took effect). */
export async function settingsOn(db: DbOrTx, client: ClientRow, date: string) {
  const policy =
    (await policyInForce(db, client.clinicId, client.programId, date)) ??
    (await policyInForce(db, client.clinicId, client.programId, today()));
  const { weekStartsOn, diaryEmotions } = policy ?? defaultPolicy('adult');
  return { weekStartsOn, diaryEmotions };
}

export async function checkWeekStart(db: DbOrTx, client: ClientRow, value: string): Promise<string> {
  const weekStart = dateParam(value, 'weekStart');
  const { weekStartsOn } = await settingsOn(db, client, weekStart);
  if (isoWeekday(weekStart) !== weekStartsOn) {
    const message = `must be a ${weekdays[weekStartsOn - 1]}: this client's program starts diary-card weeks then`;
    throw invalid([{ in: 'params', field: 'weekStart', message }]);
  }
  return weekStart;
}

/**
 * Checks submitted days against the client's program (emotion names), targets in force and the
 * clinic's skills, all before anything is written, and turns them into stored entries. `prefix` is
 * where each day sits in the body.
 */
export async function toEntries(db: DbOrTx, client: ClientRow, days: Array<{ date: string; body: DiaryDayBody; prefix: string }>) {
  const targetIds = [...new Set(days.flatMap((d) => (d.body.targets ?? []).map((t) => t.targetId)))];
  const skillIds = [...new Set(days.flatMap((d) => d.body.skillIds ?? []))];
  const current = new Map<string, number>();
  if (targetIds.length > 0) {
    const rows = await db
      .select({ targetId: targets.targetId, version: targets.version })
      .from(targets)
      .where(
        and(
          eq(targets.clinicId, client.clinicId),
          eq(targets.clientId, client.id),
          inArray(targets.targetId, targetIds),
          isNull(targets.effectiveTo),
        ),
      );
    for (const row of rows) current.set(row.targetId, row.version);
  }
  const known = new Set<string>();
  if (skillIds.length > 0) {
    const rows = await db
      .select({ id: skills.id })
      .from(skills)
      .where(and(eq(skills.clinicId, client.clinicId), inArray(skills.id, skillIds)));
    for (const row of rows) known.add(row.id);
  }
  const errors: FieldError[] = [];
  const entries = new Map<string, DiaryDayEntry>();
  for (const { date, body, prefix } of days) {
    const { diaryEmotions } = await settingsOn(db, client, date);
    const at = (field: string, message: string) => errors.push({ in: 'body', field: `${prefix}${field}`, message });
    body.targets?.forEach((t, i) => {
      if (!current.has(t.targetId)) at(`targets.${i}.targetId`, "is not one of this client's targets in force");
    });
    for (const name of Object.keys(body.emotions ?? {})) {
      if (!diaryEmotions.includes(name)) at(`emotions.${name}`, `is not on this program's card (${diaryEmotions.join(', ')})`);
    }
    body.skillIds?.forEach((id, i) => {
      if (!known.has(id)) at(`skillIds.${i}`, "is not one of the clinic's skills");
    });
    entries.set(date, entryFrom(body, current));
  }
  if (errors.length > 0) throw invalid(errors);
  return entries;
}

export function notFuture(date: string, field: { in: string; field: string }) {
  if (date > latestStartedDate(new Date())) throw invalid([{ ...field, message: 'must not be in the future' }]);
}

/**
 * An action on a life-threatening target of subtype NSSI or suicide attempt is a clinical event.
 * The unique key on (card, day, target, kind) makes a resubmitted day a no-op; events are never
 * deleted here, even when a corrected card no longer shows the action.
 */
export async function recordEvents(tx: Tx, ctx: AuthedContext, card: CardRow, days: Array<[string, DiaryDayEntry]>) {
  const acted = days.flatMap(([date, entry]) => entry.targets.filter((t) => actionTaken(t.action)).map((t) => ({ date, ...t })));
  if (acted.length === 0) return;
  const rows = await tx
    .select({ targetId: targets.targetId, version: targets.version, category: targets.category, subtype: targets.lifeThreateningSubtype })
    .from(targets)
    .where(
      and(
        eq(targets.clinicId, card.clinicId),
        eq(targets.clientId, card.clientId),
        inArray(
          targets.targetId,
          acted.map((a) => a.targetId),
        ),
      ),
    );
  const kinds = new Map<string, 'nssi' | 'suicide_attempt'>();
  for (const row of rows) {
    if (row.category === 'life_threatening' && (row.subtype === 'nssi' || row.subtype === 'suicide_attempt')) {
      kinds.set(`${row.targetId}:${row.version}`, row.subtype);
    }
  }
  const values = acted.flatMap((a) => {
    const kind = kinds.get(`${a.targetId}:${a.targetVersion}`);
    if (!kind) return [];
    return [
      {
        clinicId: card.clinicId,
        id: uuidv7(),
        clientId: card.clientId,
        kind,
        occurredAt: new Date(`${a.date}T12:00:00Z`),
        severity: 'moderate' as const,
        source: 'diary_card' as const,
        diaryCardId: card.id,
        diaryDate: a.date,
        targetId: a.targetId,
        recordedBy: ctx.actor.staffId,
      },
    ];
  });
  if (values.length === 0) return;
  const e = clinicalEvents;
  await tx
    .insert(e)
    .values(values)
    .onConflictDoNothing({
      target: [e.clinicId, e.diaryCardId, e.diaryDate, e.targetId, e.kind],
      where: sql.raw('diary_card_id is not null'),
    });
}
