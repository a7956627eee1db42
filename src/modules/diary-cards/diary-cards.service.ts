import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx, Tx } from '../../db/client.js';
import { clinicalEvents, type DiaryDayEntry, diaryCards, diaryCardVersions, diaryDays } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { notFound } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import { checkWeekStart, dateParam, invalid, notFuture, recordEvents, settingsOn, toEntries } from './diary-cards.entries.js';
import { addDays, asDate, isBackFilled, latestStartedDate, mergeEntries, weekStartOf } from './diary-cards.merge.js';
import type { DiaryCardResponse, DiaryDayBody, ListCardsQuery, ReplaceCardBody } from './diary-cards.schema.js';

type CardRow = typeof diaryCards.$inferSelect;
type DayRow = typeof diaryDays.$inferSelect;

const cardScope = (clinicId: string, clientId: string, weekStart: string) =>
  and(eq(diaryCards.clinicId, clinicId), eq(diaryCards.clientId, clientId), eq(diaryCards.weekStart, weekStart));
/** The card with its days and the events recorded from each day. */
async function cardView(db: DbOrTx, card: CardRow): Promise<DiaryCardResponse> {
  const days = await db
    .select()
    .from(diaryDays)
    .where(and(eq(diaryDays.clinicId, card.clinicId), eq(diaryDays.cardId, card.id)))
    .orderBy(asc(diaryDays.day));
  const events = await db
    .select({ id: clinicalEvents.id, date: clinicalEvents.diaryDate })
    .from(clinicalEvents)
    .where(and(eq(clinicalEvents.clinicId, card.clinicId), eq(clinicalEvents.diaryCardId, card.id)))
    .orderBy(asc(clinicalEvents.id));
  return {
    id: card.id,
    clientId: card.clientId,
    weekStart: card.weekStart,
    version: card.version,
    createdAt: card.createdAt,
    updatedAt: card.updatedAt,
    days: days.map((d) => ({
      date: d.day,
      entry: d.entry,
      firstEnteredAt: d.firstEnteredAt,
      lastEnteredAt: d.lastEnteredAt,
      backFilled: d.backFilled,
      eventIds: events.filter((e) => e.date === d.day).map((e) => e.id),
    })),
  };
}

/** Bumps the card's version and keeps the card as it now is; returns the card as answered. */
async function saveVersion(tx: Tx, ctx: AuthedContext, card: CardRow, change: 'day' | 'card', changedDay: string | null) {
  const [updated] = await tx
    .update(diaryCards)
    .set({ version: card.version + 1, updatedAt: sql`now()` })
    .where(and(eq(diaryCards.clinicId, card.clinicId), eq(diaryCards.id, card.id)))
    .returning();
  const view = await cardView(tx, updated as CardRow);
  await tx.insert(diaryCardVersions).values({
    clinicId: card.clinicId,
    cardId: card.id,
    version: view.version,
    days: Object.fromEntries(view.days.map((d) => [d.date, d.entry])),
    change,
    changedDay,
    changedBy: ctx.actor.staffId,
  });
  ctx.audit.resourceId = card.id;
  return view;
}

export async function listDiaryCards(db: Db, ctx: AuthedContext, clientId: string, query: ListCardsQuery) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const rows = await db
    .select({
      id: diaryCards.id,
      weekStart: diaryCards.weekStart,
      version: diaryCards.version,
      updatedAt: diaryCards.updatedAt,
      dayCount: sql<number>`count(${diaryDays.day})::int`,
      backFilledDays: sql<
        string[]
      >`coalesce(array_agg(${diaryDays.day}::text order by ${diaryDays.day}) filter (where ${diaryDays.backFilled}), '{}')`,
    })
    .from(diaryCards)
    .leftJoin(diaryDays, and(eq(diaryDays.clinicId, diaryCards.clinicId), eq(diaryDays.cardId, diaryCards.id)))
    .where(
      and(
        eq(diaryCards.clinicId, ctx.actor.clinicId),
        eq(diaryCards.clientId, clientId),
        query.from ? gte(diaryCards.weekStart, query.from) : undefined,
        query.to ? lte(diaryCards.weekStart, query.to) : undefined,
      ),
    )
    .groupBy(diaryCards.id, diaryCards.weekStart, diaryCards.version, diaryCards.updatedAt)
    .orderBy(desc(diaryCards.weekStart));
  ctx.audit.resultCount = rows.length;
  return { items: rows };
}

async function findCard(db: DbOrTx, ctx: AuthedContext, clientId: string, weekStartParam: string) {
  const client = await authorizeClient(db, ctx, clientId, 'clinical');
  const weekStart = await checkWeekStart(db, client, weekStartParam);
  const [card] = await db
    .select()
    .from(diaryCards)
    .where(cardScope(ctx.actor.clinicId, clientId, weekStart));
  if (!card) throw notFound('Diary card');
  ctx.audit.resourceId = card.id;
  return card;
}

export async function readDiaryCard(db: Db, ctx: AuthedContext, clientId: string, weekStart: string) {
  const view = await cardView(db, await findCard(db, ctx, clientId, weekStart));
  ctx.audit.resultCount = 1;
  return view;
}

