import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { today } from '../../src/modules/programs/programs.queries.js';
import { defaultCurriculum } from '../../src/modules/skills-groups/skills-groups.curriculum.js';
import { buildTestApp, query } from '../helpers/app.js';
import { adultDefaults } from '../helpers/contract/programs.js';
import { createClinic, createProgram, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Group = Record<string, unknown> & { id: string; name: string; version: number; leaderId: string };
type Page = { items: Group[]; nextCursor: string | null };

async function setting() {
  const { clinic, admin } = await createClinic();
  const { program } = await createProgram(clinic.id);
  const member = (roles: Parameters<typeof memberWithToken>[2]) => memberWithToken(app, clinic.id, roles);
  return {
    clinic,
    program,
    admin: { ...admin, token: tokenFor(app, admin) },
    trainer: await member(['skills_trainer']),
    otherTrainer: await member(['skills_trainer']),
    therapist: await member(['therapist']),
    compliance: await member(['compliance']),
  };
}
type Setting = Awaited<ReturnType<typeof setting>>;

const groupBody = (s: Setting, extra: object = {}) => ({
  programId: s.program.id,
  name: `Synthetic skills group ${uuidv7()}`,
  leaderId: s.trainer.id,
  weekday: 1,
  startTime: '18:00',
  durationMinutes: 150,
  cycleStartDate: '2030-01-07',
  ...extra,
});

async function createGroup(s: Setting, extra: object = {}) {
  const { response } = await call(s.admin.token, 'POST', '/v1/skills-groups', groupBody(s, extra));
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as Group;
}

const groupCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from skills_groups where clinic_id = ${clinicId}`))[0]?.n;

describe('creating a skills group', () => {
  it('defaults capacity to the policy, the curriculum to the 24-week cycle; 201 with ETag, Location and an audit record', async () => {
    const s = await setting();
    const body = groupBody(s, { coLeaderIds: [s.otherTrainer.id] });
    const { response, requestId } = await call(s.admin.token, 'POST', '/v1/skills-groups', body);
    expect(response.statusCode).toBe(201);
    const group = response.json() as Group;
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers.location).toBe(`/v1/skills-groups/${group.id}`);
    expect(group).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      programId: s.program.id,
      name: body.name,
      leaderId: s.trainer.id,
      coLeaderIds: [s.otherTrainer.id],
      weekday: 1,
      startTime: '18:00',
      durationMinutes: 150,
      capacity: null,
      effectiveCapacity: 8,
      curriculum: defaultCurriculum,
      cycleWeeks: 24,
      cycleStartDate: '2030-01-07',
      active: true,
      version: 1,
      createdBy: s.admin.id,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      outcome: 'success',
      http_status: 201,
      resource_type: 'skills-group',
      resource_id: group.id,
      data_category: 'skills-group',
    });

    const read = await call(s.therapist.token, 'GET', `/v1/skills-groups/${group.id}`);
    expect(read.response.statusCode).toBe(200);
    expect(read.response.headers.etag).toBe('"1"');
    expect(read.response.json()).toEqual(group);
    expect(await auditRecord(read.requestId)).toMatchObject({ action: 'R', resource_type: 'skills-group', resource_id: group.id });
  });

  it('effectiveCapacity is the capacity when set, else follows the policy in force today', async () => {
    const s = await setting();
    const own = await createGroup(s, { capacity: 12, curriculum: [{ module: 'mindfulness', weeks: 3 }] });
    expect(own).toMatchObject({ capacity: 12, effectiveCapacity: 12, cycleWeeks: 3 });
    const following = await createGroup(s);
    const policy = await call(
      s.admin.token,
      'PUT',
      `/v1/programs/${s.program.id}/policy`,
      { ...adultDefaults, groupSizeLimit: 6 },
      { 'if-match': '"1"' },
    );
    expect(policy.response.statusCode).toBe(200);
    const read = await call(s.admin.token, 'GET', `/v1/skills-groups/${following.id}`);
    expect(read.response.json()).toMatchObject({ capacity: null, effectiveCapacity: 6 });
  });

  it.each([
    ['cycleStartDate', { cycleStartDate: '2030-01-08' }],
    ['cycleStartDate', { cycleStartDate: '2030-02-30' }],
    ['weekday', { weekday: 8 }],
    ['startTime', { startTime: '24:00' }],
    ['startTime', { startTime: '6:30' }],
    ['durationMinutes', { durationMinutes: 29 }],
    ['capacity', { capacity: 51 }],
    ['name', { name: '   ' }],
    ['name', { name: 'n'.repeat(201) }],
    ['curriculum', { curriculum: [] }],
    ['curriculum', { curriculum: Array.from({ length: 21 }, () => ({ module: 'mindfulness', weeks: 1 })) }],
    ['curriculum.0.weeks', { curriculum: [{ module: 'mindfulness', weeks: 0 }] }],
    ['curriculum.0.weeks', { curriculum: [{ module: 'mindfulness', weeks: 27 }] }],
    ['curriculum.0.module', { curriculum: [{ module: 'yoga', weeks: 2 }] }],
    ['curriculum.0.hours', { curriculum: [{ module: 'mindfulness', weeks: 2, hours: 2 }] }],
    ['coLeaderIds', { coLeaderIds: Array.from({ length: 6 }, () => uuidv7()) }],
    ['programId', { programId: uuidv7() }],
    ['room', { room: 'B2' }],
  ])('400 naming %s (case %#), and nothing is written', async (field, override) => {
    const s = await setting();
    const problem = expectProblem((await call(s.admin.token, 'POST', '/v1/skills-groups', groupBody(s, override))).response, 400);
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await groupCount(s.clinic.id)).toBe(0);
  });

  it('leaders must be active skills trainers of the clinic, the leader not also a co-leader, co-leaders not repeated', async () => {
    const s = await setting();
    const inactive = await memberWithToken(app, s.clinic.id, ['skills_trainer']);
    await query(sql`update staff set active = false where clinic_id = ${s.clinic.id} and id = ${inactive.id}`);
    const foreign = await memberWithToken(app, (await createClinic()).clinic.id, ['skills_trainer']);
    const cases: Array<[string, object]> = [
      ['leaderId', { leaderId: s.therapist.id }],
      ['leaderId', { leaderId: inactive.id }],
      ['leaderId', { leaderId: foreign.id }],
      ['coLeaderIds', { coLeaderIds: [s.therapist.id] }],
      ['coLeaderIds', { coLeaderIds: [s.trainer.id] }],
      ['coLeaderIds', { coLeaderIds: [s.otherTrainer.id, s.otherTrainer.id] }],
      ['coLeaderIds', { coLeaderIds: [s.otherTrainer.id, inactive.id] }],
    ];
    for (const [field, override] of cases) {
      const problem = expectProblem((await call(s.admin.token, 'POST', '/v1/skills-groups', groupBody(s, override))).response, 400);
      expect(problem.errors, JSON.stringify(override)).toEqual([{ in: 'body', field, message: expect.any(String) }]);
    }
    expect(await groupCount(s.clinic.id)).toBe(0);
  });

  it('a second group with the same name in the clinic is a 409; another clinic may use the name', async () => {
    const s = await setting();
    const group = await createGroup(s);
    const { response, requestId } = await call(s.admin.token, 'POST', '/v1/skills-groups', groupBody(s, { name: group.name }));
    expectProblem(response, 409);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    const elsewhere = await setting();
    await createGroup(elsewhere, { name: group.name });
    expect(await groupCount(s.clinic.id)).toBe(1);
  });
});

describe('listing skills groups', () => {
  it('orders by name, filters by program, leader or co-leader and active, and pages without skips or repeats', async () => {
    const s = await setting();
    const { program: second } = await createProgram(s.clinic.id);
    const made = [
      await createGroup(s, { name: 'Synthetic D' }),
      await createGroup(s, { name: 'Synthetic A', coLeaderIds: [s.otherTrainer.id] }),
      await createGroup(s, { name: 'Synthetic C', programId: second.id }),
      await createGroup(s, { name: 'Synthetic B', leaderId: s.otherTrainer.id }),
      await createGroup(s, { name: 'Synthetic E' }),
    ];
    const retired = await createGroup(s, { name: 'Synthetic F' });
    expect(
      (await call(s.admin.token, 'PATCH', `/v1/skills-groups/${retired.id}`, { active: false }, { 'if-match': '"1"' })).response.statusCode,
    ).toBe(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { response, requestId } = await call(s.therapist.token, 'GET', `/v1/skills-groups?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = response.json() as Page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(await auditRecord(requestId)).toMatchObject({
        subtype: 'search',
        resource_type: 'skills-group',
        result_count: page.items.length,
      });
      seen.push(...page.items.map((group) => group.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Synthetic A', 'Synthetic B', 'Synthetic C', 'Synthetic D', 'Synthetic E']);

    const names = async (search: string) =>
      ((await call(s.admin.token, 'GET', `/v1/skills-groups?${search}`)).response.json() as Page).items.map((group) => group.name);
    expect(await names(`programId=${second.id}`)).toEqual(['Synthetic C']);
    expect(await names(`leaderId=${s.otherTrainer.id}`)).toEqual(['Synthetic A', 'Synthetic B']);
    expect(await names('active=false')).toEqual(['Synthetic F']);
    expect(made).toHaveLength(5);
    expectProblem((await call(s.admin.token, 'GET', '/v1/skills-groups?active=maybe')).response, 400);
  });
});

