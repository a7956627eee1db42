import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { createClinic, createStaffMember, TEST_PASSWORD, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller, type Method } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Reply = Awaited<ReturnType<typeof app.inject>>;

/** One call as `token`, with a fresh request id so its audit record can be found. */
const send = caller(app);
/** Every staff response is checked for a password hash leaking. */
const call: typeof send = async (...args) => {
  const result = await send(...args);
  expect(result.response.body).not.toMatch(/\$argon2/);
  return result;
};

const staffCount = async () => (await query<{ n: number }>('select count(*)::int as n from staff'))[0]?.n;

const unique = () => randomBytes(4).toString('hex');
const newStaff = (overrides: Record<string, unknown> = {}) => ({
  email: `therapist-${unique()}@example.test`,
  displayName: 'Synthetic Therapist',
  roles: ['therapist'],
  password: TEST_PASSWORD,
  ...overrides,
});

async function adminSession() {
  const { clinic, admin } = await createClinic();
  return { clinic, admin, token: tokenFor(app, admin) };
}

describe('creating staff', () => {
  it('creates an account: 201 with Location, ETag and the account, audited with its roles', async () => {
    const { clinic, admin, token } = await adminSession();
    const input = newStaff({ roles: ['therapist', 'team_lead'] });
    const { response, requestId } = await call(token, 'POST', '/v1/staff', input);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: input.email,
      displayName: 'Synthetic Therapist',
      roles: ['therapist', 'team_lead'],
      active: true,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(response.headers.location).toBe(`/v1/staff/${body.id}`);
    expect(response.headers.etag).toBe('"1"');
    expect(await auditRecord(requestId)).toMatchObject({
      clinic_id: clinic.id,
      actor_id: admin.id,
      action: 'C',
      subtype: 'create',
      outcome: 'success',
      http_status: 201,
      resource_id: body.id,
      details: { roles: { from: [], to: ['therapist', 'team_lead'] } },
    });

    const read = await call(token, 'GET', response.headers.location as string);
    expect(read.response.statusCode).toBe(200);
    expect(read.response.json()).toEqual(body);
    expect(read.response.headers.etag).toBe('"1"');
  });

  it('keeps emails unique per clinic, ignoring case; another clinic may use the same email', async () => {
    const { token } = await adminSession();
    const email = `Dup-${unique()}@Example.test`;
    expect((await call(token, 'POST', '/v1/staff', newStaff({ email }))).response.statusCode).toBe(201);

    const before = await staffCount();
    const duplicate = await call(token, 'POST', '/v1/staff', newStaff({ email: email.toLowerCase() }));
    expectProblem(duplicate.response, 409);
    expect(await auditRecord(duplicate.requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    expect(await staffCount()).toBe(before);

    const elsewhere = await adminSession();
    expect((await call(elsewhere.token, 'POST', '/v1/staff', newStaff({ email }))).response.statusCode).toBe(201);
  });

  it('stores and returns SQL-looking strings literally', async () => {
    const { clinic, token } = await adminSession();
    const displayName = "Robert'); DROP TABLE staff;--";
    const email = `o'brien-${unique()}@example.test`;
    const created = await call(token, 'POST', '/v1/staff', newStaff({ displayName, email }));
    expect(created.response.statusCode).toBe(201);
    expect(created.response.json()).toMatchObject({ displayName, email });
    const id = created.response.json().id as string;
    expect((await call(token, 'GET', `/v1/staff/${id}`)).response.json()).toMatchObject({ displayName, email });
    const [row] = await query<{ display_name: string }>(sql`select display_name from staff where clinic_id = ${clinic.id} and id = ${id}`);
    expect(row?.display_name).toBe(displayName);

    const patched = await call(token, 'PATCH', `/v1/staff/${id}`, { displayName: "x' OR '1'='1" }, { 'if-match': '"1"' });
    expect(patched.response.json().displayName).toBe("x' OR '1'='1");
    expect(await staffCount()).toBeGreaterThan(1);
  });
});

describe('bad input', () => {
  it('rejects oversized, mistyped, unknown and malformed input with 400 naming the field; nothing is written', async () => {
    const { admin, token } = await adminSession();
    const before = await staffCount();
    const fieldsOf = (response: Reply) => (expectProblem(response, 400).errors ?? []).map((error) => `${error.in}.${error.field}`);

    const oversized = await call(token, 'POST', '/v1/staff', newStaff({ displayName: 'x'.repeat(10_000) }));
    expect(fieldsOf(oversized.response)).toEqual(['body.displayName']);
    expect(expectProblem(oversized.response, 400).detail).toContain('displayName');
    expect(await auditRecord(oversized.requestId)).toMatchObject({ outcome: 'failure', http_status: 400, actor_id: admin.id });

    const mistyped = await call(token, 'POST', '/v1/staff', { email: 42, displayName: ['a'], roles: 'therapist', password: true });
    expect(fieldsOf(mistyped.response)).toEqual(expect.arrayContaining(['body.email', 'body.displayName', 'body.roles', 'body.password']));

    const unknownField = await call(token, 'POST', '/v1/staff', newStaff({ active: false, isSuperuser: true }));
    const unknownBody = expectProblem(unknownField.response, 400);
    expect(unknownBody.errors?.map((error) => `${error.in}.${error.field}`).sort()).toEqual(['body.active', 'body.isSuperuser']);
    expect(unknownBody.detail).toContain('body.isSuperuser');

    const badValues = [
      newStaff({ roles: ['superuser'] }),
      newStaff({ roles: [] }),
      newStaff({ roles: ['therapist', 'therapist'] }),
      newStaff({ password: 'short' }),
      newStaff({ email: 'not-an-email' }),
      newStaff({ displayName: '   ' }),
    ];
    const expectedFields = ['body.roles.0', 'body.roles', 'body.roles', 'body.password', 'body.email', 'body.displayName'];
    for (const [index, payload] of badValues.entries()) {
      expect(fieldsOf((await call(token, 'POST', '/v1/staff', payload)).response)).toEqual([expectedFields[index]]);
    }

    for (const [method, path] of [
      ['GET', 'not-a-uuid'],
      ['PATCH', "1' OR '1'='1"],
      ['PUT', 'not-a-uuid/roles'],
      ['POST', '12345/deactivate'],
    ] as const) {
      const payload = method === 'PATCH' ? { displayName: 'x' } : method === 'PUT' ? { roles: ['therapist'] } : undefined;
      const { response } = await call(token, method, `/v1/staff/${encodeURIComponent(path).replaceAll('%2F', '/')}`, payload, {
        'if-match': '"1"',
      });
      expect(fieldsOf(response)).toEqual(['params.id']);
    }

    const member = await createStaffMember(admin.clinicId, ['therapist']);
    const countWithMember = await staffCount();
    const longName = await call(token, 'PATCH', `/v1/staff/${member.id}`, { displayName: 'y'.repeat(10_000) }, { 'if-match': '"1"' });
    expect(fieldsOf(longName.response)).toEqual(['body.displayName']);
    const unknownPatch = await call(token, 'PATCH', `/v1/staff/${member.id}`, { roles: ['admin'] }, { 'if-match': '"1"' });
    expectProblem(unknownPatch.response, 400);
    const [unchanged] = await query(sql`select display_name, roles, version from staff where id = ${member.id}`);
    expect(unchanged).toEqual({ display_name: member.displayName, roles: ['therapist'], version: 1 });
    expect(await staffCount()).toBe(countWithMember);
    expect(countWithMember).toBe((before ?? 0) + 1);
  });
});

describe('listing staff', () => {
  it('pages with a cursor: pages neither overlap nor skip, and the last has no next cursor', async () => {
    const { admin, token } = await adminSession();
    for (let i = 0; i < 7; i++) expect((await call(token, 'POST', '/v1/staff', newStaff())).response.statusCode).toBe(201);
    const other = await adminSession(); // another clinic's staff never appear
    await call(other.token, 'POST', '/v1/staff', newStaff());

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/staff?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { response, requestId } = await call(token, 'GET', url);
      expect(response.statusCode).toBe(200);
      const page = response.json() as { items: Array<{ id: string }>; nextCursor: string | null };
      sizes.push(page.items.length);
      seen.push(...page.items.map((item) => item.id));
      expect(await auditRecord(requestId)).toMatchObject({ subtype: 'search', result_count: page.items.length });
      cursor = page.nextCursor;
    } while (cursor && sizes.length < 10);

    expect(sizes).toEqual([3, 3, 2]);
    expect(new Set(seen).size).toBe(8);
    const all = (await call(token, 'GET', '/v1/staff')).response.json() as { items: Array<{ id: string }>; nextCursor: string | null };
    expect(all.nextCursor).toBeNull();
    expect(seen).toEqual(all.items.map((item) => item.id));
    expect(seen).toContain(admin.id);
  });

  it('rejects a cursor it did not issue with 400 naming cursor', async () => {
    const { token } = await adminSession();
    for (const cursor of ['garbage!!', Buffer.from('not-a-uuid').toString('base64url'), 'x'.repeat(300)]) {
      const { response } = await call(token, 'GET', `/v1/staff?cursor=${encodeURIComponent(cursor)}`);
      const body = expectProblem(response, 400);
      expect(body.errors).toEqual([{ in: expect.stringMatching(/^query/), field: 'cursor', message: expect.any(String) }]);
      expect(body.detail).toContain('cursor');
    }
    const { response } = await call(token, 'GET', '/v1/staff?limit=0');
    expect(expectProblem(response, 400).errors?.map((error) => error.field)).toEqual(['limit']);
  });
});

describe('changing staff', () => {
  it('PATCH needs If-Match: 428 without, 412 when stale, 200 with the current ETag', async () => {
    const { token } = await adminSession();
    const created = (await call(token, 'POST', '/v1/staff', newStaff())).response.json();
    const url = `/v1/staff/${created.id}`;

    expectProblem((await call(token, 'PATCH', url, { displayName: 'Renamed' })).response, 428);
    expectProblem((await call(token, 'PATCH', url, { displayName: 'Renamed' }, { 'if-match': '"7"' })).response, 412);

    const first = await call(token, 'PATCH', url, { displayName: 'Renamed Once' }, { 'if-match': '"1"' });
    expect(first.response.statusCode).toBe(200);
    expect(first.response.json()).toMatchObject({ displayName: 'Renamed Once', version: 2 });
    expect(first.response.headers.etag).toBe('"2"');
    expect(await auditRecord(first.requestId)).toMatchObject({ subtype: 'update', details: { fields: ['displayName'] } });

    expectProblem((await call(token, 'PATCH', url, { displayName: 'Lost update' }, { 'if-match': '"1"' })).response, 412);
    const second = await call(
      token,
      'PATCH',
      url,
      { email: `renamed-${unique()}@example.test` },
      { 'if-match': first.response.headers.etag as string },
    );
    expect(second.response.json()).toMatchObject({ displayName: 'Renamed Once', version: 3 });
    expect((await call(token, 'GET', url)).response.headers.etag).toBe('"3"');
  });

  it('PATCH to an email another member has (in any case) is a 409', async () => {
    const { admin, token } = await adminSession();
    const created = (await call(token, 'POST', '/v1/staff', newStaff())).response.json();
    const { response } = await call(token, 'PATCH', `/v1/staff/${created.id}`, { email: admin.email.toUpperCase() }, { 'if-match': '"1"' });
    expectProblem(response, 409);
    expect((await call(token, 'GET', `/v1/staff/${created.id}`)).response.json()).toMatchObject({ email: created.email, version: 1 });
  });

  it('PUT roles is a privilege change recorded with the roles before and after', async () => {
    const { admin, token } = await adminSession();
    const created = (await call(token, 'POST', '/v1/staff', newStaff())).response.json();
    const url = `/v1/staff/${created.id}/roles`;
    expectProblem((await call(token, 'PUT', url, { roles: ['compliance'] })).response, 428);

    const { response, requestId } = await call(token, 'PUT', url, { roles: ['therapist', 'compliance'] }, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ roles: ['therapist', 'compliance'], version: 2 });
    expect(response.headers.etag).toBe('"2"');
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'privilege-change',
      actor_id: admin.id,
      resource_id: created.id,
      outcome: 'success',
      details: { roles: { from: ['therapist'], to: ['therapist', 'compliance'] } },
    });
  });

  it('deactivate and reactivate are privilege changes too', async () => {
    const { token } = await adminSession();
    const created = (await call(token, 'POST', '/v1/staff', newStaff())).response.json();

    const off = await call(token, 'POST', `/v1/staff/${created.id}/deactivate`);
    expect(off.response.statusCode).toBe(200);
    expect(off.response.json()).toMatchObject({ active: false, version: 2 });
    expect(await auditRecord(off.requestId)).toMatchObject({ subtype: 'privilege-change', details: { active: { from: true, to: false } } });
    const inactive = (await call(token, 'GET', '/v1/staff?active=false')).response.json() as { items: Array<{ id: string }> };
    expect(inactive.items.map((item) => item.id)).toEqual([created.id]);

    const on = await call(token, 'POST', `/v1/staff/${created.id}/reactivate`);
    expect(on.response.json()).toMatchObject({ active: true, version: 3 });
    expect(await auditRecord(on.requestId)).toMatchObject({ subtype: 'privilege-change', details: { active: { from: false, to: true } } });
  });

  it('an admin cannot remove their own admin role or deactivate themselves (409)', async () => {
    const { admin, token } = await adminSession();
    const demote = await call(token, 'PUT', `/v1/staff/${admin.id}/roles`, { roles: ['therapist'] }, { 'if-match': '"1"' });
    expectProblem(demote.response, 409);
    expect(await auditRecord(demote.requestId)).toMatchObject({ subtype: 'privilege-change', outcome: 'failure', http_status: 409 });
    expectProblem((await call(token, 'POST', `/v1/staff/${admin.id}/deactivate`)).response, 409);
    const [row] = await query(sql`select roles, active, version from staff where id = ${admin.id}`);
    expect(row).toEqual({ roles: ['admin'], active: true, version: 1 });

    // Adding a role while keeping admin is fine.
    const broaden = await call(token, 'PUT', `/v1/staff/${admin.id}/roles`, { roles: ['admin', 'therapist'] }, { 'if-match': '"1"' });
    expect(broaden.response.json()).toMatchObject({ roles: ['admin', 'therapist'], version: 2 });
  });
});

