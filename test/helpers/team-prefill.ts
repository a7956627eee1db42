import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { query } from './app.js';
import { createClinic, tokenFor } from './factories.js';
import { caller } from './http.js';
import { createMeetingRow, teamWithClients } from './teams.js';

/** The meeting most pre-fill tests use: Wednesday 25 November 2026, looking at data since the 18th (UTC clinic). */
export const MEETING_DATE = '2026-11-25';
export const SINCE = '2026-11-18T00:00:00.000Z';

export interface Proposal {
  id: string;
  meetingId: string;
  clientId: string;
  kind: string;
  category: string;
  summary: string;
  evidence: Record<string, unknown>;
  status: string;
  decidedBy: string | null;
  decidedAt: string | null;
  dismissReason: string | null;
  agendaItemId: string | null;
  createdAt: string;
  updatedAt: string;
}

type Team = Awaited<ReturnType<typeof teamWithClients>>['team'];

/** A meeting row whose pre-fill window starts at `since`. */
export async function meetingSince(team: Team, date = MEETING_DATE, since = SINCE) {
  const meeting = await createMeetingRow(team, date);
  await query(sql`update team_meetings set prefill_since = ${since} where clinic_id = ${team.clinicId} and id = ${meeting.id}`);
  return { ...meeting, prefillSince: new Date(since) };
}

/** A fresh clinic with a team (see teamWithClients) and a meeting on MEETING_DATE looking back to SINCE. */
export async function prefillSetting(app: App) {
  const { clinic, admin } = await createClinic();
  const adminToken = tokenFor(app, admin);
  const setting = await teamWithClients(app, clinic.id, adminToken);
  const meeting = await meetingSince(setting.team);
  return { ...setting, clinic, meeting };
}

/** Calls to the pre-fill routes; prefill() asserts a 200 and returns the proposals. */
export function prefillCalls(app: App) {
  const call = caller(app);
  const base = (meetingId: string) => `/v1/meetings/${meetingId}`;
  return {
    call,
    async prefill(token: string, meetingId: string) {
      const result = await call(token, 'POST', `${base(meetingId)}/prefill`);
      expect(result.response.statusCode, result.response.body).toBe(200);
      return { ...result, items: (result.response.json() as { items: Proposal[] }).items };
    },
    list: (token: string, meetingId: string, status?: string) =>
      call(token, 'GET', `${base(meetingId)}/proposals${status ? `?status=${status}` : ''}`),
    accept: (token: string, meetingId: string, proposalId: string, body: object = {}) =>
      call(token, 'POST', `${base(meetingId)}/proposals/${proposalId}/accept`, body),
    dismiss: (token: string, meetingId: string, proposalId: string, body: object) =>
      call(token, 'POST', `${base(meetingId)}/proposals/${proposalId}/dismiss`, body),
  };
}

export const proposalOf = (items: Proposal[], clientId: string, kind: string) =>
  items.find((item) => item.clientId === clientId && item.kind === kind);
export const kindsOf = (items: Proposal[], clientId: string) =>
  items
    .filter((item) => item.clientId === clientId)
    .map((item) => item.kind)
    .sort();

export async function insertEvent(
  clinicId: string,
  clientId: string,
  occurredAt: string,
  options: { kind?: string; severity?: string; enteredInError?: boolean } = {},
) {
  const id = uuidv7();
  const inError = options.enteredInError ?? false;
  await query(sql`insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, severity, source, entered_in_error_at, entered_in_error_reason)
    values (${clinicId}, ${id}, ${clientId}, ${options.kind ?? 'nssi'}, ${occurredAt}, ${options.severity ?? 'moderate'}, 'client_report',
      ${inError ? new Date().toISOString() : null}, ${inError ? 'Recorded against the wrong client' : null})`);
  return id;
}

export async function insertChainAnalysis(clinicId: string, clientId: string, eventId: string, createdBy: string) {
  await query(sql`insert into chain_analyses (clinic_id, id, client_id, event_id, behaviour_at, problem_behaviour, links, consequences,
      completed_in, created_by)
    select ${clinicId}, ${uuidv7()}, ${clientId}, ${eventId}, occurred_at, 'Synthetic behaviour', '[{"type":"event","text":"Synthetic link","skillfulAlternative":null,"skillId":null}]'::jsonb,
      '[]'::jsonb, 'homework', ${createdBy}
    from clinical_events where clinic_id = ${clinicId} and id = ${eventId}`);
}

/** A target (version 1, in force since 2020). */
export async function insertTarget(
  clinicId: string,
  clientId: string,
  createdBy: string,
  options: { category?: string; subtype?: string | null; label?: string } = {},
) {
  const targetId = uuidv7();
  const category = options.category ?? 'life_threatening';
  const subtype = category === 'life_threatening' ? (options.subtype === undefined ? 'nssi' : options.subtype) : null;
  await query(sql`insert into targets (clinic_id, target_id, version, client_id, category, life_threatening_subtype, direction, measure,
      label, effective_from, created_by)
    values (${clinicId}, ${targetId}, 1, ${clientId}, ${category}, ${subtype}, 'decrease', 'urge_and_action',
      ${options.label ?? 'Synthetic target'}, '2020-01-01T00:00:00Z', ${createdBy})`);
  return targetId;
}

/** A diary-card day with the given target ratings (the card of its Monday week, created when missing). */
export async function diaryDay(
  clinicId: string,
  clientId: string,
  day: string,
  ratings: Array<{ targetId: string; action: boolean | number | null; urge?: number | null; targetVersion?: number }>,
) {
  const date = new Date(`${day}T00:00:00Z`);
  const weekStart = new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
  const [card] = await query<{ id: string }>(sql`insert into diary_cards (clinic_id, id, client_id, week_start)
    values (${clinicId}, ${uuidv7()}, ${clientId}, ${weekStart})
    on conflict (clinic_id, client_id, week_start) do update set week_start = excluded.week_start returning id`);
  const entry = {
    targets: ratings.map((r) => ({ targetId: r.targetId, targetVersion: r.targetVersion ?? 1, urge: r.urge ?? null, action: r.action })),
    emotions: {},
    substances: { alcoholDrinks: null, drugs: [], prn: [], prescribedTaken: null },
    skillsOverall: null,
    skillIds: [],
    urgeToQuit: null,
    notes: null,
  };
  await query(sql`insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
    values (${clinicId}, ${card?.id}, ${day}, ${JSON.stringify(entry)}::jsonb, now(), now(), false)`);
}

export interface ContactFixture {
  clientId: string;
  staffId: string;
  at: string;
  purpose?: string;
  afterHours?: boolean;
  rule?: 'not_applicable' | 'blocked_redirected' | 'overridden';
  ruleEventId?: string;
}

export async function insertContact(clinicId: string, contact: ContactFixture) {
  const id = uuidv7();
  await query(sql`insert into coaching_contacts (clinic_id, id, client_id, staff_id, initiated_by, channel, requested_at, purpose,
      after_hours, over_minute_limit, outside_limits, rule_status, rule_event_id, created_by)
    values (${clinicId}, ${id}, ${contact.clientId}, ${contact.staffId}, 'client', 'phone', ${contact.at},
      ${contact.purpose ?? 'skills_generalization'}, ${contact.afterHours ?? false}, false, false, ${contact.rule ?? 'not_applicable'},
      ${contact.ruleEventId ?? null}, ${contact.staffId})`);
  return id;
}
