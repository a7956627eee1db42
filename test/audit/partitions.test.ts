import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ensureAuditPartitions, partitionWarning } from '../../src/audit/partitions.js';
import { buildTestApp, newRequestId, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { rejection, run, verifyCovering } from './support.js';

const database = await testDatabase();
const app = await buildTestApp();
const { clinic, admin } = await createClinic();
const officer = await createStaffMember(clinic.id, ['compliance']);

/** The partition name for the UTC month `offset` months from now, as the database computes it. */
async function monthPartition(offset: number) {
  const [row] = await run<{ name: string }>(
    database,
    sql`select to_char(date_trunc('month', now() at time zone 'UTC') + make_interval(months => ${offset}::int), '"audit_events_y"YYYY"m"MM') as name`,
  );
  return row?.name as string;
}

async function partitions() {
  const rows = await run<{ name: string; bound: string }>(
    database,
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname`,
  );
  return rows;
}

async function meRequest() {
  const requestId = newRequestId();
  const response = await app.inject({
    method: 'GET',
    url: '/v1/me',
    headers: { ...bearer(tokenFor(app, admin)), 'x-request-id': requestId },
  });
  expect(response.statusCode).toBe(200);
  return requestId;
}

async function insertEventAt(at: string) {
  const id = randomUUID();
  await run(
    database,
    sql`insert into audit_events (clinic_id, id, occurred_at, request_id, actor_type, action, subtype, outcome, http_status, method, route, service_version)
        values (${clinic.id}, ${id}, ${at}::timestamptz, ${`seed-${id}`}, 'system', 'R', 'read', 'success', 200, 'GET', '/v1/seed', 'test')`,
  );
  const [row] = await run<{ partition: string }>(
    database,
    sql`select tableoid::regclass::text as partition from audit_events where id = ${id}`,
  );
  return row?.partition;
}

describe('audit_events partitioned by month', () => {
  it('is a range-partitioned table on occurred_at, with a default partition', async () => {
    const [keyDef] = await run<{ key: string }>(
      database,
      `SELECT pg_get_partkeydef(partrelid) AS key FROM pg_partitioned_table WHERE partrelid = 'audit_events'::regclass`,
    );
    expect(keyDef?.key).toBe('RANGE (occurred_at)');
    expect(await partitions()).toContainEqual({ name: 'audit_events_default', bound: 'DEFAULT' });
  });

  it('has partitions from the current month to three months ahead, each one UTC calendar month', async () => {
    const names = (await partitions()).map((p) => p.name);
    for (const offset of [0, 1, 2, 3]) expect(names).toContain(await monthPartition(offset));
    const [bounds] = await run<{ low: boolean; high: boolean }>(
      database,
      sql`select pg_get_expr(c.relpartbound, c.oid) like '%' || to_char(date_trunc('month', now() at time zone 'UTC'), 'YYYY-MM-DD') || '%' as low,
                 (select count(*) from pg_inherits where inhparent = 'audit_events'::regclass) >= 5 as high
            from pg_class c where c.relname = ${await monthPartition(0)}`,
    );
    expect(bounds).toEqual({ low: true, high: true });
  });

  it('files a record in the partition of its month, and one for a month without a partition in the default', async () => {
    const requestId = await meRequest();
    const [row] = await run<{ partition: string }>(
      database,
      sql`select tableoid::regclass::text as partition from audit_events where request_id = ${requestId}`,
    );
    expect(row?.partition).toBe(await monthPartition(0));
    expect(await insertEventAt('2001-01-15T12:00:00Z')).toBe('audit_events_default');
    const report = await ensureAuditPartitions(database.db);
    expect(report.defaultRows).toBe(1);
    expect(partitionWarning(report)).toMatch(/audit_events_default holds 1 record/);
    // Creating that month now would need the default's row moved (a delete): it is reported, not done.
    const [blocked] = await run<{ status: string }>(database, `SELECT audit_ensure_partition('2001-01-01') AS status`);
    expect(blocked?.status).toBe('blocked');
    expect(await insertEventAt('2001-01-20T12:00:00Z')).toBe('audit_events_default');
  });

  it('audit_ensure_partitions is idempotent and creates a missing future month with its guards', async () => {
    const five = await monthPartition(5);
    expect((await partitions()).map((p) => p.name)).not.toContain(five);
    const first = await run<{ partition_name: string; status: string }>(database, 'SELECT * FROM audit_ensure_partitions(5)');
    expect(first.map((r) => r.status)).toEqual(['exists', 'exists', 'exists', 'exists', 'created', 'created']);
    expect(first.at(-1)?.partition_name).toBe(five);
    const again = await run<{ status: string }>(database, 'SELECT * FROM audit_ensure_partitions(5)');
    expect(again.map((r) => r.status)).toEqual(Array(6).fill('exists'));
    const triggers = await run<{ tgname: string; tgenabled: string }>(
      database,
      sql`select tgname, tgenabled from pg_trigger where tgrelid = ${five}::regclass and not tgisinternal and tgname like 'audit%' order by tgname`,
    );
    expect(triggers).toEqual([
      { tgname: 'audit_events_no_truncate', tgenabled: 'A' },
      { tgname: 'audit_events_no_update_delete', tgenabled: 'A' },
    ]);
    expect(await insertEventAt(`${five.slice(14, 18)}-${five.slice(19, 21)}-10T00:00:00Z`)).toBe(five);
  });

  it('keeps every partition guarded ENABLE ALWAYS', async () => {
    const unguarded = await run<{ name: string }>(
      database,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_events'::regclass
          AND (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgenabled = 'A'
                AND t.tgname IN ('audit_events_no_truncate', 'audit_events_no_update_delete')) <> 2`,
    );
    expect(unguarded).toEqual([]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the parent and on each partition directly', async () => {
    await meRequest();
    const current = await monthPartition(0);
    const future = await monthPartition(5);
    const [before] = await run<{ n: number }>(database, 'SELECT count(*)::int AS n FROM audit_events');
    const statements = [
      "UPDATE audit_events SET outcome = 'success'",
      'DELETE FROM audit_events',
      'TRUNCATE audit_events CASCADE',
      ...[current, 'audit_events_default', future].flatMap((p) => [
        `UPDATE ${p} SET http_status = 200`,
        `DELETE FROM ${p}`,
        `TRUNCATE ${p} CASCADE`,
      ]),
    ];
    for (const statement of statements) expect(await rejection(run(database, statement)), statement).toMatch(/append-only/);
    // Without CASCADE the foreign key from audit_seals refuses first.
    expect(await rejection(run(database, `TRUNCATE ${current}`))).toMatch(/foreign key/);
    const [after] = await run<{ n: number }>(database, 'SELECT count(*)::int AS n FROM audit_events');
    expect(after).toEqual(before);
  });

  it('still seals and verifies the chain, default partition included, each seal keyed to its event', async () => {
    for (let i = 0; i < 3; i++) await meRequest();
    const { report, rows } = await verifyCovering(app, officer, database);
    expect(report).toMatchObject({ ok: true, firstBreak: null, rowsChecked: rows, sealedThrough: rows });
    const [seals] = await run<{ n: number; keyed: number }>(
      database,
      sql`select count(*)::int as n, count(e.id)::int as keyed from audit_seals s
            left join audit_events e on e.clinic_id = s.clinic_id and e.id = s.event_id and e.occurred_at = s.event_occurred_at
           where s.clinic_id = ${clinic.id}`,
    );
    expect(seals?.n).toBe(rows);
    expect(seals?.keyed).toBe(rows);
  });

  it('cannot lose a sealed month by detaching it: the seals still reference it', async () => {
    const current = await monthPartition(0);
    expect(await rejection(run(database, `ALTER TABLE audit_events DETACH PARTITION ${current}`))).toMatch(/foreign key/);
    expect((await partitions()).map((p) => p.name)).toContain(current);
  });
});
