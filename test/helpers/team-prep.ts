import { sql } from 'drizzle-orm';
import type { App } from '../../src/app.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { query } from './app.js';
import { createClientRecord, createClinic, createProgram, tokenFor } from './factories.js';
import { activateClient } from './groups.js';
import { createAgendaItemRow, createMeetingRow, teamWithClients } from './teams.js';

/**
 * Set-up for the prep-packet tests, written straight to the database (set-up, not under test).
 * Every text that must never reach a packet carries a marker, so a test can look for it anywhere
 * in a response body.
 */
export const secrets = {
  sessionNote: 'SECRET-session-note Synthetic session note about the week',
  homework: 'SECRET-homework Practise the synthetic skill',
  psychotherapyNote: 'SECRET-psychotherapy-note My own synthetic hypothesis',
  diaryNote: 'SECRET-diary-note Synthetic note written on the card',
  drug: 'SECRET-drug-Synthamine',
  episodeNote: 'SECRET-episode-note Synthetic note on the episode',
  coachingPlan: 'SECRET-coaching-plan Synthetic plan for the call',
  coachingOutcome: 'SECRET-coaching-outcome Synthetic outcome of the call',
  eventDescription: 'SECRET-event-description Synthetic description of the event',
  targetEndNote: 'SECRET-target-end-note Synthetic reason for retiring',
  stageRationale: 'SECRET-stage-rationale Synthetic rationale for the stage',
  chainRepair: 'SECRET-chain-repair Synthetic repair',
  skillfulAlternative: 'SECRET-skillful-alternative Synthetic alternative',
  itemOutcome: 'SECRET-item-outcome Synthetic outcome of the discussion',
  phone: '+1-555-0100-SECRET',
  email: 'secret-contact@example.test',
  dateOfBirth: '1990-01-01',
} as const;

/** The meeting every fixture is dated around: a Wednesday. The clinic is in New York (UTC−4 then). */
export const MEETING_DATE = '2025-06-04';

type Rating = { targetId: string; urge: number | null; action: boolean | number | null };
type Day = { targets?: Rating[]; emotions?: Record<string, number>; skillsOverall?: number | null; urgeToQuit?: number | null };

export async function diaryCard(
  clinicId: string,
  clientId: string,
  weekStart: string,
  days: Record<string, Day & { backFilled?: boolean }>,
) {
  const cardId = uuidv7();
  await query(
    sql`insert into diary_cards (clinic_id, id, client_id, week_start) values (${clinicId}, ${cardId}, ${clientId}, ${weekStart})`,
  );
  for (const [day, entry] of Object.entries(days)) {
    const stored = {
      targets: (entry.targets ?? []).map((t) => ({ ...t, targetVersion: 1 })),
      emotions: entry.emotions ?? {},
      substances: { alcoholDrinks: 2, drugs: [{ name: secrets.drug, amount: '1 tab' }], prn: [], prescribedTaken: false },
      skillsOverall: entry.skillsOverall ?? null,
      skillIds: [],
      urgeToQuit: entry.urgeToQuit ?? null,
      notes: secrets.diaryNote,
    };
    await query(sql`insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
      values (${clinicId}, ${cardId}, ${day}, ${JSON.stringify(stored)}::jsonb, now(), now(), ${entry.backFilled ?? false})`);
  }
}

export async function target(
  clinicId: string,
  clientId: string,
  createdBy: string,
  t: { category: string; label: string; subtype?: string; actor?: string; retired?: boolean },
) {
  const id = uuidv7();
  await query(sql`insert into targets (clinic_id, target_id, version, client_id, category, life_threatening_subtype, therapy_interfering_actor,
      direction, measure, label, effective_from, effective_to, end_reason, end_note, created_by)
    values (${clinicId}, ${id}, 1, ${clientId}, ${t.category}, ${t.subtype ?? null}, ${t.actor ?? null}, 'decrease', 'urge_and_action',
      ${t.label}, '2025-04-07T00:00:00Z', ${t.retired ? '2025-05-01T00:00:00Z' : null}, ${t.retired ? 'retired' : null},
      ${t.retired ? secrets.targetEndNote : null}, ${createdBy})`);
  return id;
}

