/**
 * The data of the meeting benchmark (bench/meeting.ts): a team of eight therapists with 80 clients
 * and a year of their data, the team's meetings, and the rest of the clinic. Set-up, written with
 * SQL; deterministic, so two runs seed the same data.
 */
import type pg from 'pg';
import { type AgendaCategory, type DiaryDayEntry, type ProposalKind, proposalKinds } from '../src/db/schema/index.js';
import { uuidv7 } from '../src/lib/ids.js';
import { defaultDiaryEmotions } from '../src/modules/programs/programs.queries.js';
import { curriculumPosition, defaultCurriculum } from '../src/modules/skills-groups/skills-groups.curriculum.js';
import { categoryOf } from '../src/modules/team-prefill/team-prefill.compute.js';
import { addDays, insertSyntheticDiaryDays, mondayOf } from './harness.js';

export const TIME_ZONE = 'America/New_York';
export const THERAPISTS = 8;
const PER_THERAPIST = 10;
export const CLIENTS = THERAPISTS * PER_THERAPIST;
/** Clients of the previous meeting's open items, carried over to the new one: every fourth client. */
const CARRIED_EVERY = 4;
export const OTHERS = 5000;
const OTHER_WEEKS = 13;
const GROUP_SIZE = 8;
const BATCH = 500;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness, so two runs seed the same data.

let state = 0x5eed_8;
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randomInt = (max: number) => Math.floor(random() * (max + 1));
const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
/** A value by weight: [[value, weight], …]. */
function weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
  let roll = random() * choices.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of choices) {
    roll -= w;
    if (roll < 0) return value;
  }
  return (choices.at(-1) as readonly [T, number])[0];
}
export const pad = (n: number, width = 3) => String(n).padStart(width, '0');
const isoWeekday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
/** The first date on or after `day` that falls on the ISO weekday. */
const onOrAfter = (day: string, weekday: number) => addDays(day, (weekday - isoWeekday(day) + 7) % 7);
/** A clinic-local wall-clock time; the seeding session runs in the clinic's zone, so Postgres reads it as local. */
export const local = (day: string, hour: number, minute = 0) => `${day}T${pad(hour, 2)}:${pad(minute, 2)}:00`;

type Row = Record<string, unknown>;

/** Inserts rows (snake_case keys, the same in every row) as one JSON parameter per chunk. */
export async function insertRows(sql: pg.Client, table: string, rows: Row[], chunk = 2000) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as Row)
    .map((name) => `"${name}"`)
    .join(', ');
  for (let i = 0; i < rows.length; i += chunk) {
    await sql.query(`insert into ${table} (${columns}) select ${columns} from jsonb_populate_recordset(null::${table}, $1::jsonb)`, [
      JSON.stringify(rows.slice(i, i + chunk)),
    ]);
  }
}

export interface Seeded {
  clinicId: string;
  teamId: string;
  today: string;
  previousId: string;
  stressId: string;
  carried: number;
  carriedClients: number;
  outsiderId: string;
  programId: string;
}

// ---------------------------------------------------------------------------------------------
// The team's clients

interface TeamClient {
  n: number;
  id: string;
  therapistId: string;
  contractStart: string;
  lifeThreatening: string[];
}

interface TeamSeed {
  clinicId: string;
  programId: string;
  teamId: string;
  today: string;
  therapistIds: string[];
}

const curriculum = defaultCurriculum;
const moduleOfWeek = (cycleStartDate: string, day: string) => {
  const position = curriculumPosition({ cycleStartDate, curriculum }, day);
  return { module: position?.module ?? 'mindfulness', moduleWeek: position?.moduleWeek ?? 1 };
};
const lifeThreateningKinds = ['nssi', 'suicide_attempt', 'suicidal_crisis_behaviour'];
const chainLinks = [
  { type: 'event', text: 'Synthetic prompting event', skillfulAlternative: null, skillId: null },
  { type: 'emotion', text: 'Synthetic shame, 5 of 5', skillfulAlternative: 'Opposite action', skillId: null },
  { type: 'thought', text: 'Synthetic thought', skillfulAlternative: 'Check the facts', skillId: null },
  { type: 'action', text: 'Synthetic problem behaviour', skillfulAlternative: 'TIP skills', skillId: null },
];

/**
 * 80 clients, ten per therapist (every other one with the team named on the record, the rest held
 * through their primary therapist), each with an active episode, five or six targets, two goals, a
 * stage, a year of diary days, events and chain analyses, weekly sessions, a skills group with its
 * attendance, and coaching contacts. Special cases: clients 3, 23, 43 and 63 missed their last three
 * individual sessions (four-miss warning), 33 the last four (met), 13 the last three group weeks;
 * every eighth client's contract ends within four weeks; every fourth had a life-threatening event
 * in the last week; clients 7, 17 … used coaching more than the team's threshold last week.
 */
