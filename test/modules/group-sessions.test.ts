import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, memberWithToken, tokenFor } from '../helpers/factories.js';
import { createGroupSession, createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type GroupSession = Record<string, unknown> & { id: string; date: string; module: string; moduleWeek: number; version: number };
type Generated = { created: GroupSession[]; skipped: string[] };

/** A clinic with a group led by a trainer; the cycle (default curriculum) starts on Monday 2030-01-07. */
async function setting() {
  const { clinic, admin } = await createClinic();
  const member = (roles: Parameters<typeof memberWithToken>[2]) => memberWithToken(app, clinic.id, roles);
  const trainer = await member(['skills_trainer']);
  const group = await createSkillsGroup(clinic.id, { leaderId: trainer.id });
  return {
    clinic,
    group,
    trainer,
    admin: { ...admin, token: tokenFor(app, admin) },
    otherTrainer: await member(['skills_trainer']),
    therapist: await member(['therapist']),
    sessionsUrl: `/v1/skills-groups/${group.id}/sessions`,
  };
}

async function skillId(clinicId: string, name: string) {
  const [row] = await query<{ id: string }>(sql`select id from skills where clinic_id = ${clinicId} and name = ${name}`);
  return row?.id as string;
}

const isMonday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay() === 1;

describe('creating one group session', () => {
  it('takes module and weeks from the curriculum on its date; 201 with ETag, Location and an audit record', async () => {
    const { group, trainer, therapist, sessionsUrl } = await setting();
    const { response, requestId } = await call(trainer.token, 'POST', sessionsUrl, { date: '2030-02-04', homework: 'Practise TIPP daily' });
    expect(response.statusCode, response.body).toBe(201);
    const session = response.json() as GroupSession;
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers.location).toBe(`/v1/group-sessions/${session.id}`);
    expect(session).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      groupId: group.id,
      date: '2030-02-04',
      module: 'distress_tolerance',
      moduleWeek: 3,
      cycleWeek: 5,
      skillIds: [],
      homework: 'Practise TIPP daily',
      status: 'scheduled',
      cancelReason: null,
      cancelledBy: null,
      cancelledAt: null,
      version: 1,
      createdBy: trainer.id,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      outcome: 'success',
      http_status: 201,
      resource_type: 'group-session',
      resource_id: session.id,
      access_basis: { rule: 'skills-groups.manage', relationship: 'group-leader' },
    });
    const read = await call(therapist.token, 'GET', `/v1/group-sessions/${session.id}`);
    expect(read.response.headers.etag).toBe('"1"');
    expect(read.response.json()).toEqual(session);
    expect(await auditRecord(read.requestId)).toMatchObject({ action: 'R', resource_type: 'group-session', resource_id: session.id });
  });

  it('a second session on the same date is a 409, and so is any session for an inactive group', async () => {
    const { clinic, group, trainer, admin, sessionsUrl } = await setting();
    expect((await call(trainer.token, 'POST', sessionsUrl, { date: '2030-01-14' })).response.statusCode).toBe(201);
    const again = await call(admin.token, 'POST', sessionsUrl, { date: '2030-01-14', module: 'mindfulness' });
    expectProblem(again.response, 409);
    expect(await auditRecord(again.requestId)).toMatchObject({ outcome: 'failure', http_status: 409, resource_type: 'group-session' });
    await query(sql`update skills_groups set active = false where clinic_id = ${clinic.id} and id = ${group.id}`);
    expectProblem((await call(trainer.token, 'POST', sessionsUrl, { date: '2030-01-21' })).response, 409);
    expectProblem((await call(trainer.token, 'POST', `${sessionsUrl}/generate`, { from: '2030-01-01', to: '2030-02-01' })).response, 409);
  });

  it('module and week may be given; before the cycle start they must be, and must be a week of the curriculum', async () => {
    const { trainer, sessionsUrl } = await setting();
    const post = (body: object) => call(trainer.token, 'POST', sessionsUrl, body);
    const chosen = await post({ date: '2030-01-14', module: 'emotion_regulation', moduleWeek: 2 });
    expect(chosen.response.json()).toMatchObject({ module: 'emotion_regulation', moduleWeek: 2, cycleWeek: 2 });
    const early = await post({ date: '2029-12-31', module: 'distress_tolerance', moduleWeek: 2 });
    expect(early.response.json()).toMatchObject({ module: 'distress_tolerance', moduleWeek: 2, cycleWeek: 4 });
    for (const [field, body] of [
      ['module', { date: '2029-12-24' }],
      ['moduleWeek', { date: '2029-12-24', module: 'mindfulness' }],
      ['moduleWeek', { date: '2029-12-24', module: 'walking_the_middle_path', moduleWeek: 1 }],
      ['moduleWeek', { date: '2029-12-24', module: 'distress_tolerance', moduleWeek: 7 }],
      ['moduleWeek', { date: '2030-01-21', module: 'mindfulness' }],
      ['moduleWeek', { date: '2030-01-21', moduleWeek: 27 }],
      ['date', { date: '2030-13-01' }],
      ['room', { date: '2030-01-21', room: 'B2' }],
    ] as const) {
      const problem = expectProblem((await post(body)).response, 400);
      expect(
        problem.errors?.map((error) => error.field),
        JSON.stringify(body),
      ).toEqual([field]);
    }
  });
});