export async function listCardVersions(db: Db, ctx: AuthedContext, clientId: string, weekStart: string) {
  const card = await findCard(db, ctx, clientId, weekStart);
  const rows = await db
    .select()
    .from(diaryCardVersions)
    .where(and(eq(diaryCardVersions.clinicId, card.clinicId), eq(diaryCardVersions.cardId, card.id)))
    .orderBy(asc(diaryCardVersions.version));
  ctx.audit.resultCount = rows.length;
  return {
    items: rows.map((r) => ({
      version: r.version,
      change: r.change,
      changedDay: r.changedDay,
      changedBy: r.changedBy,
      changedAt: r.changedAt,
      days: r.days,
    })),
  };
}

/**
 * One day's entry: finds or creates the card for the week holding the date, and merges the entry
 * with what the day already holds (see diary-cards.merge.ts). A new card answers 201.
 */
export function submitDay(db: Db, ctx: AuthedContext, clientId: string, day: string, body: DiaryDayBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const client = await authorizeClient(tx, ctx, clientId, 'clinical');
    const date = dateParam(day, 'date');
    notFuture(date, { in: 'params', field: 'date' });
    const incoming = (await toEntries(tx, client, [{ date, body, prefix: '' }])).get(date) as DiaryDayEntry;
    const weekStart = weekStartOf(date, (await settingsOn(tx, client, date)).weekStartsOn);

    const scope = cardScope(ctx.actor.clinicId, clientId, weekStart);
    let [card] = await tx.select().from(diaryCards).where(scope).for('update');
    if (!card) {
      // Version 0 until this submission's version is saved; a concurrent first entry waits on the key.
      await tx
        .insert(diaryCards)
        .values({ clinicId: ctx.actor.clinicId, id: uuidv7(), clientId, weekStart, version: 0 })
        .onConflictDoNothing();
      [card] = await tx.select().from(diaryCards).where(scope).for('update');
    }
    const locked = card as CardRow;
    const dayKey = and(eq(diaryDays.clinicId, locked.clinicId), eq(diaryDays.cardId, locked.id), eq(diaryDays.day, date));
    const [existing] = await tx.select().from(diaryDays).where(dayKey);
    const now = new Date();
    const entry = existing ? mergeEntries(existing.entry, incoming) : incoming;
    if (existing) {
      await tx.update(diaryDays).set({ entry, lastEnteredAt: now }).where(dayKey);
    } else {
      await tx.insert(diaryDays).values({
        clinicId: locked.clinicId,
        cardId: locked.id,
        day: date,
        entry,
        firstEnteredAt: now,
        lastEnteredAt: now,
        backFilled: isBackFilled(date, now),
      });
    }
    await recordEvents(tx, ctx, locked, [[date, entry]]);
    const view = await saveVersion(tx, ctx, locked, 'day', date);
    const eventIds = view.days.find((d) => d.date === date)?.eventIds ?? [];
    ctx.audit.details = { date, weekStart, version: view.version, merged: Boolean(existing), events: eventIds.length };
    // Version 1 is the submission that started the card: 201, and the audit record says so.
    const created = view.version === 1;
    if (created) ctx.audit.status = 201;
    return { view: { ...view, submittedDate: date, eventIds }, created };
  });
}

/**
 * The correction path: the whole card replaces its days (no merge). Days kept keep when they were
 * first entered and their back-filled flag; days left out are removed; the version history keeps
 * what they said. Events already recorded stay.
 */
export function replaceCard(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  weekStartParam: string,
  ifMatch: string | undefined,
  body: ReplaceCardBody,
) {
  return auditedTransaction(db, ctx, async (tx) => {
    const client = await authorizeClient(tx, ctx, clientId, 'clinical');
    const weekStart = await checkWeekStart(tx, client, weekStartParam);
    const [card] = await tx
      .select()
      .from(diaryCards)
      .where(cardScope(ctx.actor.clinicId, clientId, weekStart))
      .for('update');
    if (!card) throw notFound('Diary card');
    ctx.audit.resourceId = card.id;
    checkIfMatch(ifMatch, card.version);
    const weekEnd = addDays(weekStart, 6);
    const submitted = Object.entries(body.days).map(([key, day]) => ({ date: key, body: day, prefix: `days.${key}.` }));
    const outside = submitted.filter(({ date }) => {
      const valid = asDate(date);
      return !valid || valid < weekStart || valid > weekEnd || valid > latestStartedDate(new Date());
    });
    if (outside.length > 0) {
      throw invalid(
        outside.map(({ date }) => ({
          in: 'body',
          field: `days.${date}`,
          message: `must be a date from ${weekStart} to ${weekEnd}, not in the future`,
        })),
      );
    }
    const entries = await toEntries(tx, client, submitted);
    const scope = and(eq(diaryDays.clinicId, card.clinicId), eq(diaryDays.cardId, card.id));
    const before = new Map<string, DayRow>((await tx.select().from(diaryDays).where(scope)).map((d) => [d.day, d]));
    await tx.delete(diaryDays).where(scope);
    const now = new Date();
    if (entries.size > 0) {
      await tx.insert(diaryDays).values(
        [...entries].map(([date, entry]) => ({
          clinicId: card.clinicId,
          cardId: card.id,
          day: date,
          entry,
          firstEnteredAt: before.get(date)?.firstEnteredAt ?? now,
          lastEnteredAt: now,
          backFilled: before.get(date)?.backFilled ?? isBackFilled(date, now),
        })),
      );
    }
    await recordEvents(tx, ctx, card, [...entries]);
    const view = await saveVersion(tx, ctx, card, 'card', null);
    const removed = [...before.keys()].filter((date) => !entries.has(date)).sort();
    ctx.audit.details = { weekStart, fromVersion: card.version, version: view.version, days: entries.size, removed };
    return view;
  });
}