export async function seedTeamClients(sql: pg.Client, s: TeamSeed): Promise<TeamClient[]> {
  const { clinicId, today } = s;
  const nowMs = Date.now();
  const clients: TeamClient[] = [];
  const rows: Record<string, Row[]> = {
    clients: [],
    treatment_episodes: [],
    targets: [],
    goals: [],
    stage_assignments: [],
    diary_cards: [],
    diary_days: [],
    clinical_events: [],
    chain_analyses: [],
    individual_sessions: [],
    coaching_contacts: [],
    skills_groups: [],
    group_sessions: [],
    group_enrollments: [],
    group_attendance: [],
  };
  const add = (table: string, row: Row) => (rows[table] as Row[]).push(row);

  // Skills groups of eight, meeting on Wednesday evenings for the year, two more weeks scheduled.
  const groups = Array.from({ length: Math.ceil(CLIENTS / GROUP_SIZE) }, (_, g) => {
    const id = uuidv7();
    const firstDay = onOrAfter(addDays(today, -364), 3);
    add('skills_groups', {
      clinic_id: clinicId,
      id,
      program_id: s.programId,
      name: `Bench Skills Group ${pad(g + 1, 2)}`,
      leader_id: s.therapistIds[g % THERAPISTS],
      weekday: 3,
      start_time: '18:00',
      duration_minutes: 150,
      curriculum,
      cycle_start_date: firstDay,
      created_by: s.therapistIds[g % THERAPISTS],
    });
    const sessions: Array<{ id: string; date: string }> = [];
    for (let day = firstDay, w = 0; day <= addDays(today, 14); day = addDays(day, 7), w++) {
      const sessionId = uuidv7();
      const { module, moduleWeek } = moduleOfWeek(firstDay, day);
      add('group_sessions', {
        clinic_id: clinicId,
        id: sessionId,
        group_id: id,
        date: day,
        module,
        module_week: moduleWeek,
        cycle_week: (w % 24) + 1,
        homework: 'Synthetic homework sheet',
        created_by: s.therapistIds[g % THERAPISTS],
      });
      sessions.push({ id: sessionId, date: day });
    }
    return { id, sessions };
  });

  for (let n = 1; n <= CLIENTS; n++) {
    const id = uuidv7();
    const therapistId = s.therapistIds[Math.floor((n - 1) / PER_THERAPIST)] as string;
    const contractStart = addDays(today, -(330 + (n % 14)));
    const contractEnd = n % 8 === 1 ? addDays(today, 2 + ((n * 3) % 25)) : addDays(today, 40 + (n % 60));
    add('clients', {
      clinic_id: clinicId,
      id,
      given_name: 'Bench',
      family_name: `Client ${pad(n)}`,
      preferred_name: n % 5 === 0 ? `Bench ${pad(n)}` : null,
      date_of_birth: addDays('1985-01-01', n * 97),
      external_record_number: `team-${pad(n)}`,
      program_id: s.programId,
      primary_therapist_id: therapistId,
      team_id: n % 2 === 0 ? s.teamId : null,
      status: 'active',
    });
    add('treatment_episodes', {
      clinic_id: clinicId,
      id: uuidv7(),
      client_id: id,
      program_id: s.programId,
      policy_version: 1,
      status: 'active',
      referred_on: addDays(contractStart, -30),
      pretreatment_on: addDays(contractStart, -21),
      contract_start: contractStart,
      contract_end: contractEnd,
      created_by: therapistId,
    });
    add('stage_assignments', {
      clinic_id: clinicId,
      id: uuidv7(),
      client_id: id,
      stage: 'stage_1',
      from_date: contractStart,
      rationale: 'Synthetic: behavioural dyscontrol at intake',
      decided_by: therapistId,
    });
    for (const [text, domain] of [
      ['Synthetic goal: finish the college course', 'education'],
      ['Synthetic goal: live in my own apartment', 'housing'],
    ]) {
      add('goals', { clinic_id: clinicId, id: uuidv7(), client_id: id, text, domain, status: 'active', created_by: therapistId });
    }

    // Targets: one or two life-threatening, one of each therapy-interfering actor, one quality of life.
    const targetRows = [
      { category: 'life_threatening', subtype: 'nssi', actor: null, label: 'Cutting' },
      ...(n % 2 === 0
        ? [
            {
              category: 'life_threatening',
              subtype: n % 4 === 0 ? 'suicide_attempt' : 'suicidal_ideation_communication',
              actor: null,
              label: 'Suicidal urges',
            },
          ]
        : []),
      { category: 'therapy_interfering', subtype: null, actor: 'client', label: 'Not filling in the diary card' },
      { category: 'therapy_interfering', subtype: null, actor: 'therapist', label: 'Therapist running sessions over time' },
      { category: 'quality_of_life', subtype: null, actor: null, label: 'Skipping meals' },
    ].map((t) => ({ ...t, targetId: uuidv7() }));
    for (const t of targetRows) {
      add('targets', {
        clinic_id: clinicId,
        target_id: t.targetId,
        version: 1,
        client_id: id,
        category: t.category,
        life_threatening_subtype: t.subtype,
        therapy_interfering_actor: t.actor,
        direction: 'decrease',
        measure: 'urge_and_action',
        label: t.label,
        effective_from: local(contractStart, 12),
        created_by: therapistId,
      });
    }
    const lifeThreatening = targetRows.filter((t) => t.category === 'life_threatening').map((t) => t.targetId);
    const rated = targetRows.filter((t) => t.actor !== 'therapist');
    clients.push({ n, id, therapistId, contractStart, lifeThreatening });

    // A year of diary days (from the contract start), about one in twelve missing, some back-filled.
    const cards = new Map<string, string>();
    for (let day = addDays(contractStart, 1); day < today; day = addDays(day, 1)) {
      if (random() < 0.08) continue;
      const week = mondayOf(day);
      let cardId = cards.get(week);
      if (!cardId) {
        cardId = uuidv7();
        cards.set(week, cardId);
        add('diary_cards', { clinic_id: clinicId, id: cardId, client_id: id, week_start: week });
      }
      const entry: DiaryDayEntry = {
        targets: rated.map((t) => {
          const lethal = t.category === 'life_threatening';
          const acted = random() < (lethal ? 0.03 : 0.15);
          return {
            targetId: t.targetId,
            targetVersion: 1,
            urge: random() < 0.05 ? null : randomInt(lethal ? 4 : 5),
            action: acted ? (lethal && random() < 0.5 ? 1 + randomInt(2) : true) : false,
          };
        }),
        emotions: Object.fromEntries(defaultDiaryEmotions.filter(() => random() < 0.7).map((name) => [name, randomInt(5)])),
        substances: { alcoholDrinks: random() < 0.2 ? randomInt(4) : null, drugs: [], prn: [], prescribedTaken: random() < 0.9 },
        skillsOverall: randomInt(7),
        skillIds: [],
        urgeToQuit: randomInt(5),
        notes: null,
      };
      const backFilled = random() < 0.1;
      const entered = local(addDays(day, backFilled ? 2 : 0), 21, randomInt(59));
      add('diary_days', {
        clinic_id: clinicId,
        card_id: cardId,
        day,
        entry,
        first_entered_at: entered,
        last_entered_at: entered,
        back_filled: backFilled,
      });
    }

    // Events over the contract, one in the last week for every fourth client; chain analyses for most.
    const sinceStart = (nowMs - Date.parse(`${contractStart}T12:00:00Z`)) / DAY;
    const events = Array.from({ length: 4 + (n % 5) }, () => ({
      kind: weighted([
        ['nssi', 40],
        ['suicidal_crisis_behaviour', 20],
        ['suicide_attempt', 4],
        ['ed_visit', 15],
        ['crisis_service_use', 15],
        ['psychiatric_admission', 6],
      ] as const) as string,
      at: nowMs - (7 + random() * (sinceStart - 7)) * DAY,
    }));
    if (n % 4 === 0 || n % 7 === 0)
      events.push({ kind: n % 3 === 0 ? 'suicidal_crisis_behaviour' : 'nssi', at: nowMs - (0.3 + random() * 5.5) * DAY });
    for (const event of events) {
      const eventId = uuidv7();
      const lethal = lifeThreateningKinds.includes(event.kind);
      add('clinical_events', {
        clinic_id: clinicId,
        id: eventId,
        client_id: id,
        kind: event.kind,
        occurred_at: new Date(event.at).toISOString(),
        discharged_at:
          event.kind === 'psychiatric_admission' ? new Date(Math.min(nowMs, event.at + (3 + randomInt(7)) * DAY)).toISOString() : null,
        severity: pick(['low', 'moderate', 'high', 'critical'] as const),
        source: pick(['client_report', 'records'] as const),
        description: 'Synthetic benchmark event',
        recorded_by: therapistId,
      });
      const recent = nowMs - event.at < 30 * DAY;
      if (lethal && random() < (recent ? 0.5 : 0.95)) {
        add('chain_analyses', {
          clinic_id: clinicId,
          id: uuidv7(),
          client_id: id,
          target_id: event.kind === 'nssi' ? lifeThreatening[0] : (lifeThreatening[1] ?? lifeThreatening[0]),
          target_version: 1,
          event_id: eventId,
          behaviour_at: new Date(event.at).toISOString(),
          problem_behaviour: 'Synthetic problem behaviour',
          prompting_event: 'Synthetic prompting event',
          vulnerabilities: ['Synthetic: poor sleep', 'Synthetic: skipped meals'],
          links: chainLinks,
          consequences: [
            { term: 'short', text: 'Synthetic relief' },
            { term: 'long', text: 'Synthetic regret' },
          ],
          solutions: ['Synthetic solution: TIP skills at urge 3'],
          completed_in: random() < 0.7 ? 'session' : 'homework',
          created_by: therapistId,
        });
      }
      // The 24-hour rule: coaching asked for within a day after self-harm, blocked and redirected (some overridden).
      if ((event.kind === 'nssi' || event.kind === 'suicide_attempt') && random() < 0.5) {
        const at = event.at + (2 + random() * 18) * HOUR;
        if (at < nowMs) {
          const overridden = random() < 0.15;
          add('coaching_contacts', {
            ...contactBase(clinicId, id, therapistId),
            requested_at: new Date(at).toISOString(),
            purpose: 'suicide_self_harm_crisis',
            after_hours: random() < 0.5,
            outside_limits: false,
            rule_status: overridden ? 'overridden' : 'blocked_redirected',
            rule_event_id: eventId,
            redirection: overridden ? null : 'crisis_line',
            safety_check_done: overridden ? null : true,
            override_reason: overridden ? 'Synthetic: imminent risk, coaching given' : null,
            response_minutes: 3 + randomInt(10),
            duration_minutes: overridden ? 10 + randomInt(10) : 3,
          });
        }
      }
    }

    // Weekly individual sessions from the contract start, mostly attended; one more scheduled.
    const weekday = 1 + (n % 5);
    const hour = 9 + (n % 8);
    const past: string[] = [];
    let day = onOrAfter(contractStart, weekday);
    for (; day < today; day = addDays(day, 7)) past.push(day);
    const trailingMisses = [3, 23, 43, 63].includes(n) ? 3 : n === 33 ? 4 : 0;
    past.forEach((date, i) => {
      const fromEnd = past.length - i;
      let attendance = weighted([
        ['attended', 86],
        ['late', 5],
        ['no_show', 4],
        ['cancelled_by_client', 3],
        ['cancelled_by_clinic', 2],
      ] as const) as string;
      if (fromEnd <= trailingMisses) attendance = 'no_show';
      else if (fromEnd === trailingMisses + 1) attendance = 'attended';
      add('individual_sessions', {
        ...sessionBase(clinicId, id, therapistId),
        scheduled_start: local(date, hour),
        attendance,
        late_minutes: attendance === 'late' ? 5 + randomInt(15) : null,
        notice_hours: attendance === 'cancelled_by_client' ? 2 + randomInt(46) : null,
        risk_assessment_done: random() < 0.3,
        homework: attendance === 'attended' ? 'Synthetic homework: chain analysis worksheet' : null,
      });
    });
    add('individual_sessions', { ...sessionBase(clinicId, id, therapistId), scheduled_start: local(day, hour), attendance: 'scheduled' });

    // The skills group: enrolled from the first session after the contract start.
    const group = groups[Math.floor((n - 1) / GROUP_SIZE)] as (typeof groups)[number];
    const held = group.sessions.filter((session) => session.date >= contractStart);
    add('group_enrollments', {
      clinic_id: clinicId,
      id: uuidv7(),
      group_id: group.id,
      client_id: id,
      start_date: (held[0] as { date: string }).date,
      created_by: therapistId,
    });
    const attended = held.filter((session) => session.date < today);
    attended.forEach((session, i) => {
      const fromEnd = attended.length - i;
      let status = weighted([
        ['present', 87],
        ['late', 4],
        ['left_early', 2],
        ['absent', 4],
        ['absent_with_notice', 3],
      ] as const) as string;
      if (n === 13 && fromEnd <= 3) status = 'absent';
      else if (fromEnd === (n === 13 ? 4 : 1)) status = 'present';
      add('group_attendance', {
        clinic_id: clinicId,
        session_id: session.id,
        client_id: id,
        status,
        late_minutes: status === 'late' ? 5 + randomInt(20) : null,
        left_early_minutes: status === 'left_early' ? 15 + randomInt(30) : null,
        notice_hours: status === 'absent_with_notice' ? 24 + randomInt(48) : null,
        homework_reviewed: status === 'present' && random() < 0.8,
        recorded_by: s.therapistIds[Math.floor((n - 1) / GROUP_SIZE) % THERAPISTS],
      });
    });

    // Coaching: a few contacts a week; clients 7, 17 … went over the threshold last week, 5, 15 … mostly call after hours.
    for (let week = mondayOf(contractStart); week < today; week = addDays(week, 7)) {
      const lastWeek = week >= mondayOf(addDays(today, -7));
      const count =
        n % 10 === 7 && lastWeek
          ? 4
          : weighted([
              [0, 35],
              [1, 35],
              [2, 20],
              [3, 10],
            ] as const);
      for (let k = 0; k < count; k++) {
        const date = addDays(week, randomInt(6));
        if (date <= contractStart || date >= today) continue;
        const afterHours = random() < (n % 10 === 5 ? 0.8 : 0.2);
        add('coaching_contacts', {
          ...contactBase(clinicId, id, therapistId),
          requested_at: local(date, afterHours ? pick([7, 20, 21, 22]) : 9 + randomInt(8), randomInt(59)),
          purpose: weighted([
            ['skills_generalization', 55],
            ['suicide_self_harm_crisis', 12],
            ['relationship_repair', 7],
            ['share_progress', 10],
            ['scheduling', 12],
            ['outside_limits', 4],
          ] as const),
          after_hours: afterHours,
          outside_limits: afterHours && random() < 0.4,
          rule_status: 'not_applicable',
          rule_event_id: null,
          redirection: null,
          safety_check_done: null,
          override_reason: null,
          response_minutes: 3 + randomInt(40),
          duration_minutes: 5 + randomInt(20),
        });
      }
    }
  }

  // Parents before children, in batches of one JSON parameter each.
  for (const [table, list] of Object.entries(rows)) await insertRows(sql, table, list, table === 'diary_days' ? 1000 : 2000);
  await sql.query(
    `update coaching_contacts set responded_at = requested_at + make_interval(mins => response_minutes),
       started_at = requested_at + make_interval(mins => response_minutes),
       ended_at = requested_at + make_interval(mins => response_minutes + duration_minutes)
     where clinic_id = $1 and responded_at is null`,
    [clinicId],
  );
  return clients;
}

