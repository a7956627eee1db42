/**
 * What the database says after a load: acknowledged writes and their audit records, records that
 * would mean a write was half done, the sealer catching up and the HMAC chains verifying.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql as drizzleSql } from 'drizzle-orm';
import pg from 'pg';
import { verifyChain } from '../src/audit/verify.js';
import { openDatabase } from '../src/db/client.js';
import { log, writeSection } from './harness.js';
import { type Created, isOk, type MixedLoad, type Outcome } from './mixed-load.js';
import { machineFacts } from './scratch.js';

export interface Ledger {
  acknowledged: number;
  found: number;
  /** Responses answered 2xx with exactly one audit record saying success with the same status. */
  auditedOk: number;
  ok: number;
  /** Requests that left more than one audit record. */
  duplicates: number;
  /** Non-2xx responses whose request nevertheless left a success record, tolerated only when in doubt. */
  successWithoutOk: number;
  inDoubt: number;
  auditRows: number;
  problems: string[];
}

/**
 * What the database says about the load: every acknowledged write is there, every 2xx has its
 * success record, no request has two, and no request answered otherwise has a success record,
 * except one `inDoubt` says may have committed without its answer arriving (the server or the
 * database died between the commit and the reply).
 */
export async function checkLedger(sql: pg.Client, load: MixedLoad, inDoubt: (o: Outcome) => boolean = () => false): Promise<Ledger> {
  const problems: string[] = [];
  const { rows } = await sql.query<{ request_id: string; outcome: string; http_status: number }>(
    'select request_id, outcome, http_status from audit_events where request_id like $1',
    [`${load.runId}-%`],
  );
  const records = new Map<string, typeof rows>();
  for (const row of rows) records.set(row.request_id, [...(records.get(row.request_id) ?? []), row]);

  const acks = load.outcomes.filter((o) => isOk(o) && o.created).map((o) => o.created as Created);
  const ids = (kind: 'client' | 'session') => acks.flatMap((c) => (c.kind === kind ? [c.id] : []));
  const days = acks.flatMap((c) => (c.kind === 'diary-day' ? [c] : []));
  const found =
    (await sql.query('select 1 from clients where id = any($1::uuid[])', [ids('client')])).rows.length +
    (await sql.query('select 1 from individual_sessions where id = any($1::uuid[])', [ids('session')])).rows.length +
    (
      await sql.query(
        'select distinct card_id, day from diary_days where (card_id, day) in (select * from unnest($1::uuid[], $2::date[]))',
        [days.map((d) => d.cardId), days.map((d) => d.day)],
      )
    ).rows.length;
  const acknowledged = new Set(acks.map((c) => (c.kind === 'diary-day' ? `${c.cardId}/${c.day}` : c.id))).size;
  if (found !== acknowledged) problems.push(`${acknowledged - found} acknowledged writes are missing from the database`);

  let auditedOk = 0;
  let duplicates = 0;
  let successWithoutOk = 0;
  let doubtful = 0;
  const ok = load.outcomes.filter(isOk);
  for (const o of load.outcomes) {
    const mine = records.get(o.requestId) ?? [];
    if (mine.length > 1) duplicates++;
    const success = mine.some((r) => r.outcome === 'success');
    if (isOk(o) && mine.length === 1 && success && mine[0]?.http_status === o.status) auditedOk++;
    if (!isOk(o) && success) {
      if (inDoubt(o)) doubtful++;
      else successWithoutOk++;
    }
  }
  if (auditedOk !== ok.length)
    problems.push(`${ok.length - auditedOk} of ${ok.length} 2xx responses lack exactly one matching success record`);
  if (duplicates > 0) problems.push(`${duplicates} requests left more than one audit record`);
  if (successWithoutOk > 0) problems.push(`${successWithoutOk} requests answered non-2xx left a success record`);
  return {
    acknowledged,
    found,
    auditedOk,
    ok: ok.length,
    duplicates,
    successWithoutOk,
    inDoubt: doubtful,
    auditRows: rows.length,
    problems,
  };
}

