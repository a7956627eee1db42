/**
 * Consultation-team meeting benchmark (issue 8): a team of eight therapists with 80 active clients
 * and a year of their data. Measured in-process with app.inject against a real PostgreSQL:
 *   - the goal: POST /v1/teams/:id/meetings (the weekly meeting: the previous meeting's open items
 *     carried over, and the pre-fill over the team's clients) followed by GET /v1/meetings/:id/prep
 *     for the 20 client items carried over, p95 under 150 ms for the pair;
 *   - each of the two alone, the packet as Markdown, and the packet with all 80 clients on the
 *     agenda (a stress figure);
 *   - the SQL statements each request sends, counted by wrapping pg.Client.prototype.query (the
 *     pool's queries go through it too), so a query per client would show;
 * first with only the team's 80 clients in the clinic, then with 5,000 other clients added.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/meeting.ts
 *
 * Creates a fresh database on that server, drops it at the end (kept with BENCH_KEEP_DATABASE=1,
 * for EXPLAIN), and writes the results into bench/README.md between the meeting markers. All data
 * is synthetic.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import type { App } from '../src/app.js';
import { type AgendaCategory, type DiaryDayEntry, type ProposalKind, proposalKinds } from '../src/db/schema/index.js';
import { uuidv7 } from '../src/lib/ids.js';
import { defaultDiaryEmotions, insertProgram } from '../src/modules/programs/programs.queries.js';
import { insertStaff } from '../src/modules/staff/staff.service.js';
import {
  addDays,
  type BenchContext,
  benchClinic,
  log,
  machineLine,
  mondayOf,
  ms,
  percentile,
  runMain,
  secret,
  stamp,
  type Timing,
  timeCalls,
  withBenchDatabase,
  writeSection,
} from './harness.js';
import { busyShare, type CpuSample, hostCpu } from './stats.js';

const COMMAND = 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/meeting.ts';
const TIME_ZONE = 'America/New_York';
const THERAPISTS = 8;
const PER_THERAPIST = 10;
const CLIENTS = THERAPISTS * PER_THERAPIST;
/** Clients of the previous meeting's open items, carried over to the new one: every fourth client. */
const CARRIED_EVERY = 4;
const OTHERS = 5000;
const OTHER_WEEKS = 13;
const GROUP_SIZE = 8;
const WARM_UP = 20;
const TIMED = 120;
const GOAL_P95_MS = 150;
const BATCH = 500;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Counting statements: every statement a request sends, attributed to it by AsyncLocalStorage, so
// the audit sealer's background passes on the same pool are not counted.

interface Statement {
  label: string;
  ms: number;
  rows: number;
}
const recording = new AsyncLocalStorage<Statement[]>();

/** The verb and the tables a statement names, as a short label: "select: clinics, clients, treatment_episodes". */
function labelOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const verb = /^\s*(\w+)/.exec(flat)?.[1]?.toLowerCase() ?? '?';
  if (verb === 'begin' || verb === 'commit' || verb === 'rollback') return verb;
  const fn = /^select \* from (\w+)\(/i.exec(flat)?.[1];
  if (fn) return `select: ${fn}(…)`;
  const tables = [...flat.matchAll(/\b(?:from|join|into|update)\s+"?(\w+)"?/gi)]
    .map((m) => m[1] as string)
    .filter(
      (name) =>
        !['lateral', 'jsonb_populate_recordset', 'jsonb_to_recordset', 'unnest', 'generate_series', 'of', 'set'].includes(
          name.toLowerCase(),
        ),
    );
  const unique = [...new Set(tables)];
  const extra = [/ for update/i.test(flat) ? ' (for update)' : '', / on conflict/i.test(flat) ? ' (on conflict)' : ''].join('');
  const listed = unique.length > 4 ? `${unique.slice(0, 4).join(', ')}, …` : unique.join(', ');
  return `${verb}: ${listed}${extra}`;
}