const sessionBase = (clinicId: string, clientId: string, therapistId: string) => ({
  clinic_id: clinicId,
  id: uuidv7(),
  client_id: clientId,
  therapist_id: therapistId,
  duration_minutes: 50,
  type: 'regular',
  late_minutes: null,
  notice_hours: null,
  risk_assessment_done: false,
  homework: null,
  created_by: therapistId,
});

const contactBase = (clinicId: string, clientId: string, staffId: string) => ({
  clinic_id: clinicId,
  id: uuidv7(),
  client_id: clientId,
  staff_id: staffId,
  initiated_by: random() < 0.85 ? 'client' : 'staff',
  channel: pick(['phone', 'text', 'secure_message', 'video'] as const),
  plan: 'Synthetic plan',
  risk_assessed: random() < 0.3,
  escalation: 'none',
  over_minute_limit: false,
  created_by: staffId,
});

// ---------------------------------------------------------------------------------------------
// Meetings: a year of them, the previous one with items still open, and a stress agenda

const clientCategories: AgendaCategory[] = ['client_life_threatening', 'client_therapy_interfering', 'consult'];

/**
 * Weekly meetings for the past year, each with its attendance, roles, minutes, the items it
 * discussed and the proposals it accepted or dismissed. The previous meeting (a week ago) has 20
 * client items and 2 others still open, which the new meeting carries over. The stress meeting,
 * dated tomorrow (after the new one, so it is not its previous meeting), has all 80 clients on its
 * agenda.
 */
