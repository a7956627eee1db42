import { and, asc, eq, inArray, isNotNull, isNull, or, type SQLWrapper, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  agendaProposals,
  chainAnalyses,
  clients,
  clinicalEvents,
  clinics,
  coachingContacts,
  diaryCards,
  diaryDays,
  lifeThreateningEventKinds,
  proposalKinds,
  type proposalStatuses,
  targets,
  treatmentEpisodes,
} from '../../db/schema/index.js';
import { inUuids, uuidArray } from '../../db/uuid-array.js';
import { uuidv7 } from '../../lib/ids.js';
import { heldByTeam, type MeetingRow, type TeamRow } from '../../policy/team-access.js';
import { evaluateEpisodes } from '../attendance/attendance.queries.js';
import { categoryOrderOf } from '../teams/teams.service.js';
import { type ClientData, categoryOf, drafters, type EventItem, type Proposal } from './team-prefill.compute.js';

export type ProposalRow = typeof agendaProposals.$inferSelect;
type ProposalStatus = (typeof proposalStatuses)[number];

function groupByClient<T extends { clientId: string }>(rows: T[]): Map<string, T[]> {
  const byClient = new Map<string, T[]>();
  for (const row of rows) {
    const list = byClient.get(row.clientId);
    if (list) list.push(row);
    else byClient.set(row.clientId, [row]);
  }
  return byClient;
}

/** The meeting's proposals in agenda order: the team's category order, then client, then kind. */
function sortProposals(rows: ProposalRow[], team: TeamRow): ProposalRow[] {
  const order = categoryOrderOf(team);
  return [...rows].sort(
    (a, b) =>
      order.indexOf(a.category) - order.indexOf(b.category) ||
      (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0) ||
      proposalKinds.indexOf(a.kind) - proposalKinds.indexOf(b.kind),
  );
}

export async function listMeetingProposals(db: DbOrTx, team: TeamRow, meetingId: string, status?: ProposalStatus) {
  const rows = await db
    .select()
    .from(agendaProposals)
    .where(
      and(
        eq(agendaProposals.clinicId, team.clinicId),
        eq(agendaProposals.meetingId, meetingId),
        status ? eq(agendaProposals.status, status) : undefined,
      ),
    );
  return sortProposals(rows, team);
}

/**
 * The window, in one query with the team's clients and their contracts ending soon: from the
 * meeting's prefillSince to now or the start of the clinic-local day after the meeting, whichever
 * comes first, and the local dates it covers.
 */
async function loadTeamWindow(tx: DbOrTx, team: TeamRow, meeting: MeetingRow) {
  const zone = clinics.timeZone;
  const to = sql`least(now(), ((${meeting.date}::date + 1)::timestamp at time zone ${zone}))`;
  const te = treatmentEpisodes;
  const rows = await tx
    .select({
      zone,
      to: sql<Date>`${to}`.mapWith(agendaProposals.createdAt),
      fromDate: sql<string>`((${meeting.prefillSince.toISOString()}::timestamptz at time zone ${zone})::date)::text`,
      lastDate: sql<string>`((${to} at time zone ${zone} - interval '1 millisecond')::date)::text`,
      clientId: clients.id,
      episodeId: te.id,
      contractStart: te.contractStart,
      contractEnd: te.contractEnd,
    })
    .from(clinics)
    .leftJoin(clients, heldByTeam(team.clinicId, team.id))
    .leftJoin(
      te,
      and(
        eq(te.clinicId, clients.clinicId),
        eq(te.clientId, clients.id),
        eq(te.status, 'active'),
        sql`${te.contractEnd} between ${meeting.date}::date and ${meeting.date}::date + 28`,
      ),
    )
    .where(eq(clinics.id, team.clinicId));
  const first = rows[0];
  if (!first) throw new Error(`clinic ${team.clinicId} of team ${team.id} not found`);
  const { zone: timeZone, to: end, fromDate, lastDate } = first;
  const held = rows.flatMap(({ clientId, episodeId, contractStart, contractEnd }) =>
    clientId ? [{ clientId, episodeId, contractStart, contractEnd }] : [],
  );
  return { timeZone, from: meeting.prefillSince, to: end, fromDate, lastDate, held };
}
export type TeamWindow = Awaited<ReturnType<typeof loadTeamWindow>>;

