/**
 * Four-miss benchmark: a clinic with 500 active clients, each with a year of weekly individual
 * sessions and a year of weekly skills-group sessions with attendance. Measures, in-process with
 * app.inject against a real PostgreSQL:
 *   - GET /v1/attendance/at-risk, recomputing every client's streaks (goal: p95 under 200 ms);
 *   - one attendance write with its re-evaluation (goal: p95 under 15 ms): a group roster of
 *     eight, and an individual session's attendance;
 *   - for reference, one client's full report.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/attendance.ts
 *
 * Creates a fresh database on that server, drops it at the end, and writes the results into
 * bench/README.md between the attendance markers.
 */
import type pg from 'pg';
import { uuidv7 } from '../src/lib/ids.js';
import { insertProgram } from '../src/modules/programs/programs.queries.js';
import { insertStaff } from '../src/modules/staff/staff.service.js';
import {
  addDays,
  type BenchContext,
  benchClinic,
  dateOf,
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

const CLIENTS = 500;
const WEEKS = 52;
const GROUP_SIZE = 8;

interface Row extends Timing {
  label: string;
  goal: number | null;
  calls: number;
}

async function main() {
  await withBenchDatabase('dialectic_attendance', async (bench) => {
    const { serverVersion, started } = bench;
    const rows = await run(bench);
    const table = [
      '| operation | calls | p50 | p95 | p99 | max | goal (p95) | met? |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
      ...rows.map(
        (r) =>
          `| ${r.label} | ${r.calls} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.goal === null ? '—' : `< ${r.goal} ms`} | ${r.goal === null ? '—' : r.p95 < r.goal ? 'yes' : '**no**'} |`,
      ),
    ].join('\n');
    log(`\n${table}\n`);
    await writeSection(
      'attendance',
      'Four-miss rule: at-risk list and attendance writes',
      [
        `Measured ${stamp(started)} with \`DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/attendance.ts\`.`,
        '',
        table,
        '',
        `- ${CLIENTS} active clients of one therapist, each with ${WEEKS} weekly individual sessions and ${WEEKS} weekly group sessions (groups of ${GROUP_SIZE}) with attendance, mostly attended; some end in runs of misses.`,
        '- Calls are made one after another after a warm-up; every response must be 200.',
        ...machineLine(serverVersion),
      ].join('\n'),
    );
  });
}

async function run(bench: BenchContext): Promise<Row[]> {
  const { seeder: sql, clinic, admin } = await benchClinic(bench, 'attendance-bench', 'Attendance Benchmark Clinic');
  const { app, database } = bench;
  try {
    const member = (email: string, roles: Array<'therapist' | 'skills_trainer'>) =>
      insertStaff(database.db, clinic.id, { email, displayName: `Benchmark ${roles.join(' ')}`, roles, password: secret() });
    const therapist = await member('therapist@attendance-bench.example', ['therapist']);
    const trainer = await member('trainer@attendance-bench.example', ['skills_trainer']);
    const { program } = await insertProgram(database.db, {
      clinicId: clinic.id,
      name: 'Adult DBT',
      kind: 'adult',
      effectiveFrom: '2020-01-01',
      createdBy: admin.id,
    });
    const seedStart = process.hrtime.bigint();
    const firstMonday = mondayOf(addDays(dateOf(new Date()), -7 * WEEKS));
    await seed(sql, {
      clinicId: clinic.id,
      programId: program.id,
      therapistId: therapist.id,
      trainerId: trainer.id,
      adminId: admin.id,
      firstMonday,
    });
    await sql.query('analyze');
    log(`Seeded ${CLIENTS} clients in ${(Number(process.hrtime.bigint() - seedStart) / 1e9).toFixed(1)} s.`);

    const sign = (who: { id: string; roles: string[] }) => ({
      authorization: `Bearer ${app.jwt.sign({ sub: who.id, cid: clinic.id, roles: who.roles, jti: uuidv7() })}`,
    });
    const asTherapist = sign(therapist);
    const asTrainer = sign(trainer);
    const expect200 = async (method: 'GET' | 'PUT' | 'PATCH', path: string, headers: Record<string, string>, payload?: object) => {
      const response = await app.inject({ method, url: path, headers, ...(payload ? { payload } : {}) });
      if (response.statusCode !== 200) throw new Error(`${method} ${path}: ${response.statusCode} ${response.body}`);
      return response;
    };

    const rows: Row[] = [];
    const record = (label: string, goal: number | null, calls: number, timing: Timing) => {
      rows.push({ label, goal, calls, ...timing });
      log(`${label}: p50 ${ms(timing.p50)}, p95 ${ms(timing.p95)}`);
    };

    let atRisk = 0;
    const list = await timeCalls(
      async () => {
        atRisk = (await expect200('GET', '/v1/attendance/at-risk', asTherapist)).json().items.length;
      },
      10,
      50,
    );
    record(`GET /v1/attendance/at-risk (${CLIENTS} clients evaluated, ${atRisk} at risk)`, 200, 50, list);

    // The last group session of the first group, and its roster of eight.
    const { rows: latest } = await sql.query<{ id: string; client_ids: string[] }>(
      `select gs.id, array_agg(en.client_id order by en.client_id) as client_ids
         from group_sessions gs join group_enrollments en on en.clinic_id = gs.clinic_id and en.group_id = gs.group_id
        where gs.clinic_id = $1 and gs.group_id = (select id from skills_groups where clinic_id = $1 order by name limit 1)
          and gs.date < current_date
        group by gs.id, gs.date order by gs.date desc limit 1`,
      [clinic.id],
    );
    const session = latest[0] as { id: string; client_ids: string[] };
    const roster = await timeCalls(
      (i) =>
        expect200('PUT', `/v1/group-sessions/${session.id}/attendance`, asTrainer, {
          entries: session.client_ids.map((clientId, n) => ({
            clientId,
            status: n === 0 && i % 2 === 1 ? 'absent' : 'present',
            homeworkReviewed: true,
          })),
        }),
      20,
      200,
    );
    record('PUT /v1/group-sessions/:id/attendance (roster of 8, one change: that client re-evaluated)', 15, 200, roster);

    const { rows: lastIndividual } = await sql.query<{ id: string; client_id: string; version: number }>(
      `select id, client_id, version from individual_sessions where clinic_id = $1 order by scheduled_start desc, id limit 1`,
      [clinic.id],
    );
    const individual = lastIndividual[0] as { id: string; client_id: string; version: number };
    let version = individual.version;
    const patch = await timeCalls(
      async (i) => {
        const response = await expect200(
          'PATCH',
          `/v1/sessions/${individual.id}`,
          { ...asTherapist, 'if-match': `"${version}"` },
          { attendance: i % 2 === 0 ? 'no_show' : 'attended' },
        );
        version = response.json().version;
      },
      20,
      200,
    );
    record("PATCH /v1/sessions/:id (attendance changed, the client's streaks re-evaluated)", 15, 200, patch);

    // Baselines in the same run: the same writes when nothing changes that could move a streak.
    const unchanged = await timeCalls(
      () =>
        expect200('PUT', `/v1/group-sessions/${session.id}/attendance`, asTrainer, {
          entries: session.client_ids.map((clientId) => ({ clientId, status: 'present', homeworkReviewed: true })),
        }),
      20,
      200,
    );
    record('baseline: the same PUT with nothing changed (no re-evaluation)', null, 200, unchanged);
    const homework = await timeCalls(
      async (i) => {
        const response = await expect200(
          'PATCH',
          `/v1/sessions/${individual.id}`,
          { ...asTherapist, 'if-match': `"${version}"` },
          { homework: `Practise paced breathing, round ${i}` },
        );
        version = response.json().version;
      },
      20,
      200,
    );
    record('baseline: PATCH /v1/sessions/:id of the homework only (no re-evaluation)', null, 200, homework);

    const report = await timeCalls(() => expect200('GET', `/v1/clients/${individual.client_id}/attendance`, asTherapist), 20, 200);
    record('GET /v1/clients/:id/attendance (one client, a year of both modalities)', null, 200, report);
    return rows;
  } finally {
    await sql.end();
  }
}

interface Seed {
  clinicId: string;
  programId: string;
  therapistId: string;
  trainerId: string;
  adminId: string;
  firstMonday: string;
}

/**
 * Clients, their active episodes, groups with a year of Wednesday sessions, enrollments, group
 * attendance and Monday individual sessions, each table with one INSERT … SELECT. Every tenth
 * client ends with three missed weeks in one modality, every twentieth with four in the other.
 */
async function seed(sql: pg.Client, s: Seed) {
  await sql.query('begin');
  await sql.query(
    `insert into clients (clinic_id, id, given_name, family_name, date_of_birth, external_record_number, program_id, primary_therapist_id, status)
     select $1, gen_random_uuid(), 'Bench', 'Client ' || lpad(g::text, 4, '0'), date '1980-01-01' + (g % 7000), 'bench-' || lpad(g::text, 4, '0'), $2, $3, 'active'
       from generate_series(0, ${CLIENTS - 1}) g`,
    [s.clinicId, s.programId, s.therapistId],
  );
  const number = `(substr(c.external_record_number, 7)::int)`;
  await sql.query(
    `insert into treatment_episodes (clinic_id, id, client_id, program_id, policy_version, status, referred_on, pretreatment_on, contract_start, contract_end, created_by)
     select $1, gen_random_uuid(), c.id, $2, 1, 'active', $3::date - 30, $3::date - 14, $3::date, $3::date + 364, $4
       from clients c where c.clinic_id = $1`,
    [s.clinicId, s.programId, s.firstMonday, s.adminId],
  );
  await sql.query(
    `insert into skills_groups (clinic_id, id, program_id, name, leader_id, weekday, start_time, duration_minutes, curriculum, cycle_start_date, created_by)
     select $1, gen_random_uuid(), $2, 'Group ' || lpad(g::text, 3, '0'), $3, 3, '18:00', 150,
            '[{"module":"mindfulness","weeks":2},{"module":"distress_tolerance","weeks":6},{"module":"mindfulness","weeks":2},{"module":"emotion_regulation","weeks":8},{"module":"mindfulness","weeks":2},{"module":"interpersonal_effectiveness","weeks":4}]'::jsonb,
            $4::date + 2, $5
       from generate_series(0, ${Math.ceil(CLIENTS / GROUP_SIZE) - 1}) g`,
    [s.clinicId, s.programId, s.trainerId, s.firstMonday, s.adminId],
  );
  await sql.query(
    `insert into group_sessions (clinic_id, id, group_id, date, module, module_week, cycle_week, created_by)
     select $1, gen_random_uuid(), g.id, $2::date + 2 + w * 7, 'mindfulness', 1, 1 + w % 24, $3
       from skills_groups g, generate_series(0, ${WEEKS - 1}) w where g.clinic_id = $1`,
    [s.clinicId, s.firstMonday, s.trainerId],
  );
  await sql.query(
    `insert into group_enrollments (clinic_id, id, group_id, client_id, start_date, created_by)
     select $1, gen_random_uuid(), g.id, c.id, $2::date + 2, $3
       from clients c join skills_groups g on g.clinic_id = c.clinic_id and g.name = 'Group ' || lpad((${number} / ${GROUP_SIZE})::text, 3, '0')
      where c.clinic_id = $1`,
    [s.clinicId, s.firstMonday, s.adminId],
  );
  // Trailing runs: clients 0, 10, 20 … miss their last three group weeks; 5, 25, 45 … their last four individual ones.
  await sql.query(
    `insert into group_attendance (clinic_id, session_id, client_id, status, late_minutes, recorded_by)
     select $1, gs.id, c.id, a.status, case when a.status = 'late' then 10 end, $2
       from clients c
       join group_enrollments en on en.clinic_id = c.clinic_id and en.client_id = c.id
       join group_sessions gs on gs.clinic_id = en.clinic_id and gs.group_id = en.group_id and gs.date < current_date
       cross join lateral (select case
         when ${number} % 10 = 0 and gs.date > current_date - 21 - 7 then 'absent'
         when random() < 0.9 then 'present' when random() < 0.5 then 'late' else 'absent' end as status) a
      where c.clinic_id = $1`,
    [s.clinicId, s.trainerId],
  );
  await sql.query(
    `insert into individual_sessions (clinic_id, id, client_id, therapist_id, scheduled_start, duration_minutes, type, attendance, late_minutes, created_by)
     select $1, gen_random_uuid(), c.id, $2, ($3::date + w * 7) + time '10:00', 50, 'regular', a.attendance,
            case when a.attendance = 'late' then 10 end, $2
       from clients c cross join generate_series(0, ${WEEKS - 1}) w
       cross join lateral (select case
         when ${number} % 20 = 5 and w >= ${WEEKS - 4} then 'no_show'
         when random() < 0.88 then 'attended' when random() < 0.5 then 'no_show'
         when random() < 0.5 then 'cancelled_by_clinic' else 'late' end as attendance) a
      where c.clinic_id = $1 and ($3::date + w * 7) + time '10:00' < now()`,
    [s.clinicId, s.therapistId, s.firstMonday],
  );
  await sql.query('commit');
}

runMain(main);