function countStatements() {
  type Query = (this: unknown, ...args: unknown[]) => unknown;
  const proto = pg.Client.prototype as unknown as { query: Query };
  const original = proto.query;
  proto.query = function query(this: unknown, ...args: unknown[]) {
    const statements = recording.getStore();
    if (!statements) return original.apply(this, args);
    const first = args[0] as string | { text?: string } | undefined;
    const statement: Statement = { label: labelOf(typeof first === 'string' ? first : (first?.text ?? '')), ms: Number.NaN, rows: 0 };
    statements.push(statement);
    const start = process.hrtime.bigint();
    const done = (result: unknown) => {
      statement.ms = Number(process.hrtime.bigint() - start) / 1e6;
      statement.rows = (result as { rowCount?: number | null; rows?: unknown[] } | undefined)?.rows?.length ?? 0;
    };
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, result: unknown) => {
        done(result);
        callback(error, result);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result instanceof Promise) result.then(done, () => done(undefined));
    return result;
  };
}

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
const pad = (n: number, width = 3) => String(n).padStart(width, '0');
const isoWeekday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
/** The first date on or after `day` that falls on the ISO weekday. */
const onOrAfter = (day: string, weekday: number) => addDays(day, (weekday - isoWeekday(day) + 7) % 7);
/** A clinic-local wall-clock time; the seeding session runs in the clinic's zone, so Postgres reads it as local. */
const local = (day: string, hour: number, minute = 0) => `${day}T${pad(hour, 2)}:${pad(minute, 2)}:00`;

type Row = Record<string, unknown>;