const instant = (at: Date) => sql`${at.toISOString()}::timestamptz`;
const localDate = (column: SQLWrapper, zone: string) => sql<string>`((${column} at time zone ${zone})::date)::text`;
/** An instant as toISOString writes it, formatted by Postgres: evidence needs the text, and a Date per row costs. */
const isoText = (column: SQLWrapper) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Life-threatening events of the team's clients (not entered in error), per client: those in the
 * window, and those no chain analysis names, whenever they happened.
 */
async function loadEvents(tx: DbOrTx, clinicId: string, ids: string[], w: TeamWindow) {
  const e = clinicalEvents;
  // The events the team's clients' chain analyses name, joined rather than probed per event: "open"
  // looks at a whole year of events, and a chain analysis is always of its event's client.
  const analysedIds = tx
    .selectDistinct({ eventId: chainAnalyses.eventId })
    .from(chainAnalyses)
    .where(and(eq(chainAnalyses.clinicId, clinicId), inUuids(chainAnalyses.clientId, ids), isNotNull(chainAnalyses.eventId)))
    .as('analysed');
  const inWindow = sql<boolean>`(${e.occurredAt} >= ${instant(w.from)} and ${e.occurredAt} < ${instant(w.to)})`;
  const rows = await tx
    .select({
      clientId: e.clientId,
      inWindow,
      analysed: sql<boolean>`${analysedIds.eventId} is not null`,
      id: e.id,
      kind: e.kind,
      occurredAt: isoText(e.occurredAt),
      severity: e.severity,
      date: localDate(e.occurredAt, w.timeZone),
    })
    .from(e)
    .leftJoin(analysedIds, eq(analysedIds.eventId, e.id))
    .where(
      and(
        eq(e.clinicId, clinicId),
        inUuids(e.clientId, ids),
        inArray(e.kind, [...lifeThreateningEventKinds]),
        isNull(e.enteredInErrorAt),
        or(inWindow, isNull(analysedIds.eventId)),
      ),
    )
    .orderBy(asc(e.occurredAt), asc(e.id));
  const byClient = new Map<string, { inWindow: EventItem[]; open: EventItem[] }>();
  for (const { clientId, inWindow: within, analysed: done, ...item } of rows) {
    const own = byClient.get(clientId) ?? { inWindow: [], open: [] };
    if (within) own.inWindow.push(item);
    if (!done) own.open.push(item);
    byClient.set(clientId, own);
  }
  return byClient;
}

type DiaryActionRow = {
  client_id: string;
  day: string;
  target_id: string;
  label: string;
  subtype: string | null;
  action: boolean | number;
  urge: number | null;
};

/**
 * Diary days in the window's local dates where a life-threatening target's action was taken (yes,
 * or a count above zero), judged by the target version the entry names, else the current one.
 */
async function loadDiaryActions(tx: DbOrTx, clinicId: string, ids: string[], w: TeamWindow) {
  const result = await tx.execute(sql`
    select dc.client_id, dd.day::text as day, t.target_id, t.label, t.life_threatening_subtype as subtype,
      rating->'action' as action, rating->'urge' as urge
    from ${diaryCards} dc
    join ${diaryDays} dd on dd.clinic_id = dc.clinic_id and dd.card_id = dc.id
    cross join lateral jsonb_array_elements(dd.entry->'targets') rating
    join lateral (
      select v.target_id, v.category, v.label, v.life_threatening_subtype from ${targets} v
      where v.clinic_id = dc.clinic_id and v.client_id = dc.client_id and v.target_id = (rating->>'targetId')::uuid
      order by (v.version = (rating->>'targetVersion')::int) desc, (v.effective_to is null) desc, v.version desc
      limit 1) t on true
    where dc.clinic_id = ${clinicId} and dc.client_id = any(${uuidArray(ids)})
      and dc.week_start between ${w.fromDate}::date - 6 and ${w.lastDate}::date
      and dd.day between ${w.fromDate}::date and ${w.lastDate}::date
      and t.category = 'life_threatening'
      and (rating->'action' = 'true'::jsonb
        or (jsonb_typeof(rating->'action') = 'number' and (rating->>'action')::numeric > 0))
    order by dd.day, t.target_id`);
  return (result.rows as DiaryActionRow[]).map((row) => ({
    clientId: row.client_id,
    date: row.day,
    targetId: row.target_id,
    label: row.label,
    subtype: row.subtype,
    action: row.action,
    urge: row.urge,
  }));
}

export type DiaryAction = Awaited<ReturnType<typeof loadDiaryActions>>[number];

