import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { PolicySettings } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, createProgram, memberWithToken, tokenFor } from '../helpers/factories.js';
import { activateClient, createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Enrollment = Record<string, unknown> & { id: string; version: number; clientId: string };

// The default cycle starts on Monday 2030-01-07: mindfulness 2 weeks, distress tolerance from
// 2030-01-21 for 6 weeks, mindfulness again from 2030-03-04.
const MODULE_START = '2030-01-21';

const enrollmentCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from group_enrollments where clinic_id = ${clinicId}`))[0]?.n;

async function setting(options: { capacity?: number | null; policy?: Partial<PolicySettings> } = {}) {
  const { clinic, admin } = await createClinic();
  const { program } = await createProgram(clinic.id, 'adult', options.policy);
  const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
  const therapist = await memberWithToken(app, clinic.id, ['therapist']);
  const group = await createSkillsGroup(clinic.id, { programId: program.id, leaderId: trainer.id, capacity: options.capacity ?? null });
  /** A client of the program in active individual treatment with a primary therapist. */
  const newClient = async (primaryTherapistId: string | null = therapist.id, active = true) => {
    const client = await createClientRecord(clinic.id, { primaryTherapistId, programId: program.id, createdBy: admin.id });
    if (active) await activateClient(clinic.id, client.id, '2029-12-01');
    return client;
  };
  const url = `/v1/skills-groups/${group.id}/enrollments`;
  return { clinic, program, trainer, therapist, group, newClient, url, admin: { ...admin, token: tokenFor(app, admin) } };
}

type Setting = Awaited<ReturnType<typeof setting>>;

async function refused(s: Setting, clientId: string, startDate: string, detail: RegExp) {
  const before = await enrollmentCount(s.clinic.id);
  const { response, requestId } = await call(s.trainer.token, 'POST', s.url, { clientId, startDate });
  const problem = expectProblem(response, 409);
  expect(problem.detail).toMatch(detail);
  expect(await enrollmentCount(s.clinic.id)).toBe(before);
  expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409, client_ids: [clientId] });
  return problem;
}

describe('enrolling a client', () => {
  it('at a module start: 201 with ETag, Location and the client by name; audited with the policy version', async () => {
    const s = await setting();
    const client = await s.newClient();
    const { response, requestId } = await call(s.trainer.token, 'POST', s.url, { clientId: client.id, startDate: MODULE_START });
    expect(response.statusCode).toBe(201);
    const enrollment = response.json() as Enrollment;
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers.location).toBe(`${s.url}/${enrollment.id}`);
    expect(enrollment).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      groupId: s.group.id,
      clientId: client.id,
      givenName: client.givenName,
      familyName: 'Synthetic',
      preferredName: null,
      startDate: MODULE_START,
      endDate: null,
      endReason: null,
      endNote: null,
      createdBy: s.trainer.id,
      endedBy: null,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      outcome: 'success',
      http_status: 201,
      resource_type: 'group-enrollment',
      resource_id: enrollment.id,
      client_ids: [client.id],
      access_basis: { rule: 'skills-groups.roster', relationship: 'group-leader' },
      details: { startDate: MODULE_START, policyVersion: 1 },
    });
  });

  it('an administrator may enroll too, on the admin basis', async () => {
    const s = await setting();
    const client = await s.newClient();
    const { response, requestId } = await call(s.admin.token, 'POST', s.url, { clientId: client.id, startDate: '2030-01-07' });
    expect(response.statusCode).toBe(201);
    expect((await auditRecord(requestId)).access_basis).toMatchObject({ role: 'admin' });
  });

  it('409 when the group is full at its own capacity, naming the capacity', async () => {
    const s = await setting({ capacity: 2 });
    for (const startDate of ['2030-01-07', MODULE_START]) await enrollClient(s.group, (await s.newClient()).id, startDate);
    await refused(s, (await s.newClient()).id, '2030-03-04', /full: its capacity is 2/);
  });

  it("409 when the group is full at the program's group size limit, when the group sets none", async () => {
    const s = await setting({ policy: { groupSizeLimit: 2 } });
    for (let i = 0; i < 2; i++) await enrollClient(s.group, (await s.newClient()).id, '2030-01-07');
    await refused(s, (await s.newClient()).id, MODULE_START, /capacity is 2/);
  });

  it('counts places by overlap: an enrollment ended before the start frees its place, one starting later takes one', async () => {
    const s = await setting({ capacity: 2 });
    await enrollClient(s.group, (await s.newClient()).id, '2030-01-07', '2030-01-20');
    await enrollClient(s.group, (await s.newClient()).id, '2030-01-07');
    const admitted = await call(s.trainer.token, 'POST', s.url, { clientId: (await s.newClient()).id, startDate: MODULE_START });
    expect(admitted.response.statusCode).toBe(201);

    const later = await setting({ capacity: 2 });
    await enrollClient(later.group, (await later.newClient()).id, '2030-01-07');
    await enrollClient(later.group, (await later.newClient()).id, '2030-03-04');
    await refused(later, (await later.newClient()).id, MODULE_START, /full/);
  });

  it('409 outside the first week of a module, naming the next module start', async () => {
    const s = await setting();
    const client = await s.newClient();
    await refused(s, client.id, '2030-01-28', /next module of this group starts on 2030-03-04/);
    await refused(s, client.id, '2029-12-31', /starts on 2030-01-07/);
  });

  it('admits any start date when the program does not require entry at a module start', async () => {
    const s = await setting({ policy: { entryAtModuleStartOnly: false } });
    const { response } = await call(s.trainer.token, 'POST', s.url, { clientId: (await s.newClient()).id, startDate: '2030-01-30' });
    expect(response.statusCode).toBe(201);
  });

  it('409 without an active episode or without a primary therapist, where the group requires individual therapy', async () => {
    const s = await setting();
    await refused(s, (await s.newClient(s.therapist.id, false)).id, MODULE_START, /no active treatment episode/);
    await refused(s, (await s.newClient(null)).id, MODULE_START, /no primary therapist/);

    const lenient = await setting({ policy: { groupRequiresIndividual: false } });
    const { response } = await call(lenient.trainer.token, 'POST', lenient.url, {
      clientId: (await lenient.newClient(null, false)).id,
      startDate: MODULE_START,
    });
    expect(response.statusCode).toBe(201);
  });

  it('409 when the client is enrolled in another group over the same time, naming that group and its dates', async () => {
    const s = await setting();
    const client = await s.newClient();
    const other = await createSkillsGroup(s.clinic.id, { programId: s.program.id });
    await enrollClient(other, client.id, '2030-01-07', '2030-02-28');
    const problem = await refused(s, client.id, MODULE_START, /from 2030-01-07 to 2030-02-28/);
    expect(problem.detail).toContain(other.name);
  });

  it('409 for an inactive group or a client of another program; 404 for a client of another clinic', async () => {
    const s = await setting();
    const stranger = await createClientRecord(s.clinic.id, { primaryTherapistId: s.therapist.id });
    await refused(s, stranger.id, MODULE_START, /another program/);
    const foreign = await createClientRecord((await createClinic()).clinic.id);
    expectProblem((await call(s.trainer.token, 'POST', s.url, { clientId: foreign.id, startDate: MODULE_START })).response, 404);
    await query(sql`update skills_groups set active = false where clinic_id = ${s.clinic.id} and id = ${s.group.id}`);
    const inactive = await call(s.trainer.token, 'POST', s.url, { clientId: (await s.newClient()).id, startDate: MODULE_START });
    expect(expectProblem(inactive.response, 409).detail).toMatch(/inactive/);
    expect(await enrollmentCount(s.clinic.id)).toBe(0);
  });

  it('400 for unknown fields and bad dates', async () => {
    const s = await setting();
    const client = await s.newClient();
    for (const [field, body] of [
      ['note', { clientId: client.id, startDate: MODULE_START, note: 'x' }],
      ['startDate', { clientId: client.id, startDate: '21/01/2030' }],
      ['clientId', { clientId: 'nope', startDate: MODULE_START }],
    ] as const) {
      const problem = expectProblem((await call(s.trainer.token, 'POST', s.url, body)).response, 400);
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    expect(await enrollmentCount(s.clinic.id)).toBe(0);
  });
});

describe('ending an enrollment', () => {
  it('needs If-Match, refuses an end before the start and a second end, and frees the place', async () => {
    const s = await setting({ capacity: 1 });
    const first = await enrollClient(s.group, (await s.newClient()).id, '2030-01-07');
    const waiting = await s.newClient();
    await refused(s, waiting.id, MODULE_START, /capacity is 1/);

    const endUrl = `${s.url}/${first.id}/end`;
    const body = { endDate: '2030-01-20', reason: 'completed', note: 'Synthetic: finished the module' };
    expectProblem((await call(s.trainer.token, 'POST', endUrl, body)).response, 428);
    expectProblem((await call(s.trainer.token, 'POST', endUrl, body, { 'if-match': '"7"' })).response, 412);
    const early = expectProblem(
      (await call(s.trainer.token, 'POST', endUrl, { ...body, endDate: '2030-01-06' }, { 'if-match': '"1"' })).response,
      400,
    );
    expect(early.errors).toEqual([{ in: 'body', field: 'endDate', message: expect.stringContaining('2030-01-07') }]);
    expectProblem((await call(s.trainer.token, 'POST', endUrl, { ...body, reason: 'bored' }, { 'if-match': '"1"' })).response, 400);

    const { response, requestId } = await call(s.trainer.token, 'POST', endUrl, body, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.json()).toMatchObject({
      endDate: '2030-01-20',
      endReason: 'completed',
      endNote: body.note,
      endedBy: s.trainer.id,
      version: 2,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'end',
      resource_id: first.id,
      client_ids: [first.clientId],
      details: { endDate: '2030-01-20', reason: 'completed' },
    });
    const again = expectProblem((await call(s.trainer.token, 'POST', endUrl, body, { 'if-match': '"2"' })).response, 409);
    expect(again.detail).toMatch(/already ended, on 2030-01-20/);

    const { response: admitted } = await call(s.trainer.token, 'POST', s.url, { clientId: waiting.id, startDate: MODULE_START });
    expect(admitted.statusCode).toBe(201);
  });

  it('404 for an enrollment of another group, even one the caller leads', async () => {
    const s = await setting();
    const other = await createSkillsGroup(s.clinic.id, { programId: s.program.id, leaderId: s.trainer.id });
    const enrollment = await enrollClient(other, (await s.newClient()).id, '2030-01-07');
    const { response } = await call(
      s.trainer.token,
      'POST',
      `${s.url}/${enrollment.id}/end`,
      { endDate: '2030-02-01', reason: 'other' },
      {
        'if-match': '"1"',
      },
    );
    expectProblem(response, 404);
  });
});

describe('who may manage the roster', () => {
  it('a trainer who does not lead the group: 403 not-group-leader; a therapist: 403 by role; another clinic: 404', async () => {
    const s = await setting();
    const client = await s.newClient();
    const outsider = await memberWithToken(app, s.clinic.id, ['skills_trainer']);
    const body = { clientId: client.id, startDate: MODULE_START };
    for (const [method, payload] of [
      ['GET', undefined],
      ['POST', body],
    ] as const) {
      const denied = await call(outsider.token, method, s.url, payload);
      expectProblem(denied.response, 403);
      expect(await auditRecord(denied.requestId)).toMatchObject({ outcome: 'denied', http_status: 403, denial_reason: 'not-group-leader' });
    }
    const therapist = await call(s.therapist.token, 'POST', s.url, body);
    expectProblem(therapist.response, 403);
    expect((await auditRecord(therapist.requestId)).denial_reason).toBe('role-not-permitted:skills-groups.roster');

    const elsewhere = await createClinic();
    const foreignTrainer = await memberWithToken(app, elsewhere.clinic.id, ['skills_trainer']);
    expectProblem((await call(foreignTrainer.token, 'GET', s.url)).response, 404);
    expect(await enrollmentCount(s.clinic.id)).toBe(0);
  });
});

describe('the roster', () => {
  it('lists current and future enrollments by default, filters by activeOn or includes ended ones, audited with client ids', async () => {
    const s = await setting({ policy: { entryAtModuleStartOnly: false } });
    const [past, current, future] = [await s.newClient(), await s.newClient(), await s.newClient()];
    await enrollClient(s.group, past.id, '2024-01-01', '2024-06-30');
    await enrollClient(s.group, current.id, '2025-01-06');
    await enrollClient(s.group, future.id, '2030-01-07');

    const { response, requestId } = await call(s.trainer.token, 'GET', s.url);
    expect(response.statusCode).toBe(200);
    const page = response.json() as { items: Enrollment[]; nextCursor: string | null };
    expect(page.items.map((item) => item.clientId)).toEqual([current.id, future.id]);
    expect(page.nextCursor).toBeNull();
    expect(Object.keys(page.items[0] ?? {})).not.toContain('dateOfBirth');
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      subtype: 'search',
      resource_id: s.group.id,
      client_ids: expect.arrayContaining([current.id, future.id]),
      result_count: 2,
    });
    expect((await auditRecord(requestId)).client_ids).toHaveLength(2);

    const on = (await call(s.admin.token, 'GET', `${s.url}?activeOn=2024-03-01`)).response.json() as { items: Enrollment[] };
    expect(on.items.map((item) => item.clientId)).toEqual([past.id]);

    const all = (await call(s.trainer.token, 'GET', `${s.url}?includeEnded=true&limit=2`)).response.json() as {
      items: Enrollment[];
      nextCursor: string;
    };
    expect(all.items.map((item) => item.clientId)).toEqual([past.id, current.id]);
    const rest = (await call(s.trainer.token, 'GET', `${s.url}?includeEnded=true&limit=2&cursor=${all.nextCursor}`)).response.json();
    expect(rest).toEqual({ items: [expect.objectContaining({ clientId: future.id })], nextCursor: null });

    const both = expectProblem((await call(s.trainer.token, 'GET', `${s.url}?activeOn=2024-03-01&includeEnded=true`)).response, 400);
    expect(both.errors?.[0]).toMatchObject({ in: 'query', field: 'includeEnded' });
  });
});
