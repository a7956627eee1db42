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
import { uuidv7 } from '../src/lib/ids.js';
import { insertProgram } from '../src/modules/programs/programs.queries.js';
import { insertStaff } from '../src/modules/staff/staff.service.js';
import {
  addDays,
  type BenchContext,
  benchClinic,
  log,
  machineLine,
  ms,
  runMain,
  secret,
  stamp,
  summarize,
  type Timing,
  timeCalls,
  withBenchDatabase,
  writeSection,
} from './harness.js';
import {
  CLIENTS,
  insertRows,
  local,
  OTHERS,
  pad,
  type Seeded,
  seedMeetings,
  seedOthers,
  seedTeamClients,
  THERAPISTS,
  TIME_ZONE,
} from './meeting.seed.js';
import { busyShare, type CpuSample, hostCpu, percentile } from './stats.js';

const COMMAND = 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/meeting.ts';
const WARM_UP = 20;
const TIMED = 120;
/** Calls after the timed ones whose statements are recorded (not timed: recording slows the process). */
const RECORDED = 30;
const GOAL_P95_MS = 150;

// ---------------------------------------------------------------------------------------------
// Counting statements: every statement a request sends, attributed to it by AsyncLocalStorage, so
// the audit sealer's background passes on the same pool are not counted. Only the recorded calls
// run inside it: while an AsyncLocalStorage is enabled, Node.js runs an async hook on every promise.

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

type Key = 'pair' | 'post' | 'prep' | 'markdown' | 'stress';

interface Measured extends Timing {
  key: Key;
  clinicClients: number;
  label: string;
  goal: number | null;
  /** Statements per request over the recorded calls: fewest and most. */
  statements: [number, number];
  recordings: Statement[][];
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
        `- ${WARM_UP} warm-up calls, then ${TIMED} timed calls one after another; every response must be 2xx and carry what it should. Then ${RECORDED} more calls, not timed, whose statements are counted per request (every \`pg.Client#query\` made on its behalf, the audit record's included; the sealer's background passes are not): attributing them takes an AsyncLocalStorage, whose async hook slows every promise of the process, so it is enabled for those calls only.`,
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
    const returned = percentile(rows, 0.5);
    return `${n} × ${ms(percentile(times, 0.5))} (p95 ${ms(percentile(times, 0.95))}), ${returned.toLocaleString('en-US')} ${returned === 1 ? 'row' : 'rows'}`;
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

/** One request; with `record`, the statements it sends are collected (call `recording.disable()` after a recorded pass). */
async function call(app: App, method: 'GET' | 'POST', url: string, headers: Headers, expected: number, payload?: object, record = false) {
  const statements: Statement[] = [];
  const send = () => app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  // inject returns a lazy chain that starts the request when awaited: await it inside the context.
  const response = record ? await recording.run(statements, async () => await send()) : await send();
  if (response.statusCode !== expected) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body.slice(0, 2000)}`);
  return { response, statements };
}

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
  let cpuBefore: CpuMark | undefined;
  let cpuAfter: CpuMark | undefined;
  const pair: number[] = [];
  const post: number[] = [];
  const prep: number[] = [];
  const postStatements: Statement[][] = [];
  const prepStatements: Statement[][] = [];
  let proposals = 0;
  for (let i = 0; i < WARM_UP + TIMED + RECORDED; i++) {
    const timed = i >= WARM_UP && i < WARM_UP + TIMED;
    const record = i >= WARM_UP + TIMED;
    if (i === WARM_UP) cpuBefore = await cpuMark(sql);
    if (i === WARM_UP + TIMED) cpuAfter = await cpuMark(sql);
    const t0 = process.hrtime.bigint();
    const made = await call(app, 'POST', create, headers, 201, payload, record);
    const t1 = process.hrtime.bigint();
    const meeting = made.response.json() as Created;
    const read = await call(app, 'GET', `/v1/meetings/${meeting.id}/prep`, headers, 200, undefined, record);
    const t2 = process.hrtime.bigint();
    const got = read.response.json() as Packet;
    if (meeting.carriedOver !== s.carried || got.clients.length !== s.carriedClients) {
      throw new Error(`iteration ${i}: ${meeting.carriedOver} carried over, ${got.clients.length} clients in the packet`);
    }
    proposals = meeting.proposals;
    if (timed) {
      pair.push(Number(t2 - t0) / 1e6);
      post.push(Number(t1 - t0) / 1e6);
      prep.push(Number(t2 - t1) / 1e6);
    }
    if (record) {
      postStatements.push(made.statements);
      prepStatements.push(read.statements);
    }
    await reset(sql, s, meeting.id);
  }
  recording.disable();
  const cpu = cpuLine(cpuBefore as CpuMark, cpuAfter as CpuMark);
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
    const timing = await timeCalls(
      async (i) => {
        const { response } = await call(app, 'GET', url, headers, 200);
        if (i === 0) check(response.body);
      },
      WARM_UP,
      TIMED,
    );
    const recordings: Statement[][] = [];
    for (let i = 0; i < RECORDED; i++) recordings.push((await call(app, 'GET', url, headers, 200, undefined, true)).statements);
    recording.disable();
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

runMain(main);