/** Every coaching contact of the team's clients requested in the window: three kinds read them. */
function loadContacts(tx: DbOrTx, clinicId: string, ids: string[], w: TeamWindow) {
  const c = coachingContacts;
  return tx
    .select({
      id: c.id,
      clientId: c.clientId,
      staffId: c.staffId,
      requestedAt: isoText(c.requestedAt),
      date: localDate(c.requestedAt, w.timeZone),
      purpose: c.purpose,
      afterHours: c.afterHours,
      ruleStatus: c.ruleStatus,
      ruleEventId: c.ruleEventId,
    })
    .from(c)
    .where(
      and(
        eq(c.clinicId, clinicId),
        inUuids(c.clientId, ids),
        sql`${c.requestedAt} >= ${instant(w.from)}`,
        sql`${c.requestedAt} < ${instant(w.to)}`,
      ),
    )
    .orderBy(asc(c.requestedAt), asc(c.id));
}

export type ContactRow = Awaited<ReturnType<typeof loadContacts>>[number];

/**
 * Pre-fills a meeting's agenda proposals from the team's clients' data since `prefillSince`: one
 * query per source over all the team's clients, then one upsert. A new (client, kind) is proposed;
 * one still proposed gets the current summary and evidence (a new version when they changed);
 * accepted and dismissed ones are left alone, and so is a proposal whose condition no longer holds.
 * Returns every proposal of the meeting afterwards, in agenda order, and the clients they concern.
 */
export async function prefillMeeting(
  tx: DbOrTx,
  team: TeamRow,
  meeting: MeetingRow,
): Promise<{ proposals: ProposalRow[]; clientIds: string[] }> {
  const { clinicId } = team;
  const w = await loadTeamWindow(tx, team, meeting);
  const ids = w.held.map((row) => row.clientId);
  if (ids.length > 0) {
    // One statement per source, in turn: a transaction is one connection, which runs one at a time anyway.
    const events = await loadEvents(tx, clinicId, ids, w);
    const diary = groupByClient(await loadDiaryActions(tx, clinicId, ids, w));
    const contacts = groupByClient(await loadContacts(tx, clinicId, ids, w));
    const standings = new Map((await evaluateEpisodes(tx, clinicId, ids, { trailingOnly: true })).map((s) => [s.clientId, s]));
    const proposals = w.held.flatMap((contract): Proposal[] => {
      const { clientId } = contract;
      const data: ClientData = {
        team,
        meeting,
        since: w.fromDate,
        events: events.get(clientId) ?? { inWindow: [], open: [] },
        diary: diary.get(clientId) ?? [],
        contacts: contacts.get(clientId) ?? [],
        standing: standings.get(clientId),
        contract,
      };
      return proposalKinds.flatMap((kind) => {
        const drafted = drafters[kind](data);
        return drafted ? [{ clientId, kind, ...drafted }] : [];
      });
    });
    if (proposals.length > 0) await upsertProposals(tx, clinicId, meeting.id, proposals);
  }
  const rows = await listMeetingProposals(tx, team, meeting.id);
  return { proposals: rows, clientIds: [...new Set(rows.map((row) => row.clientId))] };
}

/**
 * One upsert for every proposal, the rows travelling as one JSON parameter (as the audit writer's
 * do): a multi-row INSERT of hundreds of proposals built in the query builder cost more than the
 * statement itself. Only a proposal still proposed whose summary or evidence changed is updated.
 */
async function upsertProposals(tx: DbOrTx, clinicId: string, meetingId: string, proposals: Proposal[]) {
  const p = agendaProposals;
  const rows = proposals.map((proposal) => ({
    id: uuidv7(),
    client_id: proposal.clientId,
    kind: proposal.kind,
    category: categoryOf[proposal.kind],
    summary: proposal.summary,
    evidence: proposal.evidence,
  }));
  await tx.execute(sql`
    insert into ${p} (clinic_id, id, meeting_id, client_id, kind, category, summary, evidence)
    select ${clinicId}::uuid, r.id, ${meetingId}::uuid, r.client_id, r.kind, r.category, r.summary, r.evidence
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(id uuid, client_id uuid, kind text, category text, summary text, evidence jsonb)
    on conflict (clinic_id, meeting_id, client_id, kind) do update
      set category = excluded.category, summary = excluded.summary, evidence = excluded.evidence,
        version = ${p}.version + 1, updated_at = now()
      where ${p}.status = 'proposed' and (${p}.summary, ${p}.evidence) is distinct from (excluded.summary, excluded.evidence)`);
}
