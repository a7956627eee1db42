/**
 * Session agenda benchmark: GET /v1/sessions/:id/agenda for a client with a year of daily diary
 * entries, 50 clinical events and a year of weekly sessions, measured in-process with app.inject
 * against a real PostgreSQL, first with 100 clients in the clinic, then with 5,000.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/agenda.ts
 *
 * Creates a fresh database on that server, drops it at the end, and writes the results into
 * bench/README.md between the agenda markers.
 */
import type pg from 'pg';
import type { App } from '../src/app.js';
import type { DiaryDayEntry } from '../src/db/schema/diary.js';
import { uuidv7 } from '../src/lib/ids.js';
import { insertProgram } from '../src/modules/programs/programs.queries.js';
import { insertStaff } from '../src/modules/staff/staff.service.js';
import {
  addDays,
  type BenchContext,
  benchClinic,
  dateOf,
  insertSyntheticDiaryDays,
  log,
  machineLine,
  mondayOf,
  ms,
  runMain,
  secret,
  stamp,
  type Timing,
  timeCalls,
  withBenchDatabase,
  writeSection,
} from './harness.js';

const STEPS = [100, 5000];
const WARM_UP = 20;
const TIMED = 200;
const GOAL_P95_MS = 20;
const OTHER_WEEKS = 52;
const OTHER_EVENTS = 10;
const BATCH = 500;
const DAY = 86_400_000;

const randomInt = (max: number) => Math.floor(Math.random() * (max + 1));
const pick = <T>(values: readonly T[]) => values[Math.floor(Math.random() * values.length)] as T;

interface Result extends Timing {
  clients: number;
  items: number;
}

async function main() {
  await withBenchDatabase('dialectic_agenda', async (bench) => {
    const { serverVersion, started } = bench;
    const results = await run(bench);
    const table = [
      '| clients in the clinic | p50 | p95 | p99 | max | goal p95 < 20 ms met? |',
      '| ---: | ---: | ---: | ---: | ---: | :---: |',
      ...results.map(
        (r) =>
          `| ${r.clients.toLocaleString('en-US')} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.p95 < GOAL_P95_MS ? 'yes' : '**no**'} |`,
      ),
    ].join('\n');
    log(`\n${table}\n`);
    await writeSection(
      'agenda',
      'Session agenda',
      [
        `Measured ${stamp(started)} with \`DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/agenda.ts\`.`,
        '',
        table,
        '',
        `- ${WARM_UP} warm-up requests, then ${TIMED} timed requests one after another, each answered 200 with ${results[0]?.items ?? 0} computed agenda items.`,
        ...machineLine(serverVersion),
      ].join('\n'),
    );
  });
}

async function run(bench: BenchContext): Promise<Result[]> {
  const { seeder: sql, clinic, admin } = await benchClinic(bench, 'agenda-bench', 'Agenda Benchmark Clinic');
  const { app, database } = bench;
  try {
    const therapist = await insertStaff(database.db, clinic.id, {
      email: 'therapist@agenda-bench.example',
      displayName: 'Benchmark Therapist',
      roles: ['therapist'],
      password: secret(),
    });
    const { program } = await insertProgram(database.db, {
      clinicId: clinic.id,
      name: 'Adult DBT',
      kind: 'adult',
      effectiveFrom: '2020-01-01',
      createdBy: admin.id,
    });
    const token = app.jwt.sign({ sub: therapist.id, cid: clinic.id, roles: therapist.roles, jti: uuidv7() });
    const headers = { authorization: `Bearer ${token}` };

    const post = async (path: string, payload: object) => {
      const response = await app.inject({ method: 'POST', url: path, headers, payload });
      if (response.statusCode !== 201) throw new Error(`POST ${path}: ${response.statusCode} ${response.body}`);
      return response.json() as { id: string; targetId: string };
    };

    // The measured client, through the API.
    const client = await post('/v1/clients', {
      givenName: 'Measured',
      familyName: 'Client (synthetic)',
      dateOfBirth: '1992-04-17',
      programId: program.id,
      primaryTherapistId: therapist.id,
    });
    const targetBodies = [
      { category: 'life_threatening', lifeThreateningSubtype: 'nssi', label: 'Cutting' },
      { category: 'therapy_interfering', therapyInterferingActor: 'client', label: 'Skipping group' },
      { category: 'quality_of_life', label: 'Skipping meals' },
      { category: 'skill_increase', label: 'Using opposite action' },
    ];
    const targetIds: string[] = [];
    for (const body of targetBodies) {
      targetIds.push((await post(`/v1/clients/${client.id}/targets`, { ...body, measure: 'urge_and_action' })).targetId);
    }
    await seedMeasuredClient(sql, clinic.id, client.id, therapist.id, targetIds);

    // The session to measure: next week, still scheduled.
    const sessionId = uuidv7();
    const nextWeek = new Date(Date.now() + 7 * DAY);
    nextWeek.setUTCHours(10, 0, 0, 0);
    await sql.query(
      `insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type, attendance, created_by)
       values ($1, $2, $3, $4, $5, 50, 'regular', 'scheduled', $4)`,
      [clinic.id, sessionId, client.id, therapist.id, nextWeek.toISOString()],
    );

    const results: Result[] = [];
    let clients = 1;
    for (const total of STEPS) {
      const seedStart = process.hrtime.bigint();
      await seedOtherClients(sql, clinic.id, program.id, therapist.id, clients, total);
      clients = total;
      await sql.query('analyze');
      const seconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
      log(`${total} clients in the clinic (seeding took ${seconds.toFixed(1)} s); measuring…`);
      results.push(await measure(app, headers, sessionId, total));
      const r = results.at(-1) as Result;
      log(`  p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(2)} ms`);
    }
    return results;
  } finally {
    await sql.end();
  }
}

