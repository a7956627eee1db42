import { createHmac, randomBytes } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import type { StaffRole } from '../../src/db/schema/index.js';
import { insertStaff } from '../../src/modules/staff/staff.service.js';
import { newRequestId } from '../helpers/app.js';
import { bearer, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';

/** The audit columns the tests look at, as Postgres returns them. */
export interface AuditRecord {
  clinic_id: string;
  id: string;
  txid: string;
  request_id: string;
  actor_type: string;
  actor_id: string | null;
  actor_roles: string[];
  action: string;
  subtype: string;
  outcome: string;
  http_status: number;
  denial_reason: string | null;
  method: string;
  route: string;
  resource_type: string | null;
  resource_id: string | null;
  access_basis: Record<string, unknown> | null;
  query: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
  result_count: number | null;
  source_ip: string | null;
  user_agent: string | null;
}

/** Raw SQL on a given database (one statement per call: PGlite runs one per query). */
export async function run<T = Record<string, unknown>>(database: Database, statement: SQL | string): Promise<T[]> {
  const result = await database.db.execute(typeof statement === 'string' ? sql.raw(statement) : statement);
  return result.rows as T[];
}

export function recordsFor(database: Database, requestId: string) {
  return run<AuditRecord>(database, sql`select * from audit_events where request_id = ${requestId} order by id`);
}

export async function countRows(database: Database, table: string, clinicId?: string): Promise<number> {
  const where = clinicId ? sql` where clinic_id = ${clinicId}` : sql``;
  const [row] = await run<{ n: number }>(database, sql`select count(*)::int as n from ${sql.identifier(table)}${where}`);
  return row?.n ?? 0;
}

/** A staff member in any database (the shared factory only writes to the file's own). */
export function staffIn(database: Database, clinicId: string, roles: StaffRole[]) {
  const tag = randomBytes(5).toString('hex');
  return insertStaff(database.db, clinicId, {
    email: `${roles.join('-')}-${tag}@example.test`,
    displayName: `Synthetic ${roles.join(' ')} ${tag}`,
    roles,
    password: TEST_PASSWORD,
  });
}

/** A well-formed HS256 token signed with a secret the app does not know. */
export function forgedToken(claims: Record<string, unknown>) {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', randomBytes(32)).update(unsigned).digest('base64url')}`;
}

export interface VerifyReport {
  clinicId: string;
  ok: boolean;
  rowsChecked: number;
  sealedThrough: number;
  firstBreak: { seq: number | null; eventId: string | null; reason: string } | null;
}

/** GET /v1/audit/verify as a compliance officer; returns the report and the call's request id. */
export async function verifyAs(app: App, officer: { id: string; clinicId: string; roles: string[] }) {
  const requestId = newRequestId();
  const response = await app.inject({
    method: 'GET',
    url: '/v1/audit/verify',
    headers: { ...bearer(tokenFor(app, officer)), 'x-request-id': requestId },
  });
  expect(response.statusCode, response.body).toBe(200);
  return { report: response.json() as VerifyReport, requestId };
}

/**
 * Verifies until the chain covers every record the clinic had when the call was made, and returns
 * that count with the report. The sealer only seals below pg_snapshot_xmin, which is cluster-wide:
 * a transaction still open anywhere on the server (another test file's database included) holds
 * the newest records back for a moment. On PGlite the first call always covers everything.
 */
export async function verifyCovering(app: App, officer: { id: string; clinicId: string; roles: string[] }, database: Database) {
  for (let attempt = 1; ; attempt++) {
    const rows = await countRows(database, 'audit_events', officer.clinicId);
    const result = await verifyAs(app, officer);
    if (result.report.rowsChecked >= rows || !result.report.ok || attempt === 100) return { ...result, rows };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every message in an error's cause chain, so a driver's wrapper does not hide Postgres's text. */
export function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.message) messages.push(e.message);
  }
  return messages.join(' | ');
}

export async function rejection(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return messagesOf(error);
  }
  throw new Error('expected the statement to be rejected, but it succeeded');
}
