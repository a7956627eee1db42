// Several instances: two API processes on one database, the same mixed load sent to one of them,
// then split across both, then to one again. Throughput is reported for one against two
// processes; afterwards every request must have exactly one audit record, no id may repeat, both
// processes' sealers (one at a time, by advisory lock) must have chained everything, and every
// clinic's chain must verify.
// Usage: DATABASE_URL=postgres://… npm run bench:instances   (INSTANCES_SECONDS, INSTANCES_WORKERS)
import os from 'node:os';
import { type ApiProcess, processCpuSeconds } from './api.js';
import { log, stamp } from './harness.js';
import { checkAfterLoad, publish } from './ledger.js';
import { MixedLoad, mixes, type Summary, scratchWorkload, statusList, summarize } from './mixed-load.js';
import { launchApi, runScript } from './scratch.js';
import { busyShare, hostCpu } from './stats.js';

const settings = {
  seconds: Number(process.env.INSTANCES_SECONDS || 20),
  workers: Number(process.env.INSTANCES_WORKERS || 32),
  warmUpSeconds: 5,
};

interface Phase {
  label: string;
  summary: Summary;
  /** Cores each API process used during the phase. */
  apiCores: number[];
  hostBusy: number;
}

await runScript(async (cleanup) => {
  const started = new Date();
  const { scratch, secrets, api: one, workload, clinic } = await scratchWorkload(cleanup, 'instances');
  const two = await launchApi(cleanup, { url: scratch.url, secrets });
  const apis = [one, two];
  const load = new MixedLoad(workload, {
    targets: [one.baseUrl, two.baseUrl],
    workers: settings.workers,
    mix: mixes.mixed,
    timeoutMs: 10_000,
  });
  log(`Warm-up: ${settings.warmUpSeconds} s on both processes.`);
  await load.runFor(settings.warmUpSeconds * 1000);

  const phase = async (label: string, targets: ApiProcess[]): Promise<Phase> => {
    const from = load.outcomes.length;
    const cpuBefore = await Promise.all(apis.map((api) => processCpuSeconds(api.pid)));
    const hostBefore = hostCpu(os.cpus());
    const t0 = performance.now();
    await load.runFor(settings.seconds * 1000, { targets: targets.map((api) => api.baseUrl) });
    const seconds = (performance.now() - t0) / 1000;
    const cpuAfter = await Promise.all(apis.map((api) => processCpuSeconds(api.pid)));
    const summary = summarize(load.outcomes.slice(from), seconds);
    log(`${label}: ${summary.perSecond.toFixed(0)} req/s (2xx), p99 ${summary.p99.toFixed(0)} ms; ${statusList(summary)}`);
    return {
      label,
      summary,
      apiCores: cpuAfter.map((after, i) => ((after ?? Number.NaN) - (cpuBefore[i] ?? Number.NaN)) / seconds),
      hostBusy: busyShare(hostBefore, hostCpu(os.cpus())),
    };
  };
  const phases = [await phase('one process', [one]), await phase('two processes', [one, two]), await phase('one process again', [one])];

  const verdict = await checkAfterLoad(scratch.url, load, clinic);
  const failed = load.outcomes.length - verdict.ledger.ok;
  const auditRows = verdict.ledger.auditRows;
  const [single, double, again] = phases as [Phase, Phase, Phase];
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  await publish(
    { name: 'instances', heading: 'Several instances on one database', write: true },
    [
      `Measured ${stamp(started)} with \`npm run bench:instances\`: two API processes (\`node --import tsx src/server.ts\`, ` +
        `DB_POOL_MAX=20 each) on one database, ${settings.workers} workers as fast as they go on the mixed workload (a third writes), ` +
        `${settings.seconds} s per phase after a ${settings.warmUpSeconds} s warm-up.`,
      '',
      '| phase | 2xx/s | p50 | p99 | max | API process CPU (cores) | host CPU busy |',
      '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
      ...phases.map(
        (p) =>
          `| ${p.label} | ${p.summary.perSecond.toFixed(0)} | ${ms(p.summary.p50)} | ${ms(p.summary.p99)} | ${ms(p.summary.max)} | ${p.apiCores.map((c) => c.toFixed(2)).join(' + ')} | ${Math.round(p.hostBusy * 100)}% |`,
      ),
      '',
      `- Two processes against one: ${(double.summary.perSecond / ((single.summary.perSecond + again.summary.perSecond) / 2)).toFixed(2)}× the mean of the two one-process phases.`,
      `- Requests over all phases: ${load.outcomes.length.toLocaleString('en-US')} (${statusList(summarize(load.outcomes, 1))}); ` +
        `audit records carrying their request ids: ${auditRows.toLocaleString('en-US')}.`,
    ],
    verdict,
    [
      failed > 0 ? `${failed} requests were not answered 2xx` : null,
      auditRows !== load.outcomes.length ? `${load.outcomes.length} requests left ${auditRows} audit records` : null,
    ],
    scratch.serverVersion,
  );
});
