import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { describeRoutes } from '../helpers/route-contract.js';
import { type FuzzCase, invalidRequests } from './arbitraries.js';
import { baseRequests } from './base-requests.js';
import { Contract, type Operation } from './contract.js';

/**
 * Fuzzing from the contract: for every operation in openapi.yaml, requests its declared schema
 * refuses must each get a 4xx problem naming what was wrong, change no row outside the audit
 * trail, and leave exactly one audit record. FUZZ_SEED and FUZZ_RUNS (cases per operation) change
 * the run. The operations are shared between test files, which run in parallel on their own
 * databases.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20_260_210);
const runs = Number(process.env.FUZZ_RUNS ?? 200);
const concurrency = 16;
process.stdout.write(`[fuzz] seed ${seed}, ${runs} cases per operation (set FUZZ_SEED / FUZZ_RUNS to change)\n`);

const app = await buildTestApp();
const contract = Contract.load();
const limits = { bodyLimit: app.initialConfig.bodyLimit ?? 1_048_576, maxParamLength: 100 };
const routes = new Map(describeRoutes(app).map((route) => [`${route.method} ${route.url}`, route]));
const baseRequest = baseRequests(app, contract, routes);
const operations = contract.operations();
/** Operational probes (unaudited) and operations that take no input are left out. */
const fuzzed = operations.filter(
  (operation) =>
    routes.get(`${operation.method} ${operation.route}`)?.audit !== false && (operation.parameters.length > 0 || operation.body),
);

const seedFor = (name: string) => [...name].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) | 0, seed);

/** Row counts of every table outside the audit trail (audit_events, and audit_seals, which the sealer fills on its own clock). */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname NOT IN ('audit_events', 'audit_seals') ORDER BY 1`,
  );
  const counts = tables.map(({ name }) => `(SELECT count(*) FROM "${name}")::int AS "${name}"`);
  return (await query<Record<string, number>>(`SELECT ${counts.join(', ')}`))[0] as Record<string, number>;
}

const auditCount = async () => (await query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]?.n ?? 0;

/** What is wrong with the answer to one case, or null when it is what the contract owes. */
function judge(operation: Operation, fuzzCase: FuzzCase, requestId: string, response: Awaited<ReturnType<typeof app.inject>>) {
  const problems: string[] = [];
  if (response.statusCode !== fuzzCase.status) problems.push(`status ${response.statusCode}, expected ${fuzzCase.status}`);
  const type = String(response.headers['content-type']);
  if (!type.startsWith('application/problem+json')) problems.push(`content-type ${type}`);
  let body: { status?: number; instance?: string; errors?: Array<{ in: string; field: string }> } = {};
  try {
    body = response.json();
  } catch {
    problems.push('the body is not JSON');
  }
  if (!operation.problem) problems.push('openapi.yaml declares no 4XX schema for the operation');
  else if (!contract.conforms(operation.problem, body)) problems.push('the body is not the declared Problem');
  if (body.status !== response.statusCode) problems.push(`problem status ${body.status}`);
  if (body.instance !== requestId) problems.push('problem instance is not the request id');
  const { field, part } = fuzzCase;
  if (field !== null && response.statusCode === 400) {
    const names = (error: { in: string; field: string }) =>
      error.in === part && (field === '' || error.field === field || error.field.startsWith(`${field}.`));
    if (!(body.errors ?? []).some(names)) problems.push(`errors do not name ${part}.${field}`);
  }
  return problems.length === 0 ? null : `${fuzzCase.label}: ${problems.join('; ')} — ${response.body.slice(0, 300)}`;
}

/** Sends the cases a batch at a time, each with its own request id; returns what went wrong and every status. */
async function sendAll(operation: Operation, cases: FuzzCase[], prefix: string) {
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  for (let start = 0; start < cases.length; start += concurrency) {
    const batch = cases.slice(start, start + concurrency).map(async (fuzzCase, offset) => {
      const requestId = `${prefix}${start + offset}`;
      const response = await app.inject({
        method: operation.method as 'GET',
        url: fuzzCase.url,
        headers: { ...fuzzCase.headers, 'x-request-id': requestId },
        ...(fuzzCase.payload === undefined ? {} : { payload: fuzzCase.payload }),
      });
      statuses.set(requestId, response.statusCode);
      const failure = judge(operation, fuzzCase, requestId, response);
      if (failure) failures.push(failure);
    });
    await Promise.all(batch);
  }
  return { failures, statuses };
}

async function fuzzOperation(operation: Operation, index: number) {
  const arbitrary = invalidRequests(contract, operation, await baseRequest(operation), limits);
  if (!arbitrary) throw new Error(`${operation.name}: nothing about it can be made invalid; leave it out of the fuzzer explicitly`);
  const cases = fc.sample(arbitrary, { numRuns: runs, seed: seedFor(operation.name) });
  const rowsBefore = await rowCounts();
  const auditBefore = await auditCount();
  const prefix = `fuzz-${index}-`;
  const { failures, statuses } = await sendAll(operation, cases, prefix);
  expect(failures.slice(0, 15), `${failures.length} of ${cases.length} cases failed (seed ${seed})`).toEqual([]);
  expect(await rowCounts(), 'rows outside the audit trail changed').toEqual(rowsBefore);
  expect((await auditCount()) - auditBefore, 'audit records written').toBe(cases.length);
  const records = await query<{ request_id: string; http_status: number }>(
    `SELECT request_id, http_status FROM audit_events WHERE request_id LIKE '${prefix}%'`,
  );
  expect(records, 'one audit record per request').toHaveLength(cases.length);
  expect(Object.fromEntries(records.map((record) => [record.request_id, record.http_status]))).toEqual(Object.fromEntries(statuses));
  return cases.length;
}

/** Registers the fuzzing tests for the operations `select` picks. */
export function fuzzOperations(title: string, select: (operation: Operation) => boolean) {
  const chosen = fuzzed.filter(select);
  let total = 0;
  const started = performance.now();
  afterAll(() => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`[fuzz] ${title}: ${total} cases over ${chosen.length} operations in ${seconds} s (seed ${seed})\n`);
  });

  describe(title, () => {
    it('every audited route the app serves is in openapi.yaml', () => {
      const documented = new Set(operations.map((operation) => `${operation.method} ${operation.route}`));
      const missing = [...routes.keys()].filter((key) => routes.get(key)?.audit !== false && !documented.has(key));
      expect(missing, 'routes missing from openapi.yaml: run npm run openapi').toEqual([]);
      expect(chosen.length).toBeGreaterThan(40);
    });

    const table = chosen.map((operation) => [operation.name, operation, fuzzed.indexOf(operation)] as const);
    describe.each(table)('%s', (_name, operation, index) => {
      const title = `${runs} invalid requests: 4xx problems naming the field, no rows changed, one audit record each`;
      it(title, { timeout: 60_000 + runs * 200 }, async () => {
        total += await fuzzOperation(operation, index);
      });
    });
  });
}
