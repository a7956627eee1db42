// Database outage under a mixed load: PostgreSQL is stopped (pg_ctl -m fast, then -m immediate)
// and started again while the API keeps serving. During each outage every request must fail fast
// with a 503 problem and /readyz must say 503; afterwards the API must recover by itself within 5 s
// of the database; every acknowledged write and every 2xx's audit record must be in the database.
// Runs on a private throwaway cluster (initdb into a temporary directory), never the shared one.
// Usage: npm run fault:outage [-- --readme]   (--readme writes the result into bench/README.md)
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { log, stamp } from '../harness.js';
import { checkAfterLoad, publish } from '../ledger.js';
import { isOk, MixedLoad, mixes, type Outcome, prepareWorkload, statusList, summarize } from '../mixed-load.js';
import { launchApi, privateCluster, runScript, runSecrets, seedClinic } from '../scratch.js';

const settings = {
  connectTimeoutMs: Number(process.env.DB_CONNECT_TIMEOUT_MS || 2000),
  /** How much longer than the connect timeout a 503 may take. */
  marginMs: 1000,
  recoveryLimitMs: 5000,
  workers: 8,
  rate: 150,
  healthyMs: 4000,
  outageMs: 6000,
  afterMs: 6000,
};

interface Probe {
  started: number;
  ended: number;
  status: number;
}

