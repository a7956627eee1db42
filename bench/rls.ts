/**
 * Row-level security cost on the read path: the same reads, in the same run, against two apps on
 * one database — one as shipped (each request in a transaction as dialectic_app, scoped to its
 * clinic by the policies of migration 0014), one with DB_ROW_SECURITY=off (queries straight on the
 * pool as the owner, the policies never consulted). Rounds alternate between the two so drift on
 * a shared machine falls on both. Goal: under 10 % added latency. Both apps share one process, so
 * neither may add a process-wide cost the other then pays too: the app installs no async hooks
 * (an AsyncLocalStorage once did, and slowed the off app's every promise as much as its own).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/rls.ts
 *
 * Creates a fresh database on that server, drops it at the end, and writes the results into
 * bench/README.md between the rls markers.
 */
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { uuidv7 } from '../src/lib/ids.js';
import { insertProgram } from '../src/modules/programs/programs.queries.js';
import { insertStaff } from '../src/modules/staff/staff.service.js';
import { benchClinic, benchEnv, log, machineLine, ms, runMain, secret, stamp, withBenchDatabase, writeSection } from './harness.js';
import { percentile } from './stats.js';

const CLIENTS = 200;
const ROUNDS = Number(process.env.RLS_ROUNDS ?? 40);
const CALLS_PER_ROUND = Number(process.env.RLS_CALLS ?? 100);
const CONCURRENCY = 8;

