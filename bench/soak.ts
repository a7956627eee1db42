// Soak: the maximum throughput of the mixed workload is measured first (workers as fast as they
// go), then the same workload runs for ten minutes at about 70% of it. Goal: 0 errors; the p99 of
// the first and the last minute and the API process's resident memory at start and end are
// reported, with every minute in between. Afterwards the same ledger checks as the fault scripts.
// Usage: DATABASE_URL=postgres://… npm run bench:soak   (SOAK_SECONDS, SOAK_SHARE, SOAK_WORKERS)
import { setTimeout as sleep } from 'node:timers/promises';
import { log, stamp } from './harness.js';
import { checkAfterLoad, publish } from './ledger.js';
import { isOk, MixedLoad, mixes, type Outcome, scratchWorkload, statusList, summarize } from './mixed-load.js';
import { rssMiB, runScript } from './scratch.js';

const settings = {
  seconds: Number(process.env.SOAK_SECONDS || 600),
  share: Number(process.env.SOAK_SHARE || 0.7),
  /** Workers for the maximum; the paced soak gets twice as many so a slow moment does not lower the rate. */
  workers: Number(process.env.SOAK_WORKERS || 32),
  warmUpSeconds: 10,
  maxSeconds: 30,
};

interface Minute {
  minute: number;
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  rss: number;
}

await runScript(async (cleanup) => {
  const started = new Date();
  const { scratch, api, workload, clinic } = await scratchWorkload(cleanup, 'soak');
  const load = new MixedLoad(workload, { targets: [api.baseUrl], workers: settings.workers, mix: mixes.mixed, timeoutMs: 10_000 });
  const race = (ms: number) => Promise.race([load.runFor(ms), api.failOnExit()]);

  log(`Warm-up ${settings.warmUpSeconds} s, then the maximum over ${settings.maxSeconds} s.`);
  await race(settings.warmUpSeconds * 1000);
  const maxFrom = load.outcomes.length;
  await race(settings.maxSeconds * 1000);
  const max = summarize(load.outcomes.slice(maxFrom), settings.maxSeconds);
  const rate = Math.max(1, Math.round(max.perSecond * settings.share));
  log(`Maximum ${max.perSecond.toFixed(0)} req/s (${statusList(max)}); soak at ${rate} req/s for ${settings.seconds} s.`);

  const soakFrom = load.outcomes.length;
  const rss: Array<{ at: number; mib: number }> = [];
  const t0 = performance.now();
  const sampling = (async () => {
    while (performance.now() - t0 < settings.seconds * 1000) {
      rss.push({ at: performance.now() - t0, mib: await rssMiB(api.pid) });
      await sleep(10_000);
    }
    rss.push({ at: performance.now() - t0, mib: await rssMiB(api.pid) });
  })();
  await Promise.race([load.runFor(settings.seconds * 1000, { rate, workers: settings.workers * 2 }), api.failOnExit()]);
  await sampling;
  const soak = load.outcomes.slice(soakFrom);

  const minutes: Minute[] = [];
  for (let minute = 0; minute * 60 < settings.seconds; minute++) {
    const inMinute = soak.filter((o: Outcome) => Math.floor((o.started - t0) / 60_000) === minute);
    const span = Math.min(60, settings.seconds - minute * 60);
    const summary = summarize(inMinute, span);
    const memory = rss.filter((r) => Math.floor(r.at / 60_000) === minute).at(-1)?.mib ?? Number.NaN;
    minutes.push({
      minute: minute + 1,
      requests: summary.requests,
      errors: summary.requests - summary.ok,
      perSecond: summary.requests / span,
      p50: summary.p50,
      p99: summary.p99,
      rss: memory,
    });
  }
  const overall = summarize(soak, settings.seconds);
  const errors = soak.filter((o) => !isOk(o));

  const verdict = await checkAfterLoad(scratch.url, load, clinic, { sealTimeoutSeconds: 600 });
  const first = minutes[0] as Minute;
  const last = minutes.at(-1) as Minute;
  const [rssStart, rssEnd] = [rss[0]?.mib ?? Number.NaN, rss.at(-1)?.mib ?? Number.NaN];
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  const mib = (value: number) => `${value.toFixed(0)} MiB`;
  await publish(
    { name: 'soak', heading: 'Soak: ten minutes at 70% of the maximum', write: true },
    [
      `Measured ${stamp(started)} with \`npm run bench:soak\`: one API process (\`node --import tsx src/server.ts\`, DB_POOL_MAX=20), ` +
        `the mixed workload (a third writes). Maximum: ${max.perSecond.toFixed(0)} req/s (2xx) with ${settings.workers} workers as fast as they go for ${settings.maxSeconds} s ` +
        `after a ${settings.warmUpSeconds} s warm-up; then ${settings.seconds / 60} minutes paced at ${rate} req/s (${Math.round(settings.share * 100)}%) with ${settings.workers * 2} workers.`,
      '',
      '| | requests | errors | req/s | p50 | p99 | API RSS |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| first minute | ${first.requests.toLocaleString('en-US')} | ${first.errors} | ${first.perSecond.toFixed(0)} | ${ms(first.p50)} | ${ms(first.p99)} | ${mib(rssStart)} at start |`,
      `| last minute | ${last.requests.toLocaleString('en-US')} | ${last.errors} | ${last.perSecond.toFixed(0)} | ${ms(last.p50)} | ${ms(last.p99)} | ${mib(rssEnd)} at end |`,
      `| whole soak | ${overall.requests.toLocaleString('en-US')} | ${errors.length} | ${(overall.requests / settings.seconds).toFixed(0)} | ${ms(overall.p50)} | ${ms(overall.p99)} | max ${mib(Math.max(...rss.map((r) => r.mib)))} |`,
      '',
      `- Every minute (req/s, p99, RSS at its end): ${minutes.map((m) => `${m.minute}: ${m.perSecond.toFixed(0)}, ${ms(m.p99)}, ${mib(m.rss)}`).join('; ')}.`,
    ],
    verdict,
    [errors.length > 0 ? `${errors.length} errors during the soak (${statusList(summarize(errors, 1))})` : null],
    scratch.serverVersion,
  );
});
