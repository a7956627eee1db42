// Crash: the API process is killed with SIGKILL (kill -9) in the middle of a write-heavy mixed
// load, three times, and started again on the same database each time. Afterwards every
// acknowledged write and its audit record must exist, no record may be half-written (a client
// without its create record, a diary day without its card, …) and the audit chain must verify.
// Runs on a fresh database on the server DATABASE_URL names, dropped at the end.
// Usage: DATABASE_URL=postgres://… npm run fault:crash [-- --readme]   (--readme writes bench/README.md)
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiProcess, freePort } from '../api.js';
import { log, stamp } from '../harness.js';
import { checkAfterLoad, publish } from '../ledger.js';
import { isOk, MixedLoad, mixes, type Outcome, scratchWorkload, statusList, summarize } from '../mixed-load.js';
import { killApi, runScript } from '../scratch.js';

const settings = { kills: 3, workers: 8, minLoadMs: 2000, maxLoadMs: 4000 };

await runScript(async (cleanup) => {
  const started = new Date();
  const { scratch, api: first, launch, workload, clinic } = await scratchWorkload(cleanup, 'crash', await freePort());
  let api: ApiProcess = first;
  const load = new MixedLoad(workload, { targets: [api.baseUrl], workers: settings.workers, mix: mixes.writes, timeoutMs: 10_000 });

  const restarts: number[] = [];
  const t0 = performance.now();
  for (let kill = 1; kill <= settings.kills; kill++) {
    load.start();
    const runMs = settings.minLoadMs + Math.random() * (settings.maxLoadMs - settings.minLoadMs);
    await Promise.race([sleep(runMs), api.failOnExit()]);
    await killApi(api);
    log(`kill -9 of the API (pid ${api.pid}) after ${(runMs / 1000).toFixed(1)} s of load.`);
    // The workers meet a closed port for a moment, as clients of a crashed server would.
    await sleep(300);
    await load.stop();
    const restarting = performance.now();
    api = await launch();
    restarts.push(performance.now() - restarting);
  }
  const seconds = (performance.now() - t0) / 1000;

  const all = summarize(load.outcomes, seconds);
  // Cut off (reset, socket closed): in flight when the process died, so it may or may not have
  // committed. Refused: sent to the dead process, so it cannot have.
  const cutOff = (o: Outcome) => o.status === 0 && o.failure !== 'ECONNREFUSED';
  const unanswered = load.outcomes.filter(cutOff);
  const unexpected = load.outcomes.filter((o) => o.status !== 0 && !isOk(o));
  const verdict = await checkAfterLoad(scratch.url, load, clinic, { inDoubt: cutOff });
  await publish(
    { name: 'crash', heading: 'Crash of the API process', write: process.argv.includes('--readme') },
    [
      `Measured ${stamp(started)} with \`npm run fault:crash\`: ${settings.workers} workers as fast as they go, write-heavy mix ` +
        `(creates of clients, diary days and sessions, updates; few reads), the API killed with SIGKILL ${settings.kills} times ` +
        `after ${settings.minLoadMs / 1000}–${settings.maxLoadMs / 1000} s of load and started again on the same database.`,
      '',
      `- Requests: ${statusList(all)} (${seconds.toFixed(1)} s including the restarts, which took ${restarts.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}).`,
      `- Requests in flight at a kill (connection reset, no response): ${unanswered.length}; of these, ${verdict.ledger.inDoubt} had committed ` +
        'with their success record just before the process died (written and audited, never answered).',
    ],
    verdict,
    [unexpected.length > 0 ? `${unexpected.length} responses were neither 2xx nor a dropped connection` : null],
    scratch.serverVersion,
  );
});