describe('generating group sessions', () => {
  it('creates one session per meeting day with the curriculum week; a second run skips every date', async () => {
    const { group, trainer, sessionsUrl } = await setting();
    const range = { from: '2029-12-01', to: '2030-03-17' };
    const { response, requestId } = await call(trainer.token, 'POST', `${sessionsUrl}/generate`, range);
    expect(response.statusCode, response.body).toBe(201);
    const first = response.json() as Generated;
    expect(first.skipped).toEqual([]);
    expect(first.created).toHaveLength(10);
    expect(first.created.every((session) => isMonday(session.date) && session.groupId === group.id)).toBe(true);
    expect(first.created[0]?.date).toBe('2030-01-07');
    expect(first.created.at(-1)?.date).toBe('2030-03-11');
    expect(first.created.map((session) => `${session.module}:${session.moduleWeek}`)).toEqual([
      'mindfulness:1',
      'mindfulness:2',
      ...[1, 2, 3, 4, 5, 6].map((week) => `distress_tolerance:${week}`),
      'mindfulness:1',
      'mindfulness:2',
    ]);
    expect(first.created.map((session) => session.cycleWeek)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      resource_type: 'group-session',
      resource_id: group.id,
      details: { ...range, created: 10, skipped: 0 },
    });

    const again = await call(trainer.token, 'POST', `${sessionsUrl}/generate`, range);
    const second = again.response.json() as Generated;
    expect(second).toEqual({ created: [], skipped: first.created.map((session) => session.date) });
    expect(await auditRecord(again.requestId)).toMatchObject({ details: { created: 0, skipped: 10 } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await call(trainer.token, 'GET', `${sessionsUrl}?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).response.json() as {
        items: GroupSession[];
        nextCursor: string | null;
      };
      seen.push(...page.items.map((session) => session.date));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(first.created.map((session) => session.date));
    const ranged = await call(trainer.token, 'GET', `${sessionsUrl}?from=2030-02-01&to=2030-02-28`);
    expect((ranged.response.json() as { items: GroupSession[] }).items.map((session) => session.date)).toEqual([
      '2030-02-04',
      '2030-02-11',
      '2030-02-18',
      '2030-02-25',
    ]);
    expect(await auditRecord(ranged.requestId)).toMatchObject({ subtype: 'search', result_count: 4 });
  });

  it('keeps existing sessions, cancelled ones too, and refuses a reversed or too long range naming to', async () => {
    const { group, trainer, sessionsUrl } = await setting();
    await createGroupSession(group, '2030-01-14', { status: 'cancelled_by_clinic' });
    const { response } = await call(trainer.token, 'POST', `${sessionsUrl}/generate`, { from: '2030-01-08', to: '2030-01-28' });
    expect(response.json()).toMatchObject({ created: [{ date: '2030-01-21' }, { date: '2030-01-28' }], skipped: ['2030-01-14'] });
    for (const body of [
      { from: '2030-02-01', to: '2030-01-31' },
      { from: '2030-01-01', to: '2031-01-03' },
    ]) {
      const problem = expectProblem((await call(trainer.token, 'POST', `${sessionsUrl}/generate`, body)).response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual(['to']);
    }
  });
});

describe('changing and cancelling a group session', () => {
  it('PATCH sets skills and homework from this clinic only; If-Match 428/412; the date is not changeable', async () => {
    const { clinic, trainer, sessionsUrl } = await setting();
    const session = (await call(trainer.token, 'POST', sessionsUrl, { date: '2030-01-21' })).response.json() as GroupSession;
    const path = `/v1/group-sessions/${session.id}`;
    const [tipp, stop] = [await skillId(clinic.id, 'TIPP'), await skillId(clinic.id, 'STOP')];
    const foreign = await skillId((await createClinic()).clinic.id, 'TIPP');
    expectProblem((await call(trainer.token, 'PATCH', path, { homework: 'Synthetic' })).response, 428);
    expectProblem((await call(trainer.token, 'PATCH', path, { homework: 'Synthetic' }, { 'if-match': '"3"' })).response, 412);
    for (const body of [{ skillIds: [tipp, foreign] }, { date: '2030-01-22' }]) {
      const problem = expectProblem((await call(trainer.token, 'PATCH', path, body, { 'if-match': '"1"' })).response, 400);
      expect(problem.errors?.map((error) => error.field)).toContain(Object.keys(body)[0]);
    }
    const body = { skillIds: [stop, tipp, stop], homework: 'Use STOP once a day', moduleWeek: 2 };
    const { response, requestId } = await call(trainer.token, 'PATCH', path, body, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.json()).toMatchObject({
      skillIds: [stop, tipp],
      homework: 'Use STOP once a day',
      moduleWeek: 2,
      date: '2030-01-21',
      version: 2,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      resource_id: session.id,
      details: { fields: ['homework', 'moduleWeek', 'skillIds'] },
    });
  });

  it('cancel keeps the session with reason, who and when; 409 the second time; audited with the reason and the enrolled clients', async () => {
    const { clinic, group, trainer, therapist, sessionsUrl } = await setting();
    const session = (await call(trainer.token, 'POST', sessionsUrl, { date: '2030-01-21' })).response.json() as GroupSession;
    const member = await createClientRecord(clinic.id);
    const former = await createClientRecord(clinic.id);
    await enrollClient(group, member.id, '2030-01-07');
    await enrollClient(group, former.id, '2030-01-07', '2030-01-20');
    const path = `/v1/group-sessions/${session.id}`;
    const reason = 'Clinic closed: synthetic snow day';
    expectProblem((await call(trainer.token, 'POST', `${path}/cancel`, { reason })).response, 428);
    const short = expectProblem(
      (await call(trainer.token, 'POST', `${path}/cancel`, { reason: ' a ' }, { 'if-match': '"1"' })).response,
      400,
    );
    expect(short.errors?.map((error) => error.field)).toEqual(['reason']);

    const { response, requestId } = await call(trainer.token, 'POST', `${path}/cancel`, { reason }, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    const cancelled = response.json() as GroupSession;
    expect(cancelled).toMatchObject({
      status: 'cancelled_by_clinic',
      cancelReason: reason,
      cancelledBy: trainer.id,
      cancelledAt: expect.any(String),
      module: session.module,
      date: '2030-01-21',
      version: 2,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'cancel',
      outcome: 'success',
      resource_type: 'group-session',
      resource_id: session.id,
      client_ids: [member.id],
      details: { reason },
    });
    expect((await call(therapist.token, 'GET', path)).response.json()).toEqual(cancelled);
    expect(((await call(therapist.token, 'GET', sessionsUrl)).response.json() as { items: GroupSession[] }).items).toEqual([cancelled]);

    const again = await call(trainer.token, 'POST', `${path}/cancel`, { reason }, { 'if-match': '"2"' });
    expectProblem(again.response, 409);
    expect(await auditRecord(again.requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    expectProblem((await call(trainer.token, 'PATCH', path, { homework: 'Synthetic' }, { 'if-match': '"2"' })).response, 409);
    const [stored] = await query<{ n: number }>(sql`select count(*)::int as n from group_sessions where clinic_id = ${clinic.id}`);
    expect(stored?.n).toBe(1);
  });
});

describe('who may manage group sessions', () => {
  it('a trainer who does not lead gets 403 not-group-leader; a therapist reads but is refused by role; an admin manages', async () => {
    const { group, admin, otherTrainer, therapist, sessionsUrl } = await setting();
    const session = await createGroupSession(group, '2030-01-07');
    const path = `/v1/group-sessions/${session.id}`;
    const writes = [
      ['POST', sessionsUrl, { date: '2030-01-14' }],
      ['POST', `${sessionsUrl}/generate`, { from: '2030-01-01', to: '2030-02-01' }],
      ['PATCH', path, { homework: 'Synthetic' }],
      ['POST', `${path}/cancel`, { reason: 'Synthetic closure' }],
    ] as const;
    for (const [method, url, body] of writes) {
      const refused = await call(otherTrainer.token, method, url, body, { 'if-match': '"1"' });
      expectProblem(refused.response, 403);
      expect(await auditRecord(refused.requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'not-group-leader' });
      const byRole = await call(therapist.token, method, url, body, { 'if-match': '"1"' });
      expect(expectProblem(byRole.response, 403).status).toBe(403);
      expect(await auditRecord(byRole.requestId)).toMatchObject({ denial_reason: 'role-not-permitted:skills-groups.manage' });
    }
    expect((await call(therapist.token, 'GET', path)).response.json()).toMatchObject({ version: 1, status: 'scheduled' });
    const byAdmin = await call(admin.token, 'POST', sessionsUrl, { date: '2030-01-14' });
    expect(byAdmin.response.statusCode).toBe(201);
    expect(await auditRecord(byAdmin.requestId)).toMatchObject({ access_basis: { rule: 'skills-groups.manage', role: 'admin' } });
  });

  it("another clinic's group and sessions are a 404", async () => {
    const { admin, trainer } = await setting();
    const elsewhere = await setting();
    const session = await createGroupSession(elsewhere.group, '2030-01-07');
    for (const [method, url, body] of [
      ['GET', elsewhere.sessionsUrl, undefined],
      ['POST', elsewhere.sessionsUrl, { date: '2030-01-14' }],
      ['GET', `/v1/group-sessions/${session.id}`, undefined],
      ['PATCH', `/v1/group-sessions/${session.id}`, { homework: 'Synthetic' }],
      ['POST', `/v1/group-sessions/${session.id}/cancel`, { reason: 'Synthetic closure' }],
    ] as const) {
      for (const who of [admin, trainer]) {
        const { response, requestId } = await call(who.token, method, url, body, { 'if-match': '"1"' });
        expectProblem(response, 404);
        expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404 });
      }
    }
  });
});