export async function clinicalEvent(
  clinicId: string,
  clientId: string,
  e: { kind: string; at: string; dischargedAt?: string; enteredInError?: boolean; severity?: string },
) {
  const id = uuidv7();
  await query(sql`insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, discharged_at, severity, source, description,
      entered_in_error_at, entered_in_error_reason)
    values (${clinicId}, ${id}, ${clientId}, ${e.kind}, ${e.at}, ${e.dischargedAt ?? null}, ${e.severity ?? 'moderate'}, 'client_report',
      ${secrets.eventDescription}, ${e.enteredInError ? e.at : null}, ${e.enteredInError ? 'Synthetic duplicate' : null})`);
  return id;
}

export async function coachingContact(
  clinicId: string,
  clientId: string,
  staffId: string,
  c: { at: string; purpose: string; minutes?: number; afterHours?: boolean; outside?: boolean; rule?: string },
) {
  await query(sql`insert into coaching_contacts (clinic_id, id, client_id, staff_id, initiated_by, channel, requested_at, purpose, plan, outcome,
      duration_minutes, after_hours, over_minute_limit, outside_limits, rule_status, created_by)
    values (${clinicId}, ${uuidv7()}, ${clientId}, ${staffId}, 'client', 'phone', ${c.at}, ${c.purpose}, ${secrets.coachingPlan},
      ${secrets.coachingOutcome}, ${c.minutes ?? null}, ${c.afterHours ?? false}, false, ${c.outside ?? false}, ${c.rule ?? 'not_applicable'},
      ${staffId})`);
}

export async function chainAnalysis(clinicId: string, clientId: string, createdBy: string, targetId: string, at: string, problem: string) {
  const id = uuidv7();
  const links = [
    { type: 'thought', text: 'Nobody will notice (synthetic)', skillfulAlternative: secrets.skillfulAlternative, skillId: null },
    { type: 'emotion', text: 'Shame (synthetic)', skillfulAlternative: null, skillId: null },
  ];
  await query(sql`insert into chain_analyses (clinic_id, id, client_id, target_id, target_version, behaviour_at, problem_behaviour, prompting_event,
      vulnerabilities, links, consequences, solutions, repair, completed_in, created_by)
    values (${clinicId}, ${id}, ${clientId}, ${targetId}, 1, ${at}, ${problem}, 'Argument with a synthetic roommate',
      array['Slept four hours'], ${JSON.stringify(links)}::jsonb, '[]'::jsonb, array['TIPP', 'Call the coach'], ${secrets.chainRepair},
      'homework', ${createdBy})`);
  return id;
}

/** An individual session at 14:00 UTC (10:00 in New York) with a session note and a psychotherapy note. */
export async function sessionWithNotes(clinicId: string, clientId: string, therapistId: string, date: string, attendance: string) {
  const id = uuidv7();
  await query(sql`insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type,
      attendance, homework, note, created_by)
    values (${clinicId}, ${id}, ${clientId}, ${therapistId}, ${`${date}T14:00:00Z`}, 50, 'regular', ${attendance}, ${secrets.homework},
      ${secrets.sessionNote}, ${therapistId})`);
  await query(sql`insert into psychotherapy_notes (clinic_id, id, session_id, author_id, body)
    values (${clinicId}, ${uuidv7()}, ${id}, ${therapistId}, ${secrets.psychotherapyNote})`);
}