async function measure(app: App, headers: Record<string, string>, sessionId: string, clients: number): Promise<Result> {
  const path = `/v1/sessions/${sessionId}/agenda`;
  let items = 0;
  const timing = await timeCalls(
    async () => {
      const response = await app.inject({ method: 'GET', url: path, headers });
      if (response.statusCode !== 200) throw new Error(`GET ${path}: ${response.statusCode} ${response.body}`);
      items = (response.json() as { computed: unknown[] }).computed.length;
    },
    WARM_UP,
    TIMED,
  );
  return { clients, items, ...timing };
}

const emotionNames = ['sadness', 'anger', 'fear', 'shame', 'joy'];

/** 365 diary days up to yesterday, 50 events and a year of weekly sessions for the measured client. */
async function seedMeasuredClient(sql: pg.Client, clinicId: string, clientId: string, therapistId: string, targetIds: string[]) {
  const today = dateOf(new Date());
  const firstDay = addDays(today, -365);
  const cards = new Map<string, string>();
  const days: Array<{ cardId: string; day: string; entry: DiaryDayEntry }> = [];
  for (let i = 0; i < 365; i++) {
    const day = addDays(firstDay, i);
    const week = mondayOf(day);
    let cardId = cards.get(week);
    if (!cardId) {
      cardId = uuidv7();
      cards.set(week, cardId);
    }
    const entry: DiaryDayEntry = {
      targets: targetIds.map((targetId) => ({
        targetId,
        targetVersion: 1,
        urge: randomInt(5),
        action: Math.random() < 0.08 ? (Math.random() < 0.5 ? true : 1 + randomInt(2)) : false,
      })),
      emotions: Object.fromEntries(emotionNames.filter(() => Math.random() < 0.6).map((name) => [name, randomInt(5)])),
      substances: { alcoholDrinks: Math.random() < 0.2 ? randomInt(3) : null, drugs: [], prn: [], prescribedTaken: true },
      skillsOverall: randomInt(7),
      skillIds: [],
      urgeToQuit: randomInt(5),
      notes: null,
    };
    days.push({ cardId, day, entry });
  }
  const cardRows = [...cards.entries()];
  await sql.query(
    `insert into diary_cards (clinic_id, id, client_id, week_start)
     select $1, c.id, $2, c.week_start from unnest($3::uuid[], $4::date[]) as c(id, week_start)`,
    [clinicId, clientId, cardRows.map(([, id]) => id), cardRows.map(([week]) => week)],
  );
  await sql.query(
    `insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
     select $1, d.card_id, d.day, d.entry, d.day + time '21:00', d.day + time '21:00', false
       from unnest($2::uuid[], $3::date[], $4::jsonb[]) as d(card_id, day, entry)`,
    [clinicId, days.map((d) => d.cardId), days.map((d) => d.day), days.map((d) => JSON.stringify(d.entry))],
  );

  const kinds = ['nssi', 'suicidal_crisis_behaviour', 'ed_visit'] as const;
  const severities = ['low', 'moderate', 'high'] as const;
  const events = Array.from({ length: 50 }, () => ({
    id: uuidv7(),
    kind: pick(kinds),
    severity: pick(severities),
    occurredAt: new Date(Date.now() - (1 + Math.random() * 364) * DAY).toISOString(),
  }));
  await sql.query(
    `insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, severity, source, description, recorded_by)
     select $1, e.id, $2, e.kind, e.occurred_at, e.severity, 'client_report', 'Synthetic benchmark event', $3
       from unnest($4::uuid[], $5::text[], $6::timestamptz[], $7::text[]) as e(id, kind, occurred_at, severity)`,
    [
      clinicId,
      clientId,
      therapistId,
      events.map((e) => e.id),
      events.map((e) => e.kind),
      events.map((e) => e.occurredAt),
      events.map((e) => e.severity),
    ],
  );

  // Weekly sessions over the past year, the last one this week; mostly attended.
  const sessions = Array.from({ length: 52 }, (_, i) => {
    const at = new Date(Date.now() - (52 - i) * 7 * DAY);
    at.setUTCHours(10, 0, 0, 0);
    const roll = Math.random();
    const attendance = roll < 0.85 ? 'attended' : roll < 0.93 ? 'late' : 'no_show';
    return { id: uuidv7(), at: at.toISOString(), attendance, lateMinutes: attendance === 'late' ? 5 + randomInt(15) : null };
  });
  await sql.query(
    `insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type, attendance, late_minutes, created_by)
     select $1, s.id, $2, $3, s.at, 50, 'regular', s.attendance, s.late_minutes, $3
       from unnest($4::uuid[], $5::timestamptz[], $6::text[], $7::int[]) as s(id, at, attendance, late_minutes)`,
    [
      clinicId,
      clientId,
      therapistId,
      sessions.map((s) => s.id),
      sessions.map((s) => s.at),
      sessions.map((s) => s.attendance),
      sessions.map((s) => s.lateMinutes),
    ],
  );
}