export async function seedMeetings(
  sql: pg.Client,
  s: { clinicId: string; teamId: string; today: string; clients: TeamClient[]; therapistIds: string[] },
) {
  const { clinicId, today, clients, therapistIds } = s;
  const meetings: Row[] = [];
  const items: Row[] = [];
  const proposals: Row[] = [];
  const staffOf = (i: number) => therapistIds[i % THERAPISTS] as string;
  const meeting = (date: string, w: number, prefillSince: string) => {
    const id = uuidv7();
    meetings.push({
      clinic_id: clinicId,
      id,
      team_id: s.teamId,
      date,
      duration_minutes: 90,
      attendance: therapistIds.map((staffId, i) => ({
        staffId,
        status: (i + w) % 11 === 0 ? 'absent' : (i + w) % 7 === 0 ? 'late' : 'present',
        lateMinutes: (i + w) % 11 !== 0 && (i + w) % 7 === 0 ? 5 : null,
      })),
      meeting_leader_id: staffOf(w),
      mindfulness_leader_id: staffOf(w + 1),
      observer_id: staffOf(w + 2),
      note_taker_id: staffOf(w + 3),
      agreement_read:
        date < today ? pick(['dialectical', 'consultation_to_the_patient', 'consistency', 'observing_limits'] as const) : null,
      observer_notes: date < today ? 'Synthetic observer notes' : null,
      minutes: date < today ? 'Synthetic minutes' : null,
      prefill_since: local(prefillSince, 0),
      prefilled_at: local(addDays(date, -1), 8),
      created_by: staffOf(0),
      created_at: local(addDays(date, -1), 8),
      updated_at: local(addDays(date, -1), 8),
    });
    return id;
  };
  const item = (meetingId: string, date: string, client: TeamClient | null, category: AgendaCategory, status: string, k: number) => ({
    clinic_id: clinicId,
    id: uuidv7(),
    meeting_id: meetingId,
    requested_by: client?.therapistId ?? staffOf(k),
    requested_at: local(addDays(date, -1), 9, k % 60),
    client_id: client?.id ?? null,
    category,
    question: client
      ? `Synthetic question ${k}: how do I stay dialectical with Bench Client ${pad(client.n)}?`
      : `Synthetic team question ${k}`,
    minutes_requested: 5 + (k % 3) * 5,
    clarity: client ? 'Synthetic: what I need is clear' : null,
    motivation: client ? 'Synthetic: motivated' : null,
    obstacles: k % 3 === 0 ? ['skills_deficit', 'conditioned_emotion'] : [],
    obstacles_note: null,
    outcome: status === 'discussed' ? 'Synthetic outcome' : null,
    plan: status === 'discussed' ? 'Synthetic plan' : null,
    status,
    created_at: local(addDays(date, -1), 9, k % 60),
    updated_at: local(addDays(date, -1), 9, k % 60),
  });

  // A year of past meetings, weekly up to the one before the previous.
  for (let w = 52; w >= 2; w--) {
    const date = addDays(today, -7 * w);
    const id = meeting(date, w, addDays(date, -7));
    for (let k = 0; k < 12; k++) {
      const client = clients[(w * 7 + k) % CLIENTS] as TeamClient;
      const kind = proposalKinds[(w + k) % proposalKinds.length] as ProposalKind;
      const accepted = k % 5 !== 4;
      const itemRow = accepted ? item(id, date, client, categoryOf[kind], 'discussed', k) : null;
      if (itemRow) items.push(itemRow);
      proposals.push({
        clinic_id: clinicId,
        id: uuidv7(),
        meeting_id: id,
        client_id: client.id,
        kind,
        category: categoryOf[kind],
        summary: `Synthetic ${kind} summary`,
        evidence: { synthetic: true },
        status: accepted ? 'accepted' : 'dismissed',
        decided_by: staffOf(0),
        decided_at: local(date, 10),
        dismiss_reason: accepted ? null : 'Synthetic: taken up in individual therapy',
        agenda_item_id: itemRow?.id ?? null,
        created_at: local(addDays(date, -1), 8),
        updated_at: local(date, 10),
      });
    }
    items.push(item(id, date, null, 'admin', 'discussed', 99));
  }

  // The previous meeting: 20 client items and 2 others open, 5 discussed.
  const previousDate = addDays(today, -7);
  const previousId = meeting(previousDate, 1, addDays(previousDate, -7));
  const carriedClients = clients.filter((c) => c.n % CARRIED_EVERY === 1);
  carriedClients.forEach((client, k) => {
    items.push(item(previousId, previousDate, client, clientCategories[k % clientCategories.length] as AgendaCategory, 'open', k));
  });
  items.push(item(previousId, previousDate, null, 'team_interfering', 'open', 90));
  items.push(item(previousId, previousDate, null, 'admin', 'open', 91));
  for (let k = 0; k < 5; k++)
    items.push(item(previousId, previousDate, clients[k * 3 + 2] as TeamClient, 'client_therapy_interfering', 'discussed', 50 + k));
  const carried = carriedClients.length + 2;

  // The stress meeting: every client of the team on the agenda.
  const stressDate = addDays(today, 1);
  const stressId = meeting(stressDate, 0, previousDate);
  clients.forEach((client, k) => {
    items.push(item(stressId, stressDate, client, clientCategories[k % clientCategories.length] as AgendaCategory, 'open', k));
  });
  items.push(item(stressId, stressDate, null, 'celebration', 'open', 92));

  await insertRows(sql, 'team_meetings', meetings);
  await insertRows(sql, 'team_agenda_items', items);
  await insertRows(sql, 'team_agenda_proposals', proposals);
  return { previousId, stressId, carried, carriedClients: carriedClients.length };
}