/** A team (see teamWithClients) in a New York clinic, with a compliance officer and the admin's token. */
export async function newYorkTeam(app: App) {
  const { clinic, admin } = await createClinic();
  await query(sql`update clinics set time_zone = 'America/New_York' where id = ${clinic.id}`);
  const adminToken = tokenFor(app, admin);
  const team = await teamWithClients(app, clinic.id, adminToken);
  return { clinic, admin: { ...admin, token: adminToken }, ...team };
}

/**
 * A meeting on MEETING_DATE whose agenda holds items about three clients (the therapist's, the
 * colleague's and a third whose program starts diary weeks on Sunday), items that must not count
 * (withdrawn, carried over) and one item about no client.
 */
export async function meetingWithAgenda(app: App, options: { categoryOrder?: string[] } = {}) {
  const setting = await newYorkTeam(app);
  const { clinic, team, therapist, colleague, lead, client, colleagueClient } = setting;
  if (options.categoryOrder) {
    await query(sql`update teams set category_order = ${`{${options.categoryOrder.join(',')}}`}::text[] where id = ${team.id}`);
    team.categoryOrder = options.categoryOrder as typeof team.categoryOrder;
  }
  const sundayProgram = await createProgram(clinic.id, 'adult', { weekStartsOn: 7 });
  const sundayClient = await createClientRecord(clinic.id, { primaryTherapistId: colleague.id, programId: sundayProgram.program.id });
  const withdrawnClient = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: team.programId });
  await query(sql`update clients set phone = ${secrets.phone}, email = ${secrets.email}, preferred_name = 'Sam'
    where clinic_id = ${clinic.id} and id = ${client.id}`);

  const earlier = await createMeetingRow(team, '2025-05-28');
  const carriedFrom = await createAgendaItemRow(earlier, { requestedBy: therapist.id, clientId: client.id });
  const meeting = await createMeetingRow(team, MEETING_DATE, { durationMinutes: 90 });
  const item = (o: Parameters<typeof createAgendaItemRow>[1]) => createAgendaItemRow(meeting, o);
  const at = (iso: string) => new Date(iso);
  const items = {
    consult: await item({
      requestedBy: colleague.id,
      clientId: colleagueClient.id,
      category: 'consult',
      requestedAt: at('2025-06-01T10:00:00Z'),
    }),
    lifeThreatening: await item({
      requestedBy: therapist.id,
      clientId: client.id,
      category: 'client_life_threatening',
      question: 'How do I respond to the cutting | and the shame?',
      minutesRequested: 15,
      requestedAt: at('2025-06-02T10:00:00Z'),
    }),
    carried: await item({
      requestedBy: therapist.id,
      clientId: client.id,
      category: 'client_therapy_interfering',
      question: 'Lateness keeps coming back',
      requestedAt: at('2025-05-27T10:00:00Z'),
    }),
    groupIssue: await item({
      requestedBy: colleague.id,
      clientId: colleagueClient.id,
      category: 'skills_group_issue',
      requestedAt: at('2025-05-20T10:00:00Z'),
    }),
    celebration: await item({
      requestedBy: colleague.id,
      clientId: sundayClient.id,
      category: 'celebration',
      question: 'Three weeks of full cards',
    }),
    withdrawn: await item({ requestedBy: therapist.id, clientId: withdrawnClient.id, category: 'client_life_threatening' }),
    carriedOver: await item({ requestedBy: therapist.id, clientId: withdrawnClient.id, category: 'consult' }),
    withdrawnOfClient: await item({ requestedBy: therapist.id, clientId: client.id, category: 'consult' }),
    admin: await item({ requestedBy: lead.id, category: 'admin', question: 'Summer rota', minutesRequested: 5 }),
  };
  await query(sql`update team_agenda_items set clarity = 'I am unsure whether to validate first', motivation = 'Keen to try',
      obstacles = array['skills_deficit', 'conditioned_emotion'], obstacles_note = 'Freeze when she cries', outcome = ${secrets.itemOutcome}
    where id = ${items.lifeThreatening.id}`);
  await query(sql`update team_agenda_items set carried_from_id = ${carriedFrom.id} where id = ${items.carried.id}`);
  await query(sql`update team_agenda_items set status = 'carried_over' where id = ${carriedFrom.id} or id = ${items.carriedOver.id}`);
  await query(
    sql`update team_agenda_items set status = 'withdrawn' where id = ${items.withdrawn.id} or id = ${items.withdrawnOfClient.id}`,
  );
  await query(sql`update team_agenda_items set status = 'discussed' where id = ${items.groupIssue.id}`);
  return { ...setting, meeting, items, sundayClient, withdrawnClient };
}