/** Rows of the clinic that would mean a write was half done; each query should count 0. */
const halfWritten: Record<string, string> = {
  'clients without their create audit record': `select count(*) from clients c where c.clinic_id = $1 and not exists (
     select 1 from audit_events a where a.clinic_id = c.clinic_id and a.resource_type = 'client' and a.subtype = 'create'
        and a.outcome = 'success' and a.resource_id = c.id::text)`,
  'clients without a treatment episode': `select count(*) from clients c where c.clinic_id = $1 and not exists (
     select 1 from treatment_episodes e where e.clinic_id = c.clinic_id and e.client_id = c.id)`,
  'sessions without their create audit record': `select count(*) from individual_sessions s where s.clinic_id = $1 and not exists (
     select 1 from audit_events a where a.clinic_id = s.clinic_id and a.resource_type = 'individual-session' and a.subtype = 'create'
        and a.outcome = 'success' and a.resource_id = s.id::text)`,
  'diary days without a card': `select count(*) from diary_days d where d.clinic_id = $1 and not exists (
     select 1 from diary_cards c where c.clinic_id = d.clinic_id and c.id = d.card_id)`,
  'diary days without a success record of their submission': `select count(*) from diary_days d where d.clinic_id = $1 and not exists (
     select 1 from audit_events a where a.clinic_id = d.clinic_id and a.subtype = 'diary-entry' and a.outcome = 'success'
        and a.resource_id = d.card_id::text and a.details->>'date' = d.day::text)`,
  'diary cards never saved (version 0) or without days': `select count(*) from diary_cards c where c.clinic_id = $1 and (c.version = 0
     or not exists (select 1 from diary_days d where d.clinic_id = c.clinic_id and d.card_id = c.id))`,
  'success create records whose client is missing': `select count(*) from audit_events a where a.clinic_id = $1
     and a.resource_type = 'client' and a.subtype = 'create' and a.outcome = 'success'
     and not exists (select 1 from clients c where c.clinic_id = a.clinic_id and c.id::text = a.resource_id)`,
  'success create records whose session is missing': `select count(*) from audit_events a where a.clinic_id = $1
     and a.resource_type = 'individual-session' and a.subtype = 'create' and a.outcome = 'success'
     and not exists (select 1 from individual_sessions s where s.clinic_id = a.clinic_id and s.id::text = a.resource_id)`,
};

/** Counts per half-written kind, and the rows checked, for the whole clinic. */
export async function checkHalfWritten(sql: pg.Client, clinicId: string) {
  const found: Record<string, number> = {};
  for (const [label, query] of Object.entries(halfWritten)) {
    found[label] = Number((await sql.query<{ count: string }>(query, [clinicId])).rows[0]?.count);
  }
  const { rows } = await sql.query<{ clients: string; sessions: string; days: string }>(
    `select (select count(*) from clients where clinic_id = $1) as clients,
            (select count(*) from individual_sessions where clinic_id = $1) as sessions,
            (select count(*) from diary_days where clinic_id = $1) as days`,
    [clinicId],
  );
  const totals = rows[0] as { clients: string; sessions: string; days: string };
  return {
    clients: Number(totals.clients),
    sessions: Number(totals.sessions),
    days: Number(totals.days),
    problems: Object.entries(found)
      .filter(([, count]) => count > 0)
      .map(([label, count]) => `${count} ${label}`),
  };
}

const unsealed = async (sql: pg.Client) =>
  Number(
    (
      await sql.query<{ n: string }>(
        `select count(*) as n from audit_events e
          where not exists (select 1 from audit_seals s where s.clinic_id = e.clinic_id and s.event_id = e.id)`,
      )
    ).rows[0]?.n,
  );

/** Waits until the API's sealer has chained every audit row; returns the seconds it took. */
export async function waitForSealing(sql: pg.Client, timeoutSeconds = 120): Promise<number> {
  const started = performance.now();
  for (;;) {
    const left = await unsealed(sql);
    if (left === 0) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutSeconds * 1000) throw new Error(`${left} audit rows still unsealed after ${timeoutSeconds} s`);
    await sleep(250);
  }
}

/** Verifies every clinic's HMAC chain with the verifier the API's GET /v1/audit/verify uses. */
export async function verifyChains(url: string, key: string) {
  const database = await openDatabase({ url, poolMax: 2 });
  try {
    const { rows } = await database.db.execute<{ clinic_id: string }>(drizzleSql`select distinct clinic_id from audit_events`);
    const reports = [];
    for (const { clinic_id } of rows) reports.push(await verifyChain(database.db, key, clinic_id));
    return {
      ok: reports.every((r) => r.ok),
      rowsChecked: reports.reduce((sum, r) => sum + r.rowsChecked, 0),
      problems: reports.filter((r) => !r.ok).map((r) => `chain of clinic ${r.clinicId} breaks: ${JSON.stringify(r.firstBreak)}`),
    };
  } finally {
    await database.close();
  }
}