// ---------------------------------------------------------------------------------------------
// The rest of the clinic

/**
 * Tops the clinic up with `count` clients of a therapist outside the team: each with an active
 * episode, one target, a goal, a stage, 13 weeks of diary days, 6 events (most with a chain
 * analysis), 26 weekly sessions, a skills group of eight with 13 weeks of attendance and 12
 * coaching contacts, one INSERT … SELECT per table and batch of 500 clients.
 */
export async function seedOthers(sql: pg.Client, s: Seeded, count: number) {
  const firstWeek = mondayOf(addDays(s.today, -7 * OTHER_WEEKS));
  const key = (n: number) => `other-${pad(n, 6)}`;
  for (let low = 0; low < count; low += BATCH) {
    const high = Math.min(count, low + BATCH) - 1;
    const batch = `c.clinic_id = $1 and c.external_record_number between '${key(low)}' and '${key(high)}'`;
    const number = '(substr(c.external_record_number, 7)::int)';
    await sql.query('begin');
    await sql.query(
      `insert into clients (clinic_id, id, given_name, family_name, date_of_birth, external_record_number, program_id, primary_therapist_id, status)
       select $1, gen_random_uuid(), 'Bench', 'Other Client ' || lpad(g::text, 5, '0'), date '1980-01-01' + (g % 7000),
              'other-' || lpad(g::text, 6, '0'), $2, $3, 'active'
         from generate_series($4::int, $5::int) g`,
      [s.clinicId, s.programId, s.outsiderId, low, high],
    );
    await sql.query(
      `insert into treatment_episodes (clinic_id, id, client_id, program_id, policy_version, status, referred_on, pretreatment_on, contract_start, contract_end, created_by)
       select $1, gen_random_uuid(), c.id, $2, 1, 'active', $3::date - 210, $3::date - 200, $3::date - 182 + ${number} % 30, $3::date + ${number} % 90, $4
         from clients c where ${batch}`,
      [s.clinicId, s.programId, s.today, s.outsiderId],
    );
    await sql.query(
      `insert into targets (clinic_id, target_id, version, client_id, category, life_threatening_subtype, direction, measure, label, effective_from, created_by)
       select $1, md5(c.id::text)::uuid, 1, c.id, 'life_threatening', 'nssi', 'decrease', 'urge_and_action', 'Self-harm', now() - interval '200 days', $2
         from clients c where ${batch}`,
      [s.clinicId, s.outsiderId],
    );
    await sql.query(
      `insert into goals (clinic_id, id, client_id, text, domain, status, created_by)
       select $1, gen_random_uuid(), c.id, 'Synthetic goal: a job I like', 'work', 'active', $2 from clients c where ${batch}`,
      [s.clinicId, s.outsiderId],
    );
    await sql.query(
      `insert into stage_assignments (clinic_id, id, client_id, stage, from_date, rationale, decided_by)
       select $1, gen_random_uuid(), c.id, 'stage_1', $3::date - 182, 'Synthetic rationale', $2 from clients c where ${batch}`,
      [s.clinicId, s.outsiderId, s.today],
    );
    await sql.query(
      `insert into diary_cards (clinic_id, id, client_id, week_start)
       select $1, gen_random_uuid(), c.id, $2::date + w * 7 from clients c, generate_series(0, ${OTHER_WEEKS}) w where ${batch}`,
      [s.clinicId, firstWeek],
    );
    await insertSyntheticDiaryDays(sql, s.clinicId, batch, s.today, 0.03);
    await sql.query(
      `insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, severity, source, description, recorded_by)
       select $1, gen_random_uuid(), c.id, (array['nssi', 'nssi', 'suicidal_crisis_behaviour', 'ed_visit', 'crisis_service_use'])[1 + floor(random() * 5)::int],
              now() - (0.5 + random() * 180) * interval '1 day', 'moderate', 'client_report', 'Synthetic benchmark event', $2
         from clients c, generate_series(1, 6) e where ${batch}`,
      [s.clinicId, s.outsiderId],
    );
    await sql.query(
      `insert into chain_analyses (clinic_id, id, client_id, target_id, target_version, event_id, behaviour_at, problem_behaviour, links, consequences, completed_in, created_by)
       select $1, gen_random_uuid(), e.client_id, md5(e.client_id::text)::uuid, 1, e.id, e.occurred_at, 'Synthetic problem behaviour',
              $3::jsonb, '[{"term": "short", "text": "Synthetic relief"}]'::jsonb, 'session', $2
         from clinical_events e join clients c on c.clinic_id = e.clinic_id and c.id = e.client_id
        where ${batch} and e.kind in ('nssi', 'suicidal_crisis_behaviour') and random() < 0.85`,
      [s.clinicId, s.outsiderId, JSON.stringify(chainLinks)],
    );
    await sql.query(
      `insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type, attendance, created_by)
       select $1, gen_random_uuid(), c.id, $2, date_trunc('day', now()) - w * interval '7 days' + interval '14 hours', 50, 'regular',
              case when random() < 0.9 then 'attended' else 'no_show' end, $2
         from clients c, generate_series(1, 26) w where ${batch}`,
      [s.clinicId, s.outsiderId],
    );
    await sql.query(
      `insert into skills_groups (clinic_id, id, program_id, name, leader_id, weekday, start_time, duration_minutes, curriculum, cycle_start_date, created_by)
       select $1, gen_random_uuid(), $2, 'Other Group ' || lpad(g::text, 4, '0'), $3, 2, '18:00', 150, $4::jsonb, $5::date + 1, $3
         from generate_series(${Math.floor(low / GROUP_SIZE)}, ${Math.floor(high / GROUP_SIZE)}) g
       on conflict do nothing`,
      [s.clinicId, s.programId, s.outsiderId, JSON.stringify(curriculum), firstWeek],
    );
    await sql.query(
      `insert into group_sessions (clinic_id, id, group_id, date, module, module_week, cycle_week, created_by)
       select $1, gen_random_uuid(), g.id, $2::date + 1 + w * 7, 'mindfulness', 1, 1 + w, $3
         from skills_groups g, generate_series(0, ${OTHER_WEEKS - 1}) w
        where g.clinic_id = $1 and g.name between 'Other Group ${pad(Math.floor(low / GROUP_SIZE), 4)}' and 'Other Group ${pad(Math.floor(high / GROUP_SIZE), 4)}'
          and $2::date + 1 + w * 7 < $4::date
       on conflict do nothing`,
      [s.clinicId, firstWeek, s.outsiderId, s.today],
    );
    await sql.query(
      `insert into group_enrollments (clinic_id, id, group_id, client_id, start_date, created_by)
       select $1, gen_random_uuid(), g.id, c.id, $2::date + 1, $3
         from clients c join skills_groups g on g.clinic_id = c.clinic_id and g.name = 'Other Group ' || lpad((${number} / ${GROUP_SIZE})::text, 4, '0')
        where ${batch}`,
      [s.clinicId, firstWeek, s.outsiderId],
    );
    await sql.query(
      `insert into group_attendance (clinic_id, session_id, client_id, status, recorded_by)
       select $1, gs.id, en.client_id, case when random() < 0.9 then 'present' else 'absent' end, $2
         from clients c
         join group_enrollments en on en.clinic_id = c.clinic_id and en.client_id = c.id
         join group_sessions gs on gs.clinic_id = en.clinic_id and gs.group_id = en.group_id
        where ${batch}`,
      [s.clinicId, s.outsiderId],
    );
    await sql.query(
      `insert into coaching_contacts (clinic_id, id, client_id, staff_id, initiated_by, channel, requested_at, responded_at, purpose,
              response_minutes, duration_minutes, after_hours, over_minute_limit, outside_limits, rule_status, created_by)
       select $1, gen_random_uuid(), c.id, $2, 'client', 'phone', t.at, t.at + interval '10 minutes',
              (array['skills_generalization', 'skills_generalization', 'relationship_repair', 'scheduling'])[1 + floor(random() * 4)::int],
              10, 10, random() < 0.2, false, false, 'not_applicable', $2
         from clients c, generate_series(1, 12) k,
              lateral (select now() - (0.5 + random() * 7 * ${OTHER_WEEKS}) * interval '1 day' + k * interval '0 seconds' as at) t
        where ${batch}`,
      [s.clinicId, s.outsiderId],
    );
    await sql.query('commit');
  }
}