type Setting = Awaited<ReturnType<typeof meetingWithAgenda>>;

/**
 * Four weeks of synthetic record for the therapist's client, around the meeting (see the hand-
 * computed figures in team-prep.test.ts), and one diary day for the Sunday-week client.
 */
export async function clinicalRecord(setting: Setting) {
  const { clinic, client, therapist, sundayClient } = setting;
  const [c, a, t] = [clinic.id, client.id, therapist.id];
  await activateClient(c, a, '2025-04-07', '2025-10-06');
  await query(sql`update treatment_episodes set notes = ${secrets.episodeNote} where clinic_id = ${c} and client_id = ${a}`);
  await query(sql`insert into stage_assignments (clinic_id, id, client_id, stage, from_date, to_date, rationale, decided_by) values
    (${c}, ${uuidv7()}, ${a}, 'pretreatment', '2025-03-01', '2025-04-07', ${secrets.stageRationale}, ${t}),
    (${c}, ${uuidv7()}, ${a}, 'stage_1', '2025-04-07', null, ${secrets.stageRationale}, ${t})`);
  const targets = {
    cutting: await target(c, a, t, { category: 'life_threatening', subtype: 'nssi', label: 'Cutting | scratching' }),
    lateness: await target(c, a, t, { category: 'therapy_interfering', actor: 'client', label: 'Late to sessions' }),
    overrun: await target(c, a, t, { category: 'therapy_interfering', actor: 'therapist', label: 'Therapist runs over time' }),
    retired: await target(c, a, t, { category: 'quality_of_life', label: 'Retired synthetic target', retired: true }),
  };
  const goalId = uuidv7();
  await query(sql`insert into goals (clinic_id, id, client_id, text, domain, status, created_by) values
    (${c}, ${goalId}, ${a}, 'Finish the synthetic course', 'education', 'active', ${t}),
    (${c}, ${uuidv7()}, ${a}, 'An achieved synthetic goal', null, 'achieved', ${t})`);

  const [cut, late] = [targets.cutting, targets.lateness];
  await diaryCard(c, a, '2025-05-05', { '2025-05-05': { targets: [{ targetId: cut, urge: 5, action: true }] } });
  await diaryCard(c, a, '2025-05-19', {
    '2025-05-19': {
      targets: [
        { targetId: cut, urge: 4, action: true },
        { targetId: late, urge: 1, action: 2 },
      ],
      emotions: { anger: 3, shame: 2 },
      skillsOverall: 3,
      urgeToQuit: 1,
    },
    '2025-05-20': {
      targets: [
        { targetId: cut, urge: 2, action: false },
        { targetId: late, urge: null, action: 0 },
      ],
      emotions: { anger: 1 },
      skillsOverall: 4,
      urgeToQuit: 3,
      backFilled: true,
    },
    '2025-05-21': { targets: [{ targetId: cut, urge: 5, action: 3 }] },
  });
  const fullWeek = Object.fromEntries(
    ['26', '27', '28', '29', '30', '31'].map((d) => [
      `2025-05-${d}`,
      { targets: [{ targetId: cut, urge: 0, action: false }], skillsOverall: 5, urgeToQuit: 0 },
    ]),
  );
  await diaryCard(c, a, '2025-05-26', {
    ...fullWeek,
    '2025-06-01': { targets: [{ targetId: cut, urge: 0, action: false }], skillsOverall: 5, urgeToQuit: 0 },
  });
  await diaryCard(c, a, '2025-06-02', {
    '2025-06-02': { targets: [{ targetId: cut, urge: 1, action: false }] },
    '2025-06-03': { targets: [{ targetId: cut, urge: 3, action: false }] },
    // After the meeting: not part of the packet.
    '2025-06-05': { targets: [{ targetId: cut, urge: 5, action: true }] },
  });
  await diaryCard(c, sundayClient.id, '2025-06-01', { '2025-06-01': { skillsOverall: 2 } });

  const events = {
    // 23:30 on 7 May in New York: before the period.
    beforePeriod: await clinicalEvent(c, a, { kind: 'nssi', at: '2025-05-08T03:30:00Z' }),
    // Midnight of 8 May in New York: the period's first instant.
    firstInstant: await clinicalEvent(c, a, { kind: 'suicidal_crisis_behaviour', at: '2025-05-08T04:00:00Z', severity: 'high' }),
    nssi: await clinicalEvent(c, a, { kind: 'nssi', at: '2025-05-20T21:00:00Z' }),
    admission: await clinicalEvent(c, a, {
      kind: 'psychiatric_admission',
      at: '2025-05-22T10:00:00Z',
      dischargedAt: '2025-05-25T09:00:00Z',
    }),
    inError: await clinicalEvent(c, a, { kind: 'ed_visit', at: '2025-05-30T12:00:00Z', enteredInError: true }),
    // 23:59 on 4 June in New York: the period's last minute.
    lastMinute: await clinicalEvent(c, a, { kind: 'crisis_service_use', at: '2025-06-05T03:59:00Z', severity: 'low' }),
    afterPeriod: await clinicalEvent(c, a, { kind: 'nssi', at: '2025-06-05T04:00:00Z' }),
  };

  await coachingContact(c, a, t, { at: '2025-05-08T03:00:00Z', purpose: 'scheduling', minutes: 60 });
  await coachingContact(c, a, t, { at: '2025-05-10T15:00:00Z', purpose: 'skills_generalization', minutes: 10 });
  await coachingContact(c, a, t, {
    at: '2025-05-21T02:00:00Z',
    purpose: 'suicide_self_harm_crisis',
    minutes: 20,
    afterHours: true,
    outside: true,
    rule: 'overridden',
  });
  await coachingContact(c, a, t, { at: '2025-05-25T16:00:00Z', purpose: 'relationship_repair', minutes: 15, afterHours: true });
  await coachingContact(c, a, t, { at: '2025-05-27T16:00:00Z', purpose: 'scheduling', rule: 'blocked_redirected' });
  await coachingContact(c, a, t, { at: '2025-06-06T16:00:00Z', purpose: 'skills_generalization', minutes: 30 });

  await chainAnalysis(c, a, t, cut, '2025-05-01T20:00:00Z', 'Scratched arm (synthetic, older)');
  const chainId = await chainAnalysis(c, a, t, cut, '2025-05-20T21:00:00Z', 'Cut forearm (synthetic)');
  await chainAnalysis(c, a, t, cut, '2025-06-06T12:00:00Z', 'Scratched arm (synthetic, after the meeting)');

  // Individual sessions (weeks start on Monday): attended before the period and on 12 May; then a
  // no-show, a clinic cancellation (neutral) and two more no-shows, the last after the meeting.
  for (const [date, attendance] of [
    ['2025-05-05', 'attended'],
    ['2025-05-12', 'attended'],
    ['2025-05-19', 'no_show'],
    ['2025-05-26', 'cancelled_by_clinic'],
    ['2025-06-02', 'no_show'],
    ['2025-06-09', 'no_show'],
  ] as const) {
    await sessionWithNotes(c, a, t, date, attendance);
  }
  return { targets, goalId, events, chainId };
}