/** Inserts rows (snake_case keys, the same in every row) as one JSON parameter per chunk. */
async function insertRows(sql: pg.Client, table: string, rows: Row[], chunk = 2000) {
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

// ---------------------------------------------------------------------------------------------

type Key = 'pair' | 'post' | 'prep' | 'markdown' | 'stress';

interface Measured extends Timing {
  key: Key;
  clinicClients: number;
  label: string;
  goal: number | null;
  /** Statements per request over the timed calls: fewest and most. */
  statements: [number, number];
  recordings: Statement[][];
}

interface Seeded {
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

async function main() {
  countStatements();
  await withBenchDatabase('dialectic_meeting', async (bench) => {
    const { serverVersion, started } = bench;
    const { rows, seeded, proposals, cpu } = await run(bench);
    const table = [
      '| clients in the clinic | operation | statements per request | p50 | p95 | p99 | max | goal (p95) | met? |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
      ...rows.map((r) => {
        const [few, most] = r.statements;
        const goal = r.goal === null ? '—' : `< ${r.goal} ms`;
        const met = r.goal === null ? '—' : r.p95 < r.goal ? 'yes' : '**no**';
        return `| ${r.clinicClients.toLocaleString('en-US')} | ${r.label} | ${few === most ? few : `${few}–${most}`} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${goal} | ${met} |`;
      }),
    ].join('\n');
    log(`\n${table}\n`);
    const last = rows.filter((r) => r.clinicClients === CLIENTS + OTHERS);
    const byKey = (key: Key) => last.find((r) => r.key === key) as Measured;
    const [pair, post, prep20, prep80] = (['pair', 'post', 'prep', 'stress'] as const).map(byKey);
    const breakdown = statementTable([
      ['POST …/meetings', post as Measured],
      ['GET …/prep, 20 clients', prep20 as Measured],
      ['GET …/prep, 80 clients', prep80 as Measured],
    ]);
    log(`${breakdown}\n`);
    const met = rows.filter((r) => r.goal !== null).every((r) => r.p95 < (r.goal as number));
    const count20 = (prep20 as Measured).statements;
    const count80 = (prep80 as Measured).statements;
    const growth =
      count20[1] === count80[1] && count20[0] === count80[0]
        ? `the packet sends the same ${count80[1]} statements for 20 and for 80 clients on the agenda`
        : `the packet sends ${count20.join('–')} statements for 20 clients and ${count80.join('–')} for 80 (${grownLabels(prep20 as Measured, prep80 as Measured)})`;
    await writeSection(
      'meeting',
      'Consultation-team meeting: pre-fill and prep packet',
      [
        `Measured ${stamp(started)} with \`${COMMAND}\`.`,
        '',
        `**Goal (the pair's p95 under ${GOAL_P95_MS} ms, in both clinic sizes): ${met ? 'met' : 'not met'}.** With ${(CLIENTS + OTHERS).toLocaleString('en-US')} clients in the clinic the pair's p95 was ${ms((pair as Measured).p95)}; ${growth}.`,
        '',
        table,
        '',
        `- Each timed POST creates the week's meeting (dated today in ${TIME_ZONE}), carries over the previous meeting's ${seeded.carried} open items (${seeded.carriedClients} about clients) and pre-fills ${proposals} proposals from the team's ${CLIENTS} clients; the GET then builds the packet for those ${seeded.carriedClients} clients. After each pair, outside the timing, the new meeting, its items and proposals are deleted and the carried items reopened with SQL, so every iteration starts from the same state.`,
        `- ${WARM_UP} warm-up calls, then ${TIMED} timed calls one after another; every response must be 2xx and carry what it should. Statements are counted per request (every \`pg.Client#query\` made on its behalf, the audit record's included; the sealer's background passes are not).`,
        ...cpu,
        ...machineLine(serverVersion),
        '',
        `Statements per request with ${(CLIENTS + OTHERS).toLocaleString('en-US')} clients in the clinic: how many of each, the median (and p95) of their summed time per request, from the call to its result (so it includes the round trip, the wait for a CPU and parsing the rows; the packet's statements, sent side by side on several connections, overlap), and the rows they returned.`,
        '',
        breakdown,
      ].join('\n'),
    );
  });
}

/** One row per statement label, in the order of first appearance, with one column per request. */
function statementTable(columns: Array<[string, Measured]>): string {
  const labels: string[] = [];
  for (const [, measured] of columns) for (const s of measured.recordings[0] ?? []) if (!labels.includes(s.label)) labels.push(s.label);
  const cell = (measured: Measured, label: string) => {
    const per = measured.recordings.map((statements) => statements.filter((s) => s.label === label));
    const counts = per.map((list) => list.length);
    const [few, most] = [Math.min(...counts), Math.max(...counts)];
    if (most === 0) return '—';
    const times = per.map((list) => list.reduce((sum, s) => sum + s.ms, 0)).sort((a, b) => a - b);
    const rows = per.map((list) => list.reduce((sum, s) => sum + s.rows, 0)).sort((a, b) => a - b);
    const n = few === most ? few : `${few}–${most}`;
    const returned = percentile(rows, 50);
    return `${n} × ${ms(percentile(times, 50))} (p95 ${ms(percentile(times, 95))}), ${returned.toLocaleString('en-US')} ${returned === 1 ? 'row' : 'rows'}`;
  };
  const totals = columns.map(([, m]) => {
    const counts = m.recordings.map((r) => r.length);
    return `**${Math.min(...counts) === Math.max(...counts) ? counts[0] : `${Math.min(...counts)}–${Math.max(...counts)}`}**`;
  });
  return [
    `| statement | ${columns.map(([name]) => name).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    ...labels.map((label) => `| \`${label}\` | ${columns.map(([, m]) => cell(m, label)).join(' | ')} |`),
    `| all statements | ${totals.join(' | ')} |`,
  ].join('\n');
}

function grownLabels(small: Measured, large: Measured): string {
  const count = (m: Measured, label: string) => (m.recordings[0] ?? []).filter((s) => s.label === label).length;
  const labels = [...new Set((large.recordings[0] ?? []).map((s) => s.label))];
  return labels
    .filter((label) => count(large, label) !== count(small, label))
    .map((label) => `${label}: ${count(small, label)} → ${count(large, label)}`)
    .join('; ');
}

async function run(bench: BenchContext) {
  const { seeder: sql, clinic, admin } = await benchClinic(bench, 'meeting-bench', 'Meeting Benchmark Clinic');
  const { app, database } = bench;
  try {
    await sql.query('update clinics set time_zone = $2 where id = $1', [clinic.id, TIME_ZONE]);
    await sql.query(`set time zone '${TIME_ZONE}'`);
    const today = (await sql.query<{ today: string }>('select current_date::text as today')).rows[0]?.today as string;
    const { program } = await insertProgram(database.db, {
      clinicId: clinic.id,
      name: 'Adult DBT',
      kind: 'adult',
      effectiveFrom: '2020-01-01',
      createdBy: admin.id,
    });
    const therapists = [];
    for (let i = 1; i <= THERAPISTS; i++) {
      therapists.push(
        await insertStaff(database.db, clinic.id, {
          email: `therapist${pad(i, 2)}@meeting-bench.example`,
          displayName: `Bench Therapist ${pad(i, 2)}`,
          roles: i === 1 ? ['therapist', 'team_lead'] : ['therapist'],
          password: secret(),
        }),
      );
    }
    const outsider = await insertStaff(database.db, clinic.id, {
      email: 'other-therapist@meeting-bench.example',
      displayName: 'Bench Therapist outside the team',
      roles: ['therapist'],
      password: secret(),
    });
    const lead = therapists[0] as (typeof therapists)[number];

    const seedStart = process.hrtime.bigint();
    const teamId = uuidv7();
    await insertRows(sql, 'teams', [
      {
        clinic_id: clinic.id,
        id: teamId,
        program_id: program.id,
        name: 'Bench Consultation Team',
        lead_id: lead.id,
        created_by: admin.id,
      },
    ]);
    await insertRows(
      sql,
      'team_members',
      therapists.map((t) => ({
        clinic_id: clinic.id,
        id: uuidv7(),
        team_id: teamId,
        staff_id: t.id,
        joined_on: addDays(today, -400),
        agreements_accepted_at: local(addDays(today, -400), 12),
      })),
    );
    const team = await seedTeamClients(sql, {
      clinicId: clinic.id,
      programId: program.id,
      teamId,
      today,
      therapistIds: therapists.map((t) => t.id),
    });
    const meetings = await seedMeetings(sql, {
      clinicId: clinic.id,
      teamId,
      today,
      clients: team,
      therapistIds: therapists.map((t) => t.id),
    });
    await sql.query('vacuum analyze');
    log(
      `Seeded the team's ${CLIENTS} clients and a year of meetings in ${(Number(process.hrtime.bigint() - seedStart) / 1e9).toFixed(1)} s.`,
    );

    const seeded: Seeded = {
      clinicId: clinic.id,
      teamId,
      today,
      outsiderId: outsider.id,
      programId: program.id,
      ...meetings,
    };
    const headers = { authorization: `Bearer ${app.jwt.sign({ sub: lead.id, cid: clinic.id, roles: lead.roles, jti: uuidv7() })}` };

    const rows: Measured[] = [];
    let proposals = 0;
    const cpu: string[] = [];
    for (const clinicClients of [CLIENTS, CLIENTS + OTHERS]) {
      if (clinicClients > CLIENTS) {
        const start = process.hrtime.bigint();
        await seedOthers(sql, seeded, clinicClients - CLIENTS);
        await sql.query('vacuum analyze');
        log(
          `Seeded ${(clinicClients - CLIENTS).toLocaleString('en-US')} other clients in ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(1)} s.`,
        );
      }
      log(`${clinicClients.toLocaleString('en-US')} clients in the clinic; measuring…`);
      const step = await measure(app, sql, headers, seeded, clinicClients);
      proposals = step.proposals;
      rows.push(...step.rows);
      cpu.push(`- CPU during the timed pairs with ${clinicClients.toLocaleString('en-US')} clients in the clinic: ${step.cpu}.`);
    }
    return { rows, seeded, proposals, cpu };
  } finally {
    await sql.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Where the CPU went while measuring: the host, this process, and the server backends of the bench
// database (read from /proc when the server runs on this host), so other load on the machine shows.

interface CpuMark {
  at: bigint;
  host: CpuSample;
  self: NodeJS.CpuUsage;
  backends: Map<number, number>;
}

async function cpuMark(sql: pg.Client): Promise<CpuMark> {
  const { rows } = await sql.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
  const backends = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
      backends.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // Not on this host, or gone.
    }
  }
  return { at: process.hrtime.bigint(), host: hostCpu(os.cpus()), self: process.cpuUsage(), backends };
}

function cpuLine(before: CpuMark, after: CpuMark): string {
  const seconds = Number(after.at - before.at) / 1e9;
  const cores = os.cpus().length;
  const host = busyShare(before.host, after.host) * cores;
  const self = (after.self.user - before.self.user + after.self.system - before.self.system) / 1e6 / seconds;
  let backendSeconds = 0;
  for (const [pid, used] of after.backends) backendSeconds += used - (before.backends.get(pid) ?? 0);
  const backends = after.backends.size > 0 ? backendSeconds / seconds : null;
  const others = backends === null ? null : Math.max(0, host - self - backends);
  const rest = others === null ? '' : `, everything else on the host ${others.toFixed(2)}`;
  const warning = others !== null && others > 0.25 ? ' (other programs were busy meanwhile: the timings are skewed by that load)' : '';
  return `${host.toFixed(2)} of ${cores} cores busy: this process ${self.toFixed(2)}${backends === null ? '' : `, the bench database's server backends ${backends.toFixed(2)}`}${rest}${warning}`;
}

// ---------------------------------------------------------------------------------------------
// Measuring

type Headers = Record<string, string>;

async function call(app: App, method: 'GET' | 'POST', url: string, headers: Headers, expected: number, payload?: object) {
  const statements: Statement[] = [];
  // inject returns a lazy chain that starts the request when awaited: await it inside the context.
  const response = await recording.run(statements, async () => await app.inject({ method, url, headers, ...(payload ? { payload } : {}) }));
  if (response.statusCode !== expected) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body.slice(0, 2000)}`);
  return { response, statements };
}

const summarize = (values: number[]): Timing => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) as number };
};
const measured = (
  key: Key,
  clinicClients: number,
  label: string,
  goal: number | null,
  timing: Timing,
  recordings: Statement[][],
): Measured => {
  const counts = recordings.map((r) => r.length);
  const row = {
    key,
    clinicClients,
    label,
    goal,
    ...timing,
    statements: [Math.min(...counts), Math.max(...counts)] as [number, number],
    recordings,
  };
  log(`  ${label}: p50 ${ms(row.p50)}, p95 ${ms(row.p95)}, p99 ${ms(row.p99)}, max ${ms(row.max)}; ${row.statements.join('–')} statements`);
  return row;
};

/** Back to the seeded state: the new meeting gone with its items and proposals, the previous meeting's items open again. */
async function reset(sql: pg.Client, s: Seeded, meetingId: string) {
  await sql.query('begin');
  await sql.query('delete from team_agenda_proposals where clinic_id = $1 and meeting_id = $2', [s.clinicId, meetingId]);
  await sql.query('delete from team_agenda_items where clinic_id = $1 and meeting_id = $2', [s.clinicId, meetingId]);
  await sql.query('delete from team_meetings where clinic_id = $1 and id = $2', [s.clinicId, meetingId]);
  const { rowCount } = await sql.query(
    `update team_agenda_items set status = 'open', version = 1, updated_at = created_at
      where clinic_id = $1 and meeting_id = $2 and status = 'carried_over'`,
    [s.clinicId, s.previousId],
  );
  if (rowCount !== s.carried) throw new Error(`reset reopened ${rowCount} items, expected ${s.carried}`);
  await sql.query('commit');
}

async function measure(app: App, sql: pg.Client, headers: Headers, s: Seeded, clinicClients: number) {
  const create = `/v1/teams/${s.teamId}/meetings`;
  const payload = { date: s.today, durationMinutes: 90 };
  type Created = { id: string; carriedOver: number; proposals: number };
  type Packet = { clients: unknown[]; otherItems: unknown[] };

  // Once, untimed: what the pair produces, and the other routes of a meeting on it.
  const first = await call(app, 'POST', create, headers, 201, payload);
  const created = first.response.json() as Created;
  if (created.carriedOver !== s.carried) throw new Error(`carried over ${created.carriedOver} items, expected ${s.carried}`);
  const agenda = (await call(app, 'GET', `/v1/meetings/${created.id}/agenda`, headers, 200)).response.json() as { items: unknown[] };
  if (agenda.items.length !== s.carried) throw new Error(`the agenda holds ${agenda.items.length} items, expected ${s.carried}`);
  const list = (await call(app, 'GET', `/v1/meetings/${created.id}/proposals`, headers, 200)).response.json() as {
    items: Array<{ id: string; clientId: string; kind: string }>;
  };
  const kinds = new Map<string, number>();
  for (const p of list.items) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  log(`  the pre-fill proposes ${list.items.length}: ${[...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  const proposal = list.items[0];
  if (proposal)
    await call(app, 'POST', `/v1/meetings/${created.id}/proposals/${proposal.id}/accept`, headers, 201, { minutesRequested: 10 });
  const packet = (await call(app, 'GET', `/v1/meetings/${created.id}/prep`, headers, 200)).response.json() as Packet;
  log(`  packet after accepting one proposal: ${packet.clients.length} clients, ${packet.otherItems.length} other items`);
  await reset(sql, s, created.id);

  // The pair, timed call by call, with the reset after each outside the timing.
  const cpuBefore = await cpuMark(sql);
  const pair: number[] = [];
  const post: number[] = [];
  const prep: number[] = [];
  const postStatements: Statement[][] = [];
  const prepStatements: Statement[][] = [];
  let proposals = 0;
  for (let i = 0; i < WARM_UP + TIMED; i++) {
    const t0 = process.hrtime.bigint();
    const made = await call(app, 'POST', create, headers, 201, payload);
    const t1 = process.hrtime.bigint();
    const meeting = made.response.json() as Created;
    const read = await call(app, 'GET', `/v1/meetings/${meeting.id}/prep`, headers, 200);
    const t2 = process.hrtime.bigint();
    const got = read.response.json() as Packet;
    if (meeting.carriedOver !== s.carried || got.clients.length !== s.carriedClients) {
      throw new Error(`iteration ${i}: ${meeting.carriedOver} carried over, ${got.clients.length} clients in the packet`);
    }
    proposals = meeting.proposals;
    if (i >= WARM_UP) {
      pair.push(Number(t2 - t0) / 1e6);
      post.push(Number(t1 - t0) / 1e6);
      prep.push(Number(t2 - t1) / 1e6);
      postStatements.push(made.statements);
      prepStatements.push(read.statements);
    }
    await reset(sql, s, meeting.id);
  }
  const cpu = cpuLine(cpuBefore, await cpuMark(sql));
  log(`  CPU during the pairs: ${cpu}`);
  const rows: Measured[] = [
    measured(
      'pair',
      clinicClients,
      `POST + GET: the meeting created, then its packet (${s.carriedClients} clients)`,
      GOAL_P95_MS,
      summarize(pair),
      postStatements.map((statements, i) => [...statements, ...(prepStatements[i] ?? [])]),
    ),
    measured(
      'post',
      clinicClients,
      `POST …/meetings alone (${s.carried} items carried over, ${proposals} proposals from ${CLIENTS} clients)`,
      null,
      summarize(post),
      postStatements,
    ),
    measured(
      'prep',
      clinicClients,
      `GET …/prep, ${s.carriedClients} clients, JSON (just after the POST)`,
      null,
      summarize(prep),
      prepStatements,
    ),
  ];

  // Read-only calls on a meeting left in place: the packet as Markdown, and the stress agenda.
  const kept = (await call(app, 'POST', create, headers, 201, payload)).response.json() as Created;
  const timeGet = async (url: string, check: (body: string) => void) => {
    const recordings: Statement[][] = [];
    const timing = await timeCalls(
      async (i) => {
        const { response, statements } = await call(app, 'GET', url, headers, 200);
        if (i === 0) check(response.body);
        if (i >= WARM_UP) recordings.push(statements);
      },
      WARM_UP,
      TIMED,
    );
    return { timing, recordings };
  };
  const markdown = await timeGet(`/v1/meetings/${kept.id}/prep?format=markdown`, (body) => {
    if (!body.startsWith('#')) throw new Error(`not Markdown: ${body.slice(0, 200)}`);
  });
  rows.push(
    measured(
      'markdown',
      clinicClients,
      `GET …/prep, ${s.carriedClients} clients, format=markdown`,
      null,
      markdown.timing,
      markdown.recordings,
    ),
  );
  const stress = await timeGet(`/v1/meetings/${s.stressId}/prep`, (body) => {
    const clients = (JSON.parse(body) as Packet).clients.length;
    if (clients !== CLIENTS) throw new Error(`stress packet holds ${clients} clients`);
  });
  rows.push(
    measured(
      'stress',
      clinicClients,
      `GET …/prep, ${CLIENTS} clients on the agenda, JSON (stress)`,
      null,
      stress.timing,
      stress.recordings,
    ),
  );
  await reset(sql, s, kept.id);
  return { rows, proposals, cpu };
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

const curriculum = [
  { module: 'mindfulness', weeks: 2 },
  { module: 'distress_tolerance', weeks: 6 },
  { module: 'mindfulness', weeks: 2 },
  { module: 'emotion_regulation', weeks: 8 },
  { module: 'mindfulness', weeks: 2 },
  { module: 'interpersonal_effectiveness', weeks: 4 },
];
const moduleOfWeek = (cycleWeek: number) => {
  let week = ((cycleWeek - 1) % 24) + 1;
  for (const block of curriculum) {
    if (week <= block.weeks) return { module: block.module, moduleWeek: week };
    week -= block.weeks;
  }
  return { module: 'mindfulness', moduleWeek: 1 };
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
async function seedTeamClients(sql: pg.Client, s: TeamSeed): Promise<TeamClient[]> {
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
      const { module, moduleWeek } = moduleOfWeek(w + 1);
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

const categoryOf: Record<ProposalKind, AgendaCategory> = {
  life_threatening_behaviour: 'client_life_threatening',
  twenty_four_hour_rule: 'client_life_threatening',
  event_without_chain: 'client_life_threatening',
  four_miss: 'client_therapy_interfering',
  coaching_use: 'client_therapy_interfering',
  relationship_repair: 'client_therapy_interfering',
  contract_ending: 'consult',
};
const clientCategories: AgendaCategory[] = ['client_life_threatening', 'client_therapy_interfering', 'consult'];

/**
 * Weekly meetings for the past year, each with its attendance, roles, minutes, the items it
 * discussed and the proposals it accepted or dismissed. The previous meeting (a week ago) has 20
 * client items and 2 others still open, which the new meeting carries over. The stress meeting,
 * dated tomorrow (after the new one, so it is not its previous meeting), has all 80 clients on its
 * agenda.
 */
async function seedMeetings(
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
async function seedOthers(sql: pg.Client, s: Seeded, count: number) {
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
    await sql.query(
      `insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
       select $1, dc.id, dc.week_start + d,
              jsonb_build_object(
                'targets', jsonb_build_array(jsonb_build_object('targetId', md5(c.id::text)::uuid, 'targetVersion', 1,
                  'urge', floor(random() * 6)::int, 'action', random() < 0.03)),
                'emotions', jsonb_build_object('sadness', floor(random() * 6)::int, 'anger', floor(random() * 6)::int, 'shame', floor(random() * 6)::int),
                'substances', '{"alcoholDrinks": null, "drugs": [], "prn": [], "prescribedTaken": true}'::jsonb,
                'skillsOverall', floor(random() * 8)::int, 'skillIds', '[]'::jsonb, 'urgeToQuit', floor(random() * 6)::int, 'notes', null),
              dc.week_start + d + time '21:00', dc.week_start + d + time '21:00', false
         from clients c
         join diary_cards dc on dc.clinic_id = c.clinic_id and dc.client_id = c.id
         cross join generate_series(0, 6) d
        where ${batch} and dc.week_start + d < $2::date`,
      [s.clinicId, s.today],
    );
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

runMain(main);