runMain(async () => {
  await withBenchDatabase('rls', async (bench) => {
    const { seeder, clinic, admin } = await benchClinic(bench, 'rls-bench', 'Row Security Benchmark Clinic');
    try {
      const therapist = await insertStaff(bench.database.db, clinic.id, {
        email: 'therapist@rls-bench.example',
        displayName: 'Benchmark Therapist',
        roles: ['therapist'],
        password: secret(),
      });
      const { program } = await insertProgram(bench.database.db, {
        clinicId: clinic.id,
        name: 'Benchmark adult program',
        kind: 'adult',
        effectiveFrom: '2020-01-01',
        createdBy: admin.id,
        policy: {},
      });
      const clientIds = Array.from({ length: CLIENTS }, () => uuidv7());
      await seeder.query(
        `insert into clients (clinic_id, id, given_name, family_name, date_of_birth, program_id, primary_therapist_id, status)
         select $1, id, 'Bench' || n, 'Synthetic', date '1990-01-01', $2, $3, 'referred'
           from unnest($4::uuid[]) with ordinality as t(id, n)`,
        [clinic.id, program.id, therapist.id, clientIds],
      );
      // Other clinics' rows, so the policy has something to filter.
      await seeder.query(
        `insert into clinics (id, slug, name) select gen_random_uuid(), 'other-' || n, 'Other clinic ' || n from generate_series(1, 20) n`,
      );

      const off = await buildApp(loadConfig(benchEnv(bench.url, { DB_ROW_SECURITY: 'off' })), { database: bench.database, logger: false });
      await off.ready();
      const apps = { on: bench.app, off };
      const tokens = {
        on: apps.on.jwt.sign({ sub: therapist.id, cid: clinic.id, roles: therapist.roles, jti: uuidv7() }),
        off: apps.off.jwt.sign({ sub: therapist.id, cid: clinic.id, roles: therapist.roles, jti: uuidv7() }),
      };
      const reads = [
        (i: number) => `/v1/clients/${clientIds[i % CLIENTS]}`,
        () => '/v1/clients?limit=50',
        (i: number) => `/v1/clients/${clientIds[i % CLIENTS]}/episodes`,
        () => '/v1/me',
      ];
      const call = async (mode: 'on' | 'off', i: number) => {
        const url = (reads[i % reads.length] as (i: number) => string)(i);
        const response = await apps[mode].inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[mode]}` } });
        if (response.statusCode !== 200) throw new Error(`${mode} GET ${url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      };

      const latencies = { on: [] as number[], off: [] as number[] };
      // Each round's sequential mean per mode: the two are measured back to back, so their ratio is
      // the least touched by the host's drift.
      const roundMeans = { on: [] as number[], off: [] as number[] };
      const throughput = { on: [] as number[], off: [] as number[] };
      for (const mode of ['on', 'off'] as const) for (let i = 0; i < 200; i++) await call(mode, i);
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
        for (const mode of order) {
          let total = 0;
          for (let i = 0; i < CALLS_PER_ROUND; i++) {
            const start = process.hrtime.bigint();
            await call(mode, round * CALLS_PER_ROUND + i);
            const took = Number(process.hrtime.bigint() - start) / 1e6;
            latencies[mode].push(took);
            total += took;
          }
          roundMeans[mode].push(total / CALLS_PER_ROUND);
          const started = process.hrtime.bigint();
          let next = 0;
          await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
              while (next < CALLS_PER_ROUND * 2) await call(mode, next++);
            }),
          );
          throughput[mode].push((CALLS_PER_ROUND * 2) / (Number(process.hrtime.bigint() - started) / 1e9));
        }
      }
      await off.close();

      const summary = (mode: 'on' | 'off') => {
        const sorted = [...latencies[mode]].sort((a, b) => a - b);
        const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
        const rps = [...throughput[mode]].sort((a, b) => a - b);
        return { mean, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), rps: percentile(rps, 0.5) };
      };
      const on = summary('on');
      const offSummary = summary('off');
      /** A relative change as a signed percentage: "6.1 %", "−2.9 %" (a typographic minus). */
      const signed = (ratio: number) => `${ratio < 0 ? '−' : ''}${Math.abs(ratio * 100).toFixed(1)} %`;
      const pct = (a: number, b: number) => signed((a - b) / b);
      const roundCosts = roundMeans.on.map((value, round) => value / (roundMeans.off[round] as number) - 1).sort((a, b) => a - b);
      const roundCost = percentile(roundCosts, 0.5);
      const roundThroughputChanges = throughput.on
        .map((value, round) => value / (throughput.off[round] as number) - 1)
        .sort((a, b) => a - b);
      const roundThroughputChange = percentile(roundThroughputChanges, 0.5);
      const rows = [
        '| | row-level security on | off | cost |',
        '| --- | --- | --- | --- |',
        `| mean latency (sequential) | ${ms(on.mean)} | ${ms(offSummary.mean)} | ${pct(on.mean, offSummary.mean)} |`,
        `| p50 latency | ${ms(on.p50)} | ${ms(offSummary.p50)} | ${pct(on.p50, offSummary.p50)} |`,
        `| p95 latency | ${ms(on.p95)} | ${ms(offSummary.p95)} | ${pct(on.p95, offSummary.p95)} |`,
        `| sequential mean, median of the ${ROUNDS} rounds' own ratios | | | ${signed(roundCost)} |`,
        `| throughput, ${CONCURRENCY} in flight (median of rounds) | ${on.rps.toFixed(0)} req/s | ${offSummary.rps.toFixed(0)} req/s | ${pct(on.rps, offSummary.rps)} |`,
        `| throughput, median of the ${ROUNDS} rounds' own ratios | | | ${signed(roundThroughputChange)} |`,
      ];
      const cost = (on.mean - offSummary.mean) / offSummary.mean;
      const throughputCost = (offSummary.rps - on.rps) / offSummary.rps;
      const body = [
        `Run ${stamp(bench.started)}: \`DATABASE_URL=… node --import tsx bench/rls.ts\` — ${ROUNDS} alternating rounds of ${CALLS_PER_ROUND} sequential reads per mode (GET a client, the client list, a client's episodes, /v1/me, in turn) plus ${CALLS_PER_ROUND * 2} with ${CONCURRENCY} in flight; ${CLIENTS} clients in the clinic, 20 other clinics.`,
        ...machineLine(bench.serverVersion),
        '',
        ...rows,
        '',
        `Goal: row-level security costs under 10 % on the read path — latency: ${cost < 0.1 ? 'met' : 'not met'} (${(cost * 100).toFixed(1)} % on the sequential mean); throughput: ${throughputCost < 0.1 ? 'met' : 'not met'} (${Math.abs(throughputCost * 100).toFixed(1)} % ${throughputCost < 0 ? 'more' : 'fewer'} requests per second with ${CONCURRENCY} in flight).`,
      ].join('\n');
      log(body);
      await writeSection('rls', 'Row-level security: the cost on the read path', body);
    } finally {
      await seeder.end();
    }
  });
});