/** A pg client for the checks, closed by the caller. */
export async function sqlClient(url: string) {
  const client = new pg.Client({ connectionString: url, application_name: 'dialectic-checks' });
  await client.connect();
  return client;
}

export interface Verdict {
  ledger: Ledger;
  problems: string[];
  /** Report lines (Markdown bullets) of what was checked and found. */
  lines: string[];
}

/**
 * Every check after a load: waits for the sealer, then the ledger (`inDoubt` as for checkLedger),
 * half-written records, repeated audit ids or seals, and every clinic's chain.
 */
export async function checkAfterLoad(
  url: string,
  load: MixedLoad,
  clinic: { clinicId: string; key: string },
  options: { inDoubt?: (o: Outcome) => boolean; sealTimeoutSeconds?: number } = {},
): Promise<Verdict> {
  const sql = await sqlClient(url);
  try {
    const sealSeconds = await waitForSealing(sql, options.sealTimeoutSeconds);
    const ledger = await checkLedger(sql, load, options.inDoubt);
    const integrity = await checkHalfWritten(sql, clinic.clinicId);
    const chains = await verifyChains(url, clinic.key);
    const { rows } = await sql.query<{ ids: string; seals: string; events: string }>(
      `select (select count(*) - count(distinct id) from audit_events) as ids,
              (select count(*) - count(distinct (clinic_id, event_id)) from audit_seals) as seals,
              (select count(*) from audit_events) as events`,
    );
    const repeats = { ids: Number(rows[0]?.ids), seals: Number(rows[0]?.seals), events: Number(rows[0]?.events) };
    const n = (value: number) => value.toLocaleString('en-US');
    return {
      ledger,
      problems: [
        ...ledger.problems,
        ...integrity.problems,
        repeats.ids > 0 ? `${repeats.ids} audit ids repeat` : null,
        repeats.seals > 0 ? `${repeats.seals} audit events were sealed twice` : null,
        ...chains.problems,
      ].filter((p): p is string => p !== null),
      lines: [
        `- Writes acknowledged (2xx): ${n(ledger.acknowledged)}; found in the database afterwards: ${n(ledger.found)}.`,
        `- 2xx responses with exactly one matching success audit record: ${n(ledger.auditedOk)} of ${n(ledger.ok)}; ` +
          `requests with more than one record: ${ledger.duplicates}; answered otherwise yet with a success record: ${ledger.successWithoutOk}` +
          (ledger.inDoubt > 0 ? ` (besides ${ledger.inDoubt} in doubt, see above).` : '.'),
        `- Half-written records in the clinic (${n(integrity.clients)} clients, ${n(integrity.sessions)} sessions, ${n(integrity.days)} diary days): ` +
          `${integrity.problems.length === 0 ? 'none' : integrity.problems.join('; ')}.`,
        `- Audit trail: ${n(repeats.events)} records, all sealed ${sealSeconds.toFixed(1)} s after the load; repeated ids: ${repeats.ids}; ` +
          `records sealed twice: ${repeats.seals}; the HMAC chain ${chains.ok ? 'verifies' : '**breaks**'} over ${n(chains.rowsChecked)} records.`,
      ],
    };
  } finally {
    await sql.end();
  }
}

/**
 * Ends a script's report with the checks, the machine and the result; prints it, writes it into
 * bench/README.md between the section's markers when `write` is set, and fails the script if a
 * check (the script's own `failures` or the verdict's) failed.
 */
export async function publish(
  section: { name: string; heading: string; write: boolean },
  lines: string[],
  verdict: Verdict,
  failures: Array<string | null>,
  serverVersion: string,
) {
  const problems = [...failures.filter((p): p is string => p !== null), ...verdict.problems];
  const body = [
    ...lines,
    ...verdict.lines,
    ...(await machineFacts(serverVersion)),
    '',
    problems.length === 0 ? '**Result: passed.**' : `**Result: failed.** ${problems.join('; ')}.`,
  ].join('\n');
  log(`\n${body}\n`);
  if (section.write) await writeSection(section.name, section.heading, body);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