/**
 * Tops the clinic up from `from` to `to` clients. Each other client gets one target, 52 weeks of
 * diary days, 10 events and 52 weekly sessions, with one INSERT … SELECT per table and batch.
 */
async function seedOtherClients(sql: pg.Client, clinicId: string, programId: string, therapistId: string, from: number, to: number) {
  const firstWeek = mondayOf(addDays(dateOf(new Date()), -7 * OTHER_WEEKS));
  for (let low = from; low < to; low += BATCH) {
    const high = Math.min(to, low + BATCH) - 1;
    const key = (n: number) => `other-${String(n).padStart(6, '0')}`;
    const batch = `c.clinic_id = $1 and c.external_record_number between '${key(low)}' and '${key(high)}'`;
    await sql.query('begin');
    await sql.query(
      `insert into clients (clinic_id, id, given_name, family_name, date_of_birth, external_record_number, program_id, primary_therapist_id, status)
       select $1, gen_random_uuid(), 'Other', 'Client ' || g, date '1980-01-01' + (g % 7000), 'other-' || lpad(g::text, 6, '0'), $2, $3, 'active'
         from generate_series($4::int, $5::int) g`,
      [clinicId, programId, therapistId, low, high],
    );
    await sql.query(
      `insert into targets (clinic_id, target_id, version, client_id, category, life_threatening_subtype, direction, measure, label, effective_from, created_by)
       select $1, md5(c.id::text)::uuid, 1, c.id, 'life_threatening', 'nssi', 'decrease', 'urge_and_action', 'Self-harm', now() - interval '400 days', $2
         from clients c where ${batch}`,
      [clinicId, therapistId],
    );
    await sql.query(
      `insert into diary_cards (clinic_id, id, client_id, week_start)
       select $1, gen_random_uuid(), c.id, $2::date + w * 7
         from clients c, generate_series(0, ${OTHER_WEEKS - 1}) w where ${batch}`,
      [clinicId, firstWeek],
    );
    await insertSyntheticDiaryDays(sql, clinicId, batch, dateOf(new Date()), 0.08);
    await sql.query(
      `insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, severity, source, recorded_by)
       select $1, gen_random_uuid(), c.id, (array['nssi', 'suicidal_crisis_behaviour', 'ed_visit'])[1 + floor(random() * 3)::int],
              now() - (1 + random() * 364) * interval '1 day', 'moderate', 'client_report', $2
         from clients c, generate_series(1, ${OTHER_EVENTS}) e where ${batch}`,
      [clinicId, therapistId],
    );
    await sql.query(
      `insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type, attendance, created_by)
       select $1, gen_random_uuid(), c.id, $2, date_trunc('day', now()) - w * interval '7 days' + interval '14 hours', 50, 'regular',
              case when random() < 0.9 then 'attended' else 'no_show' end, $2
         from clients c, generate_series(1, ${OTHER_WEEKS}) w where ${batch}`,
      [clinicId, therapistId],
    );
    await sql.query('commit');
  }
}

runMain(main);
