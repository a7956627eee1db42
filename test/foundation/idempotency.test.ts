import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { purgeExpiredIdempotencyKeys } from '../../src/plugins/idempotency.js';
import { buildTestApp, query, target, testDatabase } from '../helpers/app.js';
import { createClinic, createProgram, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

/** A clinic with a program and an administrator who registers clients in it. */
async function registrar() {
  const { clinic, admin } = await createClinic();
  const { program } = await createProgram(clinic.id);
  const body = { givenName: 'Idem', familyName: 'Synthetic', dateOfBirth: '1990-01-01', programId: program.id };
  return { clinic, admin, token: tokenFor(app, admin), program, body };
}

const register = (token: string, body: unknown, key?: string) =>
  call(token, 'POST', '/v1/clients', body, key === undefined ? {} : { 'idempotency-key': key });

async function clientCount(clinicId: string) {
  const [row] = await query<{ n: number }>(sql`select count(*)::int as n from clients where clinic_id = ${clinicId}`);
  return row?.n;
}

async function keyRows(clinicId: string) {
  return query<{ key: string; staff_id: string; request_id: string; response_status: number | null; client_ids: string[] }>(
    sql`select key, staff_id, request_id, response_status, client_ids from idempotency_keys where clinic_id = ${clinicId} order by staff_id`,
  );
}

describe('Idempotency-Key on POST', () => {
  it('a POST without the header creates every time and stores no key', async () => {
    const { clinic, token, body } = await registrar();
    const first = await register(token, body);
    const second = await register(token, body);
    expect([first.response.statusCode, second.response.statusCode]).toEqual([201, 201]);
    expect(first.response.json().id).not.toBe(second.response.json().id);
    expect(await clientCount(clinic.id)).toBe(2);
    expect(await keyRows(clinic.id)).toEqual([]);
  });

  it('the same key and body answer with the original status, headers and body, and create one row', async () => {
    const { clinic, token, body } = await registrar();
    const key = randomUUID();
    const first = await register(token, body, key);
    expect(first.response.statusCode).toBe(201);
    expect(first.response.headers['idempotent-replayed']).toBeUndefined();

    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await register(token, reordered, key);
    expect(second.response.statusCode).toBe(201);
    expect(second.response.body).toBe(first.response.body);
    expect(second.response.headers.location).toBe(first.response.headers.location);
    expect(second.response.headers.etag).toBe(first.response.headers.etag);
    expect(second.response.headers['content-type']).toBe(first.response.headers['content-type']);
    expect(second.response.headers['idempotent-replayed']).toBe('true');
    expect(second.response.headers['x-request-id']).toBe(second.requestId);
    expect(await clientCount(clinic.id)).toBe(1);

    const clientId = first.response.json().id as string;
    const [row] = await keyRows(clinic.id);
    expect(row).toMatchObject({ key, request_id: first.requestId, response_status: 201, client_ids: [clientId] });
    const replay = await auditRecord(second.requestId);
    expect(replay).toMatchObject({ outcome: 'success', http_status: 201, action: 'C', resource_id: clientId, client_ids: [clientId] });
    expect(replay.details).toMatchObject({ idempotentReplay: true, originalRequestId: first.requestId });
    expect((await auditRecord(first.requestId)).details).toBeNull();
  });

  it('the same key with a different body is a 422 naming the header, and creates nothing', async () => {
    const { clinic, token, body } = await registrar();
    const key = randomUUID();
    expect((await register(token, body, key)).response.statusCode).toBe(201);
    const changed = await register(token, { ...body, givenName: 'Other' }, key);
    const problem = expectProblem(changed.response, 422);
    expect(problem.detail).toMatch(/different request/);
    expect(problem.errors).toEqual([{ in: 'headers', field: 'idempotency-key', message: expect.stringMatching(/different/) }]);
    expect(await clientCount(clinic.id)).toBe(1);
    expect(await auditRecord(changed.requestId)).toMatchObject({ outcome: 'failure', http_status: 422 });
  });

  it('the same key on another route is a 422 as well', async () => {
    const { admin, token, body } = await registrar();
    const key = randomUUID();
    expect((await register(token, body, key)).response.statusCode).toBe(201);
    const staff = {
      email: `idem-${randomUUID()}@example.test`,
      displayName: 'Idem Probe',
      roles: ['therapist'],
      password: 'a long enough password',
    };
    const other = await call(token, 'POST', '/v1/staff', staff, { 'idempotency-key': key });
    expectProblem(other.response, 422);
    const [row] = await query<{ n: number }>(sql`select count(*)::int as n from staff where clinic_id = ${admin.clinicId}`);
    expect(row?.n).toBe(1);
  });

  it("keys are each staff member's own: another member's same key acts independently", async () => {
    const { clinic, token, body } = await registrar();
    const colleague = await memberWithToken(app, clinic.id, ['admin']);
    const key = randomUUID();
    const mine = await register(token, body, key);
    const theirs = await register(colleague.token, body, key);
    expect([mine.response.statusCode, theirs.response.statusCode]).toEqual([201, 201]);
    expect(theirs.response.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.response.json().id).not.toBe(mine.response.json().id);
    expect(await clientCount(clinic.id)).toBe(2);
    expect(await keyRows(clinic.id)).toHaveLength(2);
  });

  it('a key older than 24 hours is free again: the request acts and takes the key over', async () => {
    const { clinic, token, body } = await registrar();
    const key = randomUUID();
    const first = await register(token, body, key);
    await query(sql`update idempotency_keys set created_at = now() - interval '24 hours 1 minute' where clinic_id = ${clinic.id}`);
    const later = await register(token, { ...body, givenName: 'Later' }, key);
    expect(later.response.statusCode).toBe(201);
    expect(later.response.json().id).not.toBe(first.response.json().id);
    expect(await clientCount(clinic.id)).toBe(2);
    expect(await keyRows(clinic.id)).toEqual([expect.objectContaining({ request_id: later.requestId, response_status: 201 })]);
  });

  it('an invalid key is a 400 naming headers.idempotency-key, and nothing is created', async () => {
    const { clinic, token, body } = await registrar();
    for (const key of ['', 'has a space', 'x'.repeat(256), 'tab\tinside']) {
      const { response } = await register(token, body, key);
      const problem = expectProblem(response, 400);
      expect(problem.detail).toContain('headers.idempotency-key');
      expect(problem.errors).toEqual([{ in: 'headers', field: 'idempotency-key', message: expect.any(String) }]);
    }
    expect((await register(token, body, 'x'.repeat(255))).response.statusCode).toBe(201);
    expect(await clientCount(clinic.id)).toBe(1);
  });

  it('a failed request stores nothing: the same key may be retried once the request is fixed', async () => {
    const { clinic, token, body } = await registrar();
    const key = randomUUID();
    const failed = await register(token, { ...body, programId: randomUUID() }, key);
    expectProblem(failed.response, 400);
    expect(await keyRows(clinic.id)).toEqual([]);
    expect((await register(token, body, key)).response.statusCode).toBe(201);
    expect(await clientCount(clinic.id)).toBe(1);
  });

  it('a key whose request committed without a stored response answers 409 and creates nothing', async () => {
    const { clinic, token, body } = await registrar();
    const key = randomUUID();
    await register(token, body, key);
    await query(sql`update idempotency_keys set response_status = null, response_body = null where clinic_id = ${clinic.id}`);
    const retry = await register(token, body, key);
    expect(expectProblem(retry.response, 409).detail).toMatch(/still being processed/);
    expect(await clientCount(clinic.id)).toBe(1);
  });

  it('an action POST (200) replays too instead of acting twice', async () => {
    const { clinic, token } = await registrar();
    const member = await memberWithToken(app, clinic.id, ['therapist']);
    const key = randomUUID();
    const first = await call(token, 'POST', `/v1/staff/${member.id}/deactivate`, undefined, { 'idempotency-key': key });
    const second = await call(token, 'POST', `/v1/staff/${member.id}/deactivate`, undefined, { 'idempotency-key': key });
    expect([first.response.statusCode, second.response.statusCode]).toEqual([200, 200]);
    expect(second.response.body).toBe(first.response.body);
    expect(second.response.headers['idempotent-replayed']).toBe('true');
    const [row] = await query<{ version: number }>(sql`select version from staff where clinic_id = ${clinic.id} and id = ${member.id}`);
    expect(row?.version).toBe(first.response.json().version);
  });

  describe(`concurrent requests with one key (${target.kind}${target.kind === 'pglite' ? ', serialised by its one connection' : ''})`, () => {
    it('ten at once create exactly one row; every other answer is the same 201 or a 409 problem — over five rounds', async () => {
      for (let round = 0; round < 5; round++) {
        const { clinic, token, body } = await registrar();
        const key = randomUUID();
        const answers = await Promise.all(Array.from({ length: 10 }, () => register(token, body, key)));
        expect(await clientCount(clinic.id)).toBe(1);
        const originals = answers.filter((a) => a.response.statusCode === 201 && !a.response.headers['idempotent-replayed']);
        expect(originals).toHaveLength(1);
        const original = originals[0]?.response.body;
        for (const { response } of answers) {
          if (response.statusCode === 201) expect(response.body).toBe(original);
          else expectProblem(response, 409);
        }
        expect(await keyRows(clinic.id)).toEqual([expect.objectContaining({ key, response_status: 201 })]);
      }
    });

    it('ten at once with one key and different bodies create exactly one row; the rest are 409 or 422', async () => {
      const { clinic, token, body } = await registrar();
      const key = randomUUID();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => register(token, { ...body, givenName: `Idem${i}` }, key)));
      expect(await clientCount(clinic.id)).toBe(1);
      expect(answers.filter((a) => a.response.statusCode === 201)).toHaveLength(1);
      for (const { response } of answers) if (response.statusCode !== 201) expect([409, 422]).toContain(response.statusCode);
    });
  });

  it('the purge deletes keys older than 24 hours and keeps the others', async () => {
    const { clinic, token, body } = await registrar();
    const [stale, fresh] = [randomUUID(), randomUUID()];
    await register(token, body, stale);
    await register(token, { ...body, givenName: 'Fresh' }, fresh);
    await query(
      sql`update idempotency_keys set created_at = now() - interval '25 hours' where clinic_id = ${clinic.id} and key = ${stale}`,
    );
    const { db } = await testDatabase();
    expect(await purgeExpiredIdempotencyKeys(db)).toBeGreaterThanOrEqual(1);
    expect((await keyRows(clinic.id)).map((row) => row.key)).toEqual([fresh]);
  });

  it('the OpenAPI document offers the header on every POST but the sign-in', () => {
    const document = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
      paths: Record<string, { post?: { parameters?: Array<{ in: string; name: string }> } }>;
    };
    const posts = Object.entries(document.paths).filter(([, item]) => item.post);
    const offering = posts.filter(([, item]) => item.post?.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'));
    expect(posts.length).toBeGreaterThan(10);
    expect(posts.filter((post) => !offering.includes(post)).map(([path]) => path)).toEqual(['/v1/auth/login']);
  });
});