describe('changing a skills group', () => {
  it('If-Match: 428 when missing, 412 when stale; nothing changes', async () => {
    const s = await setting();
    const group = await createGroup(s);
    const path = `/v1/skills-groups/${group.id}`;
    expectProblem((await call(s.trainer.token, 'PATCH', path, { startTime: '17:00' })).response, 428);
    expectProblem((await call(s.trainer.token, 'PATCH', path, { startTime: '17:00' }, { 'if-match': '"2"' })).response, 412);
    expect((await call(s.trainer.token, 'GET', path)).response.json()).toMatchObject({ startTime: '18:00', version: 1 });
  });

  it('the leading trainer changes schedule and curriculum, audited by field name; existing sessions keep their module and week', async () => {
    const s = await setting();
    const group = await createGroup(s);
    const session = (await call(s.trainer.token, 'POST', `/v1/skills-groups/${group.id}/sessions`, { date: '2030-02-04' })).response.json();
    const curriculum = [
      { module: 'emotion_regulation', weeks: 8 },
      { module: 'mindfulness', weeks: 2 },
    ];
    const { response, requestId } = await call(
      s.trainer.token,
      'PATCH',
      `/v1/skills-groups/${group.id}`,
      { startTime: '17:30', durationMinutes: 120, curriculum, weekday: 3, cycleStartDate: '2030-01-09', name: group.name },
      { 'if-match': '"1"' },
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.json()).toMatchObject({ startTime: '17:30', curriculum, cycleWeeks: 10, weekday: 3, version: 2 });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      outcome: 'success',
      resource_type: 'skills-group',
      access_basis: { rule: 'skills-groups.manage', relationship: 'group-leader' },
      details: { fields: ['curriculum', 'cycleStartDate', 'durationMinutes', 'startTime', 'weekday'] },
    });
    const kept = (await call(s.trainer.token, 'GET', `/v1/group-sessions/${session.id}`)).response.json();
    expect(kept).toMatchObject({ date: '2030-02-04', module: 'distress_tolerance', moduleWeek: 3, cycleWeek: 5 });

    const mismatch = await call(s.trainer.token, 'PATCH', `/v1/skills-groups/${group.id}`, { weekday: 1 }, { 'if-match': '"2"' });
    expect(expectProblem(mismatch.response, 400).errors?.map((error) => error.field)).toEqual(['weekday']);
  });

  it('only an administrator changes the leaders: a leading trainer sending them gets 403', async () => {
    const s = await setting();
    const group = await createGroup(s);
    const path = `/v1/skills-groups/${group.id}`;
    for (const body of [{ leaderId: s.otherTrainer.id }, { coLeaderIds: [s.otherTrainer.id] }]) {
      const { response, requestId } = await call(s.trainer.token, 'PATCH', path, body, { 'if-match': '"1"' });
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'leaders-admin-only' });
    }
    const swapped = await call(
      s.admin.token,
      'PATCH',
      path,
      { leaderId: s.otherTrainer.id, coLeaderIds: [s.trainer.id] },
      { 'if-match': '"1"' },
    );
    expect(swapped.response.json()).toMatchObject({ leaderId: s.otherTrainer.id, coLeaderIds: [s.trainer.id], version: 2 });
    expect(await auditRecord(swapped.requestId)).toMatchObject({
      access_basis: { role: 'admin' },
      details: { fields: ['coLeaderIds', 'leaderId'] },
    });
    const clash = await call(s.admin.token, 'PATCH', path, { leaderId: s.trainer.id }, { 'if-match': '"2"' });
    expect(expectProblem(clash.response, 400).errors?.map((error) => error.field)).toEqual(['leaderId']);
  });

  it('a trainer who does not lead gets 403 not-group-leader; a therapist reads but cannot manage; compliance cannot read', async () => {
    const s = await setting();
    const group = await createGroup(s);
    const path = `/v1/skills-groups/${group.id}`;
    const refused = await call(s.otherTrainer.token, 'PATCH', path, { startTime: '17:00' }, { 'if-match': '"1"' });
    expectProblem(refused.response, 403);
    expect(await auditRecord(refused.requestId)).toMatchObject({
      outcome: 'denied',
      http_status: 403,
      resource_type: 'skills-group',
      denial_reason: 'not-group-leader',
    });
    expect((await call(s.therapist.token, 'GET', path)).response.statusCode).toBe(200);
    expect((await call(s.therapist.token, 'GET', `${path}/curriculum`)).response.statusCode).toBe(200);
    const therapistPatch = await call(s.therapist.token, 'PATCH', path, { startTime: '17:00' }, { 'if-match': '"1"' });
    expectProblem(therapistPatch.response, 403);
    expect(await auditRecord(therapistPatch.requestId)).toMatchObject({ denial_reason: 'role-not-permitted:skills-groups.manage' });
    expectProblem((await call(s.trainer.token, 'POST', '/v1/skills-groups', groupBody(s))).response, 403);
    for (const url of [path, '/v1/skills-groups', `${path}/curriculum`])
      expectProblem((await call(s.compliance.token, 'GET', url)).response, 403);
    expect((await call(s.admin.token, 'GET', path)).response.json()).toMatchObject({ startTime: '18:00', version: 1 });
  });

  it("another clinic's group is a 404 on every route", async () => {
    const s = await setting();
    const elsewhere = await setting();
    const group = await createGroup(elsewhere);
    const path = `/v1/skills-groups/${group.id}`;
    for (const [method, url, body] of [
      ['GET', path, undefined],
      ['PATCH', path, { startTime: '17:00' }],
      ['GET', `${path}/curriculum`, undefined],
    ] as const) {
      const { response, requestId } = await call(s.admin.token, method, url, body, { 'if-match': '"1"' });
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404 });
    }
  });
});