describe('access', () => {
  it('a therapist gets 403 on every staff route', async () => {
    const { clinic, admin } = await adminSession();
    const therapist = await createStaffMember(clinic.id, ['therapist', 'team_lead', 'compliance', 'skills_trainer']);
    const token = tokenFor(app, therapist);
    const before = await staffCount();
    const attempts: Array<[Method, string, unknown?]> = [
      ['GET', '/v1/staff'],
      ['POST', '/v1/staff', newStaff()],
      ['GET', `/v1/staff/${admin.id}`],
      ['PATCH', `/v1/staff/${admin.id}`, { displayName: 'Hijacked' }],
      ['PUT', `/v1/staff/${therapist.id}/roles`, { roles: ['admin'] }],
      ['POST', `/v1/staff/${admin.id}/deactivate`],
    ];
    for (const [method, url, payload] of attempts) {
      const { response, requestId } = await call(token, method, url, payload, { 'if-match': '"1"' });
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({
        actor_id: therapist.id,
        outcome: 'denied',
        http_status: 403,
        denial_reason: 'role-not-permitted:staff.manage',
      });
    }
    expect(await staffCount()).toBe(before);
    const [row] = await query(sql`select roles, active, display_name from staff where id = ${admin.id}`);
    expect(row).toEqual({ roles: ['admin'], active: true, display_name: 'Synthetic Admin' });
  });

  it("another clinic's staff id is a 404 for read, patch, roles, deactivate and reactivate", async () => {
    const { token } = await adminSession();
    const other = await adminSession();
    const target = await createStaffMember(other.clinic.id, ['therapist']);
    for (const id of [target.id, randomUUID()]) {
      const attempts: Array<[Method, string, unknown?]> = [
        ['GET', `/v1/staff/${id}`],
        ['PATCH', `/v1/staff/${id}`, { displayName: 'Cross-clinic' }],
        ['PUT', `/v1/staff/${id}/roles`, { roles: ['admin'] }],
        ['POST', `/v1/staff/${id}/deactivate`],
        ['POST', `/v1/staff/${id}/reactivate`],
      ];
      for (const [method, url, payload] of attempts) {
        // With and without If-Match: the 404 comes first, so nothing about the row leaks.
        for (const headers of [{}, { 'if-match': '"1"' }] as Array<Record<string, string>>) {
          const { response, requestId } = await call(token, method, url, payload, headers);
          const body = expectProblem(response, 404);
          expect(body.detail).not.toContain(target.email);
          expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404 });
        }
      }
    }
    const [row] = await query(sql`select display_name, roles, active, version from staff where id = ${target.id}`);
    expect(row).toEqual({ display_name: target.displayName, roles: ['therapist'], active: true, version: 1 });
  });
});
