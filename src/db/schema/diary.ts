import { sql } from 'drizzle-orm';
import { boolean, date, foreignKey, integer, jsonb, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { clients } from './clients.js';
import { timestamptz, versioned } from './columns.js';
import { staff } from './staff.js';

/** One day of a diary card, as stored after merging every entry for that day. */
export interface DiaryDayEntry {
  /** Per target (by targetId): highest urge of the day 0–5, and the action (yes/no or a count). */
  targets: Array<{ targetId: string; targetVersion: number; urge: number | null; action: boolean | number | null }>;
  /** Emotion name → highest intensity 0–5. */
  emotions: Record<string, number>;
  substances: {
    alcoholDrinks: number | null;
    drugs: Array<{ name: string; amount: string }>;
    prn: Array<{ name: string; amount: string }>;
    prescribedTaken: boolean | null;
  };
  skillsOverall: number | null;
  skillIds: string[];
  urgeToQuit: number | null;
  notes: string | null;
}

/** One card per client and week; the week starts on the program's configured weekday. */
export const diaryCards = pgTable(
  'diary_cards',
  {
    clinicId: uuid('clinic_id').notNull(),
    id: uuid('id').notNull(),
    clientId: uuid('client_id').notNull(),
    weekStart: date('week_start', { mode: 'string' }).notNull(),
    ...versioned(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.id] }),
    unique('diary_cards_client_week_key').on(t.clinicId, t.clientId, t.weekStart),
    foreignKey({ columns: [t.clinicId, t.clientId], foreignColumns: [clients.clinicId, clients.id] }),
  ],
);

/** The merged content of one day; back-filled when first entered more than a day after its date. */
export const diaryDays = pgTable(
  'diary_days',
  {
    clinicId: uuid('clinic_id').notNull(),
    cardId: uuid('card_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    entry: jsonb('entry').$type<DiaryDayEntry>().notNull(),
    firstEnteredAt: timestamptz('first_entered_at').notNull(),
    lastEnteredAt: timestamptz('last_entered_at').notNull(),
    backFilled: boolean('back_filled').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.cardId, t.day] }),
    foreignKey({ columns: [t.clinicId, t.cardId], foreignColumns: [diaryCards.clinicId, diaryCards.id] }),
  ],
);

/** Every change to a card keeps the card as it was after the change: nothing is overwritten silently. */
export const diaryCardVersions = pgTable(
  'diary_card_versions',
  {
    clinicId: uuid('clinic_id').notNull(),
    cardId: uuid('card_id').notNull(),
    version: integer('version').notNull(),
    /** The days of the card after this change, keyed by date. */
    days: jsonb('days').$type<Record<string, DiaryDayEntry>>().notNull(),
    change: text('change').$type<'day' | 'card'>().notNull(),
    changedDay: date('changed_day', { mode: 'string' }),
    changedBy: uuid('changed_by').notNull(),
    changedAt: timestamptz('changed_at').notNull().default(sql`now()`),
  },
  (t) => [
    primaryKey({ columns: [t.clinicId, t.cardId, t.version] }),
    foreignKey({ columns: [t.clinicId, t.cardId], foreignColumns: [diaryCards.clinicId, diaryCards.id] }),
    foreignKey({ columns: [t.clinicId, t.changedBy], foreignColumns: [staff.clinicId, staff.id] }),
  ],
);