/** GET /readyz every 100 ms until stopped, each with a 10 s client timeout. */
function probeReadiness(baseUrl: string) {
  const probes: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const status = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      probes.push({ started, ended: performance.now(), status });
      await sleep(100);
    }
  })();
  return {
    probes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

interface Outage {
  mode: 'fast' | 'immediate';
  stopIssued: number;
  down: number;
  startIssued: number;
  up: number;
}

const ended = (o: Outcome) => o.started + o.ms;
/** A request that was in flight while the server was going down: its commit may have landed without its reply. */
const straddles = (o: Outcome, outage: Outage) => o.started < outage.down && ended(o) > outage.stopIssued;

function judge(outage: Outage, next: Outage | undefined, outcomes: Outcome[], probes: Probe[]) {
  const during = outcomes.filter((o) => o.started >= outage.down && ended(o) <= outage.startIssued);
  const wrong = during.filter((o) => o.status !== 503 || !o.problem || o.retryAfter === null);
  const maxMs = Math.max(0, ...during.map((o) => o.ms));
  const readyDuring = probes.filter((p) => p.started >= outage.down && p.ended <= outage.startIssued);
  const firstReady = probes.find((p) => p.started >= outage.up && p.status === 200);
  const firstOk = outcomes.filter((o) => o.started >= outage.up && isOk(o)).sort((a, b) => ended(a) - ended(b))[0];
  const recoveryMs = firstReady ? firstReady.ended - outage.up : Number.POSITIVE_INFINITY;
  const lateFailures = outcomes.filter(
    (o) => o.started >= outage.up + settings.recoveryLimitMs && ended(o) < (next?.stopIssued ?? Number.POSITIVE_INFINITY) && !isOk(o),
  );
  const problems = [
    during.length === 0 ? 'no request was sent while the database was down' : null,
    wrong.length > 0 ? `${wrong.length} of ${during.length} requests during the outage were not a 503 problem with Retry-After` : null,
    maxMs > settings.connectTimeoutMs + settings.marginMs
      ? `a request during the outage took ${maxMs.toFixed(0)} ms (limit ${settings.connectTimeoutMs + settings.marginMs} ms)`
      : null,
    readyDuring.length === 0 || readyDuring.some((p) => p.status !== 503) ? '/readyz did not answer 503 throughout the outage' : null,
    recoveryMs > settings.recoveryLimitMs
      ? `/readyz was not 200 within ${settings.recoveryLimitMs} ms of the database (took ${recoveryMs} ms)`
      : null,
    lateFailures.length > 0
      ? `${lateFailures.length} requests failed more than ${settings.recoveryLimitMs} ms after the database was back`
      : null,
  ].filter((p): p is string => p !== null);
  return {
    during: during.length,
    maxMs,
    readyDuring: readyDuring.length,
    recoveryMs,
    firstOkMs: firstOk ? ended(firstOk) - outage.up : Number.NaN,
    downMs: outage.startIssued - outage.down,
    stopMs: outage.down - outage.stopIssued,
    problems,
  };
}

await runScript(async (cleanup) => {
  const started = new Date();
  const cluster = await privateCluster(cleanup);
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('CREATE DATABASE dialectic_outage');
  await admin.end();
  const url = cluster.url.replace(/\/postgres$/, '/dialectic_outage');
  const clinic = await seedClinic(url, 'outage');
  const secrets = runSecrets();
  const api = await launchApi(cleanup, { url, secrets, env: { DB_CONNECT_TIMEOUT_MS: String(settings.connectTimeoutMs) } });
  const workload = await prepareWorkload(api.baseUrl, clinic);
  const load = new MixedLoad(workload, {
    targets: [api.baseUrl],
    workers: settings.workers,
    mix: mixes.mixed,
    timeoutMs: 10_000,
    rate: settings.rate,
  });
  const readiness = probeReadiness(api.baseUrl);
  const t0 = performance.now();
  load.start();
  await Promise.race([sleep(settings.healthyMs), api.failOnExit()]);
  const outages: Outage[] = [];
  for (const mode of ['fast', 'immediate'] as const) {
    const stopIssued = performance.now();
    await cluster.stop(mode);
    const down = performance.now();
    log(`Stopped PostgreSQL (-m ${mode}) in ${(down - stopIssued).toFixed(0)} ms; ${settings.outageMs} ms outage.`);
    await Promise.race([sleep(settings.outageMs), api.failOnExit()]);
    const startIssued = performance.now();
    await cluster.start();
    const up = performance.now();
    log(`Started PostgreSQL in ${(up - startIssued).toFixed(0)} ms.`);
    outages.push({ mode, stopIssued, down, startIssued, up });
    await Promise.race([sleep(settings.afterMs), api.failOnExit()]);
  }
  await load.stop();
  await readiness.stop();
  const seconds = (performance.now() - t0) / 1000;

  const verdicts = outages.map((outage, i) => ({ outage, ...judge(outage, outages[i + 1], load.outcomes, readiness.probes) }));
  const all = summarize(load.outcomes, seconds);
  const hung = load.outcomes.filter((o) => o.status === 0 && o.failure === 'timeout').length;
  const unexpected = load.outcomes.filter((o) => !isOk(o) && o.status !== 503).length;

  const inDoubt = (o: Outcome) => outages.some((outage) => straddles(o, outage));
  const verdict = await checkAfterLoad(url, load, { clinicId: workload.clinicId, key: secrets.AUDIT_HMAC_KEY }, { inDoubt });
  const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'never');
  await publish(
    { name: 'outage', heading: 'Database outage', write: process.argv.includes('--readme') },
    [
      `Measured ${stamp(started)} with \`npm run fault:outage\`: ${settings.workers} workers at ${settings.rate} req/s (mixed: a third writes), ` +
        `DB_CONNECT_TIMEOUT_MS=${settings.connectTimeoutMs}, a private PostgreSQL ${cluster.version} cluster stopped twice for ${settings.outageMs / 1000} s.`,
      '',
      '| stop | server stopped in | requests while down | all 503 problem + Retry-After | slowest 503 | /readyz 503 while down | /readyz 200 after the database | first 2xx after the database |',
      '| --- | ---: | ---: | :---: | ---: | :---: | ---: | ---: |',
      ...verdicts.map(
        (v) =>
          `| \`pg_ctl -m ${v.outage.mode}\` | ${ms(v.stopMs)} | ${v.during} | ${v.problems.some((p) => p.includes('not a 503')) ? '**no**' : 'yes'} | ${ms(v.maxMs)} | ${v.readyDuring} probes, ${v.problems.some((p) => p.startsWith('/readyz did not')) ? '**no**' : 'all 503'} | ${ms(v.recoveryMs)} | ${ms(v.firstOkMs)} |`,
      ),
      '',
      `- Responses over the whole run (${seconds.toFixed(1)} s): ${statusList(all)}; ${hung} hung.`,
      `- Answered 503 while in flight as the server went down, yet committed with their success record: ${verdict.ledger.inDoubt}. ` +
        '(Such a commit reaches the server but its reply is lost with the connection, so the API cannot know; a client must treat a 503 on a write as unknown and retry it with an Idempotency-Key.)',
    ],
    verdict,
    [
      ...verdicts.flatMap((v) => v.problems.map((p) => `-m ${v.outage.mode}: ${p}`)),
      hung > 0 ? `${hung} requests hung past the 10 s client timeout` : null,
      unexpected > 0 ? `${unexpected} responses were neither 2xx nor 503` : null,
    ],
    cluster.version,
  );
});
