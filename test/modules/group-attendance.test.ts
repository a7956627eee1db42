import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, createProgram, memberWithToken, tokenFor } from '../helpers/factories.js';
import { createGroupSession, createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

/** A Monday in the past, in the group's second cycle week (mindfulness week 2). */
const SESSION_DATE = '2026-01-12';

interface RosterEntry {
  clientId: string;
  givenName: string;
  enrollmentId: string | null;
  attendance: (Record<string, unknown> & { status: string; version: number }) | null;
}
interface SessionAttendance {
  session: Record<string, unknown>;
  roster: RosterEntry[];
}

const attendanceCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from group_attendance where clinic_id = ${clinicId}`))[0]?.n;

async function setting(clientCount = 2) {
  const { clinic, admin } = await createClinic();
  const { program } = await createProgram(clinic.id);
  const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
  const group = await createSkillsGroup(clinic.id, { programId: program.id, leaderId: trainer.id, cycleStartDate: '2026-01-05' });
  const session = await createGroupSession(group, SESSION_DATE);
  const clients = [];
  for (let i = 0; i < clientCount; i++) {
    const client = await createClientRecord(clinic.id, { programId: program.id, createdBy: admin.id });
    const enrollment = await enrollClient(group, client.id, '2026-01-05');
    clients.push({ ...client, enrollmentId: enrollment.id });
  }
  const url = `/v1/group-sessions/${session.id}/attendance`;
  return { clinic, program, trainer, group, session, clients, url, admin: { ...admin, token: tokenFor(app, admin) } };
}

const present = (clientId: string, extra: object = {}) => ({ clientId, status: 'present', homeworkReviewed: true, ...extra });

describe('reading a session roster', () => {
  it('lists every client enrolled on the session date with null attendance, by name only; audited with client ids', async () => {
    const s = await setting();
    const left = await createClientRecord(s.clinic.id, { programId: s.program.id, createdBy: s.admin.id });
    await enrollClient(s.group, left.id, '2026-01-05', '2026-01-11');
    const { response, requestId } = await call(s.trainer.token, 'GET', s.url);
    expect(response.statusCode).toBe(200);
    const body = response.json() as SessionAttendance;
    expect(body.session).toEqual({
      id: s.session.id,
      groupId: s.group.id,
      date: SESSION_DATE,
      status: 'scheduled',
      module: 'mindfulness',
      moduleWeek: 2,
    });
    expect(body.roster).toHaveLength(2);
    expect(body.roster).toEqual(
      expect.arrayContaining(
        s.clients.map((client) => ({
          clientId: client.id,
          givenName: client.givenName,
          familyName: 'Synthetic',
          preferredName: null,
          enrollmentId: client.enrollmentId,
          attendance: null,
        })),
      ),
    );
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({ action: 'R', resource_type: 'group-attendance', resource_id: s.session.id, result_count: 2 });
    expect([...(record.client_ids as string[])].sort()).toEqual(s.clients.map((client) => client.id).sort());
  });
});

describe('recording attendance', () => {
  it('records the whole roster with each status in one call; audited with every client id', async () => {
    const s = await setting(5);
    const [a, b, c, d, e] = s.clients.map((client) => client.id) as [string, string, string, string, string];
    const entries = [
      present(a),
      { clientId: b, status: 'late', lateMinutes: 15, homeworkReviewed: false },
      { clientId: c, status: 'left_early', leftEarlyMinutes: 30, homeworkReviewed: true },
      { clientId: d, status: 'absent', homeworkReviewed: false },
      { clientId: e, status: 'absent_with_notice', noticeHours: 24, homeworkReviewed: false },
    ];
    const { response, requestId } = await call(s.trainer.token, 'PUT', s.url, { entries });
    expect(response.statusCode).toBe(200);
    const byClient = new Map((response.json() as SessionAttendance).roster.map((entry) => [entry.clientId, entry.attendance]));
    const common = { recordedBy: s.trainer.id, version: 1, updatedAt: expect.any(String) };
    expect(byClient.get(a)).toEqual({
      ...common,
      status: 'present',
      lateMinutes: null,
      leftEarlyMinutes: null,
      noticeHours: null,
      homeworkReviewed: true,
    });
    expect(byClient.get(b)).toMatchObject({ status: 'late', lateMinutes: 15, leftEarlyMinutes: null, homeworkReviewed: false });
    expect(byClient.get(c)).toMatchObject({ status: 'left_early', leftEarlyMinutes: 30, lateMinutes: null });
    expect(byClient.get(d)).toMatchObject({ status: 'absent', noticeHours: null });
    expect(byClient.get(e)).toMatchObject({ status: 'absent_with_notice', noticeHours: 24 });
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({ action: 'U', resource_id: s.session.id, details: { recorded: 5, changed: 5 } });
    expect([...(record.client_ids as string[])].sort()).toEqual([a, b, c, d, e].sort());
    expect(await attendanceCount(s.clinic.id)).toBe(5);
  });

  it('a second call with one change bumps only that row’s version', async () => {
    const s = await setting();
    const [a, b] = s.clients.map((client) => client.id) as [string, string];
    expect((await call(s.trainer.token, 'PUT', s.url, { entries: [present(a), present(b)] })).response.statusCode).toBe(200);
    const again = await call(s.trainer.token, 'PUT', s.url, { entries: [present(a), present(b, { homeworkReviewed: false })] });
    expect(again.response.statusCode).toBe(200);
    expect((await auditRecord(again.requestId)).details).toEqual({ recorded: 2, changed: 1 });
    const roster = ((await call(s.trainer.token, 'GET', s.url)).response.json() as SessionAttendance).roster;
    const byClient = new Map(roster.map((entry) => [entry.clientId, entry.attendance]));
    expect(byClient.get(a)).toMatchObject({ version: 1, homeworkReviewed: true });
    expect(byClient.get(b)).toMatchObject({ version: 2, homeworkReviewed: false });
  });

  it('keeps a recorded client on the roster after their enrollment stops covering the date', async () => {
    const s = await setting(1);
    const [client] = s.clients as [(typeof s.clients)[number]];
    await call(s.trainer.token, 'PUT', s.url, { entries: [present(client.id)] });
    await query(sql`update group_enrollments set end_date = '2026-01-11' where clinic_id = ${s.clinic.id} and id = ${client.enrollmentId}`);
    const roster = ((await call(s.trainer.token, 'GET', s.url)).response.json() as SessionAttendance).roster;
    expect(roster).toEqual([
      expect.objectContaining({ clientId: client.id, enrollmentId: null, attendance: expect.objectContaining({ status: 'present' }) }),
    ]);
  });

  it.each([
    ['entries.1.clientId', (a: string) => [present(a), present(a)]],
    ['entries.0.lateMinutes', (a: string) => [{ clientId: a, status: 'late', homeworkReviewed: true }]],
    ['entries.0.lateMinutes', (a: string) => [present(a, { lateMinutes: 5 })]],
    ['entries.0.lateMinutes', (a: string) => [{ clientId: a, status: 'late', lateMinutes: 0, homeworkReviewed: true }]],
    ['entries.0.lateMinutes', (a: string) => [{ clientId: a, status: 'late', lateMinutes: 241, homeworkReviewed: true }]],
    ['entries.0.leftEarlyMinutes', (a: string) => [{ clientId: a, status: 'left_early', homeworkReviewed: true }]],
    [
      'entries.0.leftEarlyMinutes',
      (a: string) => [{ clientId: a, status: 'late', lateMinutes: 5, leftEarlyMinutes: 5, homeworkReviewed: true }],
    ],
    ['entries.0.noticeHours', (a: string) => [{ clientId: a, status: 'absent', noticeHours: 12, homeworkReviewed: false }]],
    ['entries.0.noticeHours', (a: string) => [{ clientId: a, status: 'absent_with_notice', noticeHours: 721, homeworkReviewed: false }]],
    ['entries.0.status', (a: string) => [{ clientId: a, status: 'asleep', homeworkReviewed: false }]],
    ['entries.0.homeworkReviewed', (a: string) => [{ clientId: a, status: 'present' }]],
    ['entries.0.mood', (a: string) => [present(a, { mood: 'fine' })]],
    ['entries', () => []],
    ['entries', (a: string) => Array.from({ length: 101 }, () => present(a))],
  ])('400 naming %s (case %#), and nothing is written', async (field, entries) => {
    const s = await setting(1);
    const problem = expectProblem(
      (await call(s.trainer.token, 'PUT', s.url, { entries: entries(s.clients[0]?.id as string) })).response,
      400,
    );
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await attendanceCount(s.clinic.id)).toBe(0);
  });

  it('400 for a client not enrolled on the session date (never enrolled, left before, or of another clinic)', async () => {
    const s = await setting(1);
    const [enrolled] = s.clients as [(typeof s.clients)[number]];
    const left = await createClientRecord(s.clinic.id, { programId: s.program.id, createdBy: s.admin.id });
    await enrollClient(s.group, left.id, '2026-01-05', '2026-01-11');
    const never = await createClientRecord(s.clinic.id, { programId: s.program.id, createdBy: s.admin.id });
    for (const clientId of [left.id, never.id, uuidv7()]) {
      const { response } = await call(s.trainer.token, 'PUT', s.url, { entries: [present(enrolled.id), present(clientId)] });
      expect(expectProblem(response, 400).errors).toEqual([
        { in: 'body', field: 'entries.1.clientId', message: expect.stringContaining(SESSION_DATE) },
      ]);
    }
    expect(await attendanceCount(s.clinic.id)).toBe(0);
  });

  it('409 for a session cancelled by the clinic and for a session after today', async () => {
    const s = await setting(1);
    const entries = [present(s.clients[0]?.id as string)];
    const cancelled = await createGroupSession(s.group, '2026-01-19', { status: 'cancelled_by_clinic' });
    const problem = expectProblem(
      (await call(s.trainer.token, 'PUT', `/v1/group-sessions/${cancelled.id}/attendance`, { entries })).response,
      409,
    );
    expect(problem.detail).toMatch(/cancelled by the clinic/);
    const future = await createGroupSession(s.group, '2099-01-05');
    const { response, requestId } = await call(s.trainer.token, 'PUT', `/v1/group-sessions/${future.id}/attendance`, { entries });
    expect(expectProblem(response, 409).detail).toMatch(/2099-01-05/);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409, resource_id: future.id });
    expect(await attendanceCount(s.clinic.id)).toBe(0);
  });
});

describe('who may read and record', () => {
  it('an administrator may read the roster but not record (403 by role); a trainer not leading the group: 403', async () => {
    const s = await setting(1);
    const entries = [present(s.clients[0]?.id as string)];
    const read = await call(s.admin.token, 'GET', s.url);
    expect(read.response.statusCode).toBe(200);
    expect((await auditRecord(read.requestId)).access_basis).toMatchObject({ role: 'admin' });
    const write = await call(s.admin.token, 'PUT', s.url, { entries });
    expectProblem(write.response, 403);
    expect((await auditRecord(write.requestId)).denial_reason).toBe('role-not-permitted:group-attendance.write');

    const outsider = await memberWithToken(app, s.clinic.id, ['skills_trainer']);
    for (const [method, payload] of [
      ['GET', undefined],
      ['PUT', { entries }],
    ] as const) {
      const denied = await call(outsider.token, method, s.url, payload);
      expectProblem(denied.response, 403);
      expect((await auditRecord(denied.requestId)).denial_reason).toBe('not-group-leader');
    }
    const elsewhere = await memberWithToken(app, (await createClinic()).clinic.id, ['skills_trainer']);
    expectProblem((await call(elsewhere.token, 'PUT', s.url, { entries })).response, 404);
    expect(await attendanceCount(s.clinic.id)).toBe(0);
  });
});