describe('curriculum position', () => {
  it('answers module, week, module start and next module start for a date; before the start it has not started', async () => {
    const s = await setting();
    const group = await createGroup(s);
    const at = async (date?: string) => {
      const { response, requestId } = await call(
        s.trainer.token,
        'GET',
        `/v1/skills-groups/${group.id}/curriculum${date ? `?date=${date}` : ''}`,
      );
      expect(response.statusCode).toBe(200);
      return { body: response.json() as Record<string, unknown>, requestId };
    };
    const start = await at('2030-01-07');
    expect(start.body).toEqual({
      date: '2030-01-07',
      started: true,
      cycleStartDate: '2030-01-07',
      curriculum: defaultCurriculum,
      position: {
        date: '2030-01-07',
        cycle: 1,
        cycleWeek: 1,
        weekStart: '2030-01-07',
        block: 0,
        module: 'mindfulness',
        moduleWeek: 1,
        moduleWeeks: 2,
        moduleStart: '2030-01-07',
        nextModuleStart: '2030-01-21',
      },
    });
    expect(await auditRecord(start.requestId)).toMatchObject({ action: 'R', resource_type: 'skills-group', resource_id: group.id });
    expect((await at('2030-02-06')).body.position).toMatchObject({
      cycleWeek: 5,
      weekStart: '2030-02-04',
      block: 1,
      module: 'distress_tolerance',
      moduleWeek: 3,
      moduleWeeks: 6,
      moduleStart: '2030-01-21',
      nextModuleStart: '2030-03-04',
    });
    expect((await at('2030-06-24')).body.position).toMatchObject({
      cycle: 2,
      cycleWeek: 1,
      module: 'mindfulness',
      moduleWeek: 1,
      moduleStart: '2030-06-24',
      nextModuleStart: '2030-07-08',
    });
    expect((await at('2030-01-06')).body).toMatchObject({ started: false, position: null });
    expect((await at()).body.date).toBe(today());
    expectProblem((await call(s.trainer.token, 'GET', `/v1/skills-groups/${group.id}/curriculum?date=06.01.2030`)).response, 400);
  });
});
