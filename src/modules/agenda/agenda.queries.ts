import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { lifeThreateningEventKinds } from '../../db/schema/index.js';
import { policyInForceQuery } from '../programs/programs.queries.js';
import { type AgendaInput, dateOf } from './agenda.compute.js';
import type { AgendaItem } from './agenda.schema.js';

/**
 * The agenda's reads, as two statements: what fixes the window, then everything in it. Each part
 * is a subquery aggregated to JSON, so a request makes two round trips however many kinds of data
 * the agenda draws on (in a request's transaction, statements on its one connection run one after
 * another). Every subquery is by clinic and client, on the indexes that lead with both.
 */

interface SessionKey {
  clinicId: string;
  clientId: string;
  id: string;
  scheduledStart: Date;
}

type Stamp = string;
const at = (value: Stamp) => new Date(value);
const ltKinds = sql`${`{${lifeThreateningEventKinds.join(',')}}`}::text[]`;

export interface WindowStart {
  previous: AgendaInput['previous'];
  policy: { weekStartsOn: number; agendaUrgeThreshold: number } | null;
  /** The client's first diary day on or after `floorDay`, when there is no previous session. */
  firstDay: string | null;
}

/** The previous attended (or late) session, the program policy in force, and the first diary day since `floorDay`. */
export async function loadWindowStart(db: DbOrTx, session: SessionKey, floorDay: string): Promise<WindowStart> {
  const { clinicId, clientId } = session;
  const to = session.scheduledStart.toISOString();
  const { rows } = await db.execute<{
    previous: { id: string; scheduledStart: Stamp; homework: string | null } | null;
    policy: WindowStart['policy'];
    first_day: string | null;
  }>(sql`
    select
      (select row_to_json(p) from (
        select s.id, s.scheduled_start as "scheduledStart", s.homework
          from individual_sessions s
         where s.clinic_id = ${clinicId} and s.client_id = ${clientId} and s.scheduled_start < ${to}::timestamptz
           and s.attendance in ('attended', 'late') and s.id <> ${session.id}
         order by s.scheduled_start desc, s.id desc limit 1) p) as previous,
      (select json_build_object('weekStartsOn', p.week_starts_on, 'agendaUrgeThreshold', p.agenda_urge_threshold)
         from clients c
        cross join lateral ${policyInForceQuery(db, clinicId, sql`c.program_id`, sql`${dateOf(session.scheduledStart)}::date`)} p
        where c.clinic_id = ${clinicId} and c.id = ${clientId}) as policy,
      (select min(d.day)::text
         from diary_days d
         join diary_cards dc on dc.clinic_id = d.clinic_id and dc.id = d.card_id
        where dc.clinic_id = ${clinicId} and dc.client_id = ${clientId} and d.day >= ${floorDay}::date) as first_day`);
  const row = rows[0];
  const previous = row?.previous ? { ...row.previous, scheduledStart: at(row.previous.scheduledStart) } : null;
  return { previous, policy: row?.policy ?? null, firstDay: row?.first_day ?? null };
}

type EventRow = Omit<AgendaInput['events'][number], 'occurredAt'> & { occurredAt: Stamp };

export interface SavedAgenda {
  computed: AgendaItem[];
  final: AgendaItem[];
  version: number;
}

export interface WindowData extends Pick<AgendaInput, 'days' | 'targets' | 'events' | 'openEvents' | 'sessions'> {
  saved: SavedAgenda | null;
}

/**
 * Everything in the window [from, session start): diary days from `firstWeek` (the first day of
 * the window's first card week), the latest version of each target, life-threatening events, the
 * open ones without a chain analysis whenever they happened, the client's other sessions, and —
 * with `withSaved` — the therapist's saved order.
 */
export async function loadWindow(
  db: DbOrTx,
  session: SessionKey,
  window: { from: Date; firstWeek: string },
  withSaved: boolean,
): Promise<WindowData> {
  const { clinicId, clientId } = session;
  const to = session.scheduledStart.toISOString();
  const from = window.from.toISOString();
  const events = (condition: ReturnType<typeof sql>) => sql`
    coalesce((select json_agg(e order by e."occurredAt", e.id) from (
      select ev.id, ev.kind, ev.severity, ev.occurred_at as "occurredAt", ev.target_id as "targetId"
        from clinical_events ev
       where ev.clinic_id = ${clinicId} and ev.client_id = ${clientId} and ev.kind = any(${ltKinds})
         and ev.entered_in_error_at is null and ${condition}) e), '[]'::json)`;
  const { rows } = await db.execute<{
    days: AgendaInput['days'];
    targets: AgendaInput['targets'];
    events: EventRow[];
    open_events: EventRow[];
    sessions: Array<Omit<AgendaInput['sessions'][number], 'scheduledStart'> & { scheduledStart: Stamp }>;
    saved: SavedAgenda | null;
  }>(sql`
    select
      coalesce((select json_agg(d order by d.day) from (
        select dd.day, dd.entry, dd.back_filled as "backFilled"
          from diary_days dd
          join diary_cards dc on dc.clinic_id = dd.clinic_id and dc.id = dd.card_id
         where dc.clinic_id = ${clinicId} and dc.client_id = ${clientId}
           and dd.day >= ${window.firstWeek}::date and dd.day < ${dateOf(session.scheduledStart)}::date) d), '[]'::json) as days,
      coalesce((select json_agg(t order by t."targetId") from (
        select distinct on (tg.target_id) tg.target_id as "targetId", tg.category, tg.label
          from targets tg
         where tg.clinic_id = ${clinicId} and tg.client_id = ${clientId}
         order by tg.target_id, tg.version desc) t), '[]'::json) as targets,
      ${events(sql`ev.occurred_at >= ${from}::timestamptz and ev.occurred_at < ${to}::timestamptz`)} as events,
      ${events(sql`not exists (select 1 from chain_analyses ca where ca.clinic_id = ev.clinic_id and ca.event_id = ev.id)`)} as open_events,
      coalesce((select json_agg(s order by s."scheduledStart", s.id) from (
        select s.id, s.scheduled_start as "scheduledStart", s.attendance, s.late_minutes as "lateMinutes"
          from individual_sessions s
         where s.clinic_id = ${clinicId} and s.client_id = ${clientId} and s.scheduled_start >= ${from}::timestamptz
           and s.scheduled_start < ${to}::timestamptz and s.id <> ${session.id}) s), '[]'::json) as sessions,
      ${
        withSaved
          ? sql`(select json_build_object('computed', a.computed, 'final', a.final, 'version', a.version)
                   from session_agendas a where a.clinic_id = ${clinicId} and a.session_id = ${session.id})`
          : sql`null::json`
      } as saved`);
  const row = rows[0];
  if (!row) throw new Error('the agenda window query returned no row');
  const withDate = (e: EventRow) => ({ ...e, occurredAt: at(e.occurredAt) });
  return {
    days: row.days,
    targets: row.targets,
    events: row.events.map(withDate),
    openEvents: row.open_events.map(withDate),
    sessions: row.sessions.map((s) => ({ ...s, scheduledStart: at(s.scheduledStart) })),
    saved: row.saved,
  };
}
