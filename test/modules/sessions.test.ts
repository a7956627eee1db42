import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClinic, createStaffMember } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Session = Record<string, unknown> & { id: string; version: number; attendance: string; skillIds: string[] };

const NOTE = 'Synthetic session note: reviewed the chain on Tuesday — «urge 4», used TIPP 🧊';
const START = '2030-03-04T10:00:00+01:00';

const sessionCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from individual_sessions where clinic_id = ${clinicId}`))[0]?.n;

async function insertSkill(clinicId: string, name = `Synthetic skill ${uuidv7()}`) {
  const id = uuidv7();
  await query(sql`insert into skills (clinic_id, id, module, name, sort_order, standard)
    values (${clinicId}, ${id}, 'distress_tolerance', ${name}, 900, false)`);
  return id;
}

async function setting() {
  const team = await clientWithCareTeam(app);
  return { ...team, url: `/v1/clients/${team.client.id}/sessions` };
}

async function createSession(token: string, url: string, body: object = {}) {
  const { response } = await call(token, 'POST', url, { scheduledStart: START, durationMinutes: 50, type: 'regular', ...body });
  expect(response.statusCode).toBe(201);
  return response.json() as Session;
}

describe('creating a session', () => {
  it('defaults the therapist to the caller and attendance to scheduled; 201 with ETag, Location and a session audit record', async () => {
    const { client, therapist, url } = await setting();
    const { response, requestId } = await call(therapist.token, 'POST', url, {
      scheduledStart: START,
      durationMinutes: 60,
      type: 'pretreatment',
      note: NOTE,
      homework: 'Practise paced breathing daily',
    });
    expect(response.statusCode).toBe(201);
    const session = response.json() as Session;
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers.location).toBe(`/v1/sessions/${session.id}`);
    expect(session).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      clientId: client.id,
      therapistId: therapist.id,
      scheduledStart: '2030-03-04T09:00:00.000Z',
      durationMinutes: 60,
      type: 'pretreatment',
      attendance: 'scheduled',
      lateMinutes: null,
      noticeHours: null,
      diaryCardId: null,
      diaryCardMissing: false,
      riskAssessmentDone: false,
      riskLevel: null,
      skillIds: [],
      homework: 'Practise paced breathing daily',
      note: NOTE,
      psychotherapyNoteByYou: false,
      version: 1,
      createdBy: therapist.id,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      action: 'C',
      outcome: 'success',
      http_status: 201,
      resource_type: 'individual-session',
      resource_id: session.id,
      data_category: 'session',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
      details: { fields: ['durationMinutes', 'homework', 'note', 'scheduledStart', 'type'] },
    });
    expect(JSON.stringify(record.details)).not.toContain('Synthetic session note');
  });

  it('therapistId must be an active therapist of the clinic', async () => {
    const { clinic, therapist, admin, url } = await setting();
    const covering = await createStaffMember(clinic.id, ['therapist']);
    expect((await createSession(therapist.token, url, { therapistId: covering.id })).therapistId).toBe(covering.id);
    const inactive = await createStaffMember(clinic.id, ['therapist']);
    await query(sql`update staff set active = false where clinic_id = ${clinic.id} and id = ${inactive.id}`);
    const foreign = await createStaffMember((await createClinic()).clinic.id, ['therapist']);
    for (const therapistId of [admin.id, inactive.id, foreign.id, uuidv7()]) {
      const body = { scheduledStart: START, durationMinutes: 50, type: 'regular', therapistId };
      const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
      expect(problem.errors).toEqual([{ in: 'body', field: 'therapistId', message: expect.any(String) }]);
    }
    expect(await sessionCount(clinic.id)).toBe(1);
  });

  it.each([
    ['durationMinutes', { durationMinutes: 14 }],
    ['durationMinutes', { durationMinutes: 241 }],
    ['type', { type: 'group' }],
    ['scheduledStart', { scheduledStart: '2030-03-04T10:00:00' }],
    ['attendance', { attendance: 'maybe' }],
    ['lateMinutes', { attendance: 'late' }],
    ['lateMinutes', { attendance: 'late', lateMinutes: 0 }],
    ['lateMinutes', { attendance: 'attended', lateMinutes: 5 }],
    ['noticeHours', { attendance: 'cancelled_by_client' }],
    ['noticeHours', { attendance: 'cancelled_by_client', noticeHours: 721 }],
    ['noticeHours', { attendance: 'no_show', noticeHours: 2 }],
    ['diaryCardMissing', { diaryCardId: uuidv7(), diaryCardMissing: true }],
    ['riskLevel', { riskLevel: 'high' }],
    ['riskLevel', { riskAssessmentDone: true, riskLevel: 'extreme' }],
    ['skillIds', { skillIds: [uuidv7()] }],
    ['skillIds.0', { skillIds: ['not-a-uuid'] }],
    ['homework', { homework: 'h'.repeat(4001) }],
    ['note', { note: 'n'.repeat(20001) }],
    ['note', { note: '   ' }],
    ['mood', { mood: 'fine' }],
  ])('400 naming %s (case %#), and nothing is written', async (field, override) => {
    const { clinic, therapist, url } = await setting();
    const body = { scheduledStart: START, durationMinutes: 50, type: 'regular', ...override };
    const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await sessionCount(clinic.id)).toBe(0);
  });
});

describe('reading and listing sessions', () => {
  it('GET /v1/sessions/:id returns the note with an ETag, audited as session-note', async () => {
    const { client, therapist, url } = await setting();
    const session = await createSession(therapist.token, url, { note: NOTE });
    const { response, requestId } = await call(therapist.token, 'GET', `/v1/sessions/${session.id}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    expect(response.json()).toEqual(session);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      subtype: 'read',
      resource_id: session.id,
      data_category: 'session-note',
      client_ids: [client.id],
    });
  });

  it('lists summaries newest first, without note or homework, filtered by from/to and paginated', async () => {
    const { client, therapist, url } = await setting();
    const starts = ['2030-01-07T10:00:00Z', '2030-01-21T10:00:00Z', '2030-01-14T10:00:00Z'];
    const made = [];
    for (const scheduledStart of starts)
      made.push(await createSession(therapist.token, url, { scheduledStart, note: NOTE, homework: 'HW' }));
    const { response, requestId } = await call(therapist.token, 'GET', url);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('Synthetic session note');
    const { items, nextCursor } = response.json() as { items: Session[]; nextCursor: string | null };
    expect(items.map((s) => s.scheduledStart)).toEqual([
      '2030-01-21T10:00:00.000Z',
      '2030-01-14T10:00:00.000Z',
      '2030-01-07T10:00:00.000Z',
    ]);
    expect(nextCursor).toBeNull();
    for (const item of items) {
      expect(item).not.toHaveProperty('note');
      expect(item).not.toHaveProperty('homework');
      expect(item).not.toHaveProperty('psychotherapyNoteByYou');
    }
    expect(await auditRecord(requestId)).toMatchObject({
      subtype: 'search',
      data_category: 'session',
      client_ids: [client.id],
      result_count: 3,
    });

    const ranged = await call(therapist.token, 'GET', `${url}?from=2030-01-10T00:00:00Z&to=2030-01-31T00:00:00%2B01:00`);
    expect((ranged.response.json() as { items: Session[] }).items.map((s) => s.id)).toEqual([made[1]?.id, made[2]?.id]);

    const first = (await call(therapist.token, 'GET', `${url}?limit=2`)).response.json() as { items: Session[]; nextCursor: string };
    expect(first.items.map((s) => s.id)).toEqual([made[1]?.id, made[2]?.id]);
    const rest = (await call(therapist.token, 'GET', `${url}?limit=2&cursor=${first.nextCursor}`)).response.json() as {
      items: Session[];
      nextCursor: string | null;
    };
    expect(rest).toEqual({ items: [expect.objectContaining({ id: made[0]?.id })], nextCursor: null });

    const bad = expectProblem((await call(therapist.token, 'GET', `${url}?from=yesterday`)).response, 400);
    expect(bad.errors?.[0]).toMatchObject({ in: 'query', field: 'from' });
  });
});

describe('updating a session', () => {
  it('applies every attendance rule, clears details that stop applying, bumps the version, audits field names only', async () => {
    const { client, therapist, url } = await setting();
    const session = await createSession(therapist.token, url);
    let version = 1;
    const patch = (body: object) => call(therapist.token, 'PATCH', `/v1/sessions/${session.id}`, body, { 'if-match': `"${version}"` });
    const ok = async (body: object, expected: object, fields: string[]) => {
      const { response, requestId } = await patch(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(200);
      version++;
      expect(response.headers.etag).toBe(`"${version}"`);
      expect(response.json()).toMatchObject({ ...expected, version });
      expect(await auditRecord(requestId)).toMatchObject({
        action: 'U',
        data_category: 'session-note',
        client_ids: [client.id],
        resource_id: session.id,
        details: { fields },
      });
    };
    const refused = async (body: object, field: string) => {
      const problem = expectProblem((await patch(body)).response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    };

    await ok({ attendance: 'late', lateMinutes: 10 }, { attendance: 'late', lateMinutes: 10 }, ['attendance', 'lateMinutes']);
    await ok({ lateMinutes: 25 }, { attendance: 'late', lateMinutes: 25 }, ['lateMinutes']);
    await ok({ attendance: 'attended' }, { attendance: 'attended', lateMinutes: null }, ['attendance', 'lateMinutes']);
    await refused({ lateMinutes: 5 }, 'lateMinutes');
    await refused({ attendance: 'late' }, 'lateMinutes');
    await refused({ attendance: 'late', lateMinutes: 241 }, 'lateMinutes');
    await refused({ attendance: 'cancelled_by_client' }, 'noticeHours');
    await refused({ attendance: 'cancelled_by_client', noticeHours: -1 }, 'noticeHours');
    await refused({ attendance: 'no_show', noticeHours: 3 }, 'noticeHours');
    await ok({ attendance: 'cancelled_by_client', noticeHours: 0 }, { noticeHours: 0 }, ['attendance', 'noticeHours']);
    await ok({ attendance: 'cancelled_by_client', noticeHours: 720 }, { noticeHours: 720 }, ['noticeHours']);
    for (const attendance of ['no_show', 'cancelled_by_clinic', 'rescheduled', 'scheduled', 'attended']) {
      await ok({ attendance }, { attendance, lateMinutes: null, noticeHours: null }, expect.arrayContaining(['attendance']));
    }
    await ok(
      { note: NOTE, homework: 'Fill in the diary card daily', durationMinutes: 90, type: 'extra_crisis', scheduledStart: START },
      { note: NOTE, durationMinutes: 90, type: 'extra_crisis', scheduledStart: '2030-03-04T09:00:00.000Z' },
      ['durationMinutes', 'homework', 'note', 'type'],
    );
    const [stored] = await query<{ version: number; attendance: string }>(
      sql`select version, attendance from individual_sessions where id = ${session.id}`,
    );
    expect(stored).toEqual({ version, attendance: 'attended' });
  });

  it('diary card reviewed or missing (not both); risk level only with a risk assessment', async () => {
    const { therapist, url } = await setting();
    const session = await createSession(therapist.token, url);
    const cardId = uuidv7();
    let version = 1;
    const patch = async (body: object, status = 200) => {
      const { response } = await call(therapist.token, 'PATCH', `/v1/sessions/${session.id}`, body, { 'if-match': `"${version}"` });
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      if (status === 200) version++;
      return response.json() as Session & { errors?: Array<{ field: string }> };
    };
    expect(await patch({ diaryCardId: cardId })).toMatchObject({ diaryCardId: cardId, diaryCardMissing: false });
    expect((await patch({ diaryCardId: cardId, diaryCardMissing: true }, 400)).errors?.[0]?.field).toBe('diaryCardMissing');
    expect(await patch({ diaryCardMissing: true })).toMatchObject({ diaryCardId: null, diaryCardMissing: true });
    expect(await patch({ diaryCardId: cardId })).toMatchObject({ diaryCardId: cardId, diaryCardMissing: false });
    expect((await patch({ diaryCardId: 'card-7' }, 400)).errors?.[0]?.field).toBe('diaryCardId');

    expect((await patch({ riskLevel: 'moderate' }, 400)).errors?.[0]?.field).toBe('riskLevel');
    expect(await patch({ riskAssessmentDone: true, riskLevel: 'imminent' })).toMatchObject({
      riskAssessmentDone: true,
      riskLevel: 'imminent',
    });
    expect(await patch({ riskLevel: 'low' })).toMatchObject({ riskLevel: 'low' });
    expect((await patch({ riskAssessmentDone: false, riskLevel: 'low' }, 400)).errors?.[0]?.field).toBe('riskLevel');
    expect(await patch({ riskAssessmentDone: false })).toMatchObject({ riskAssessmentDone: false, riskLevel: null });
    expect((await patch({}, 400)).errors).toBeDefined();
    expect(version).toBe(7);
  });

  it("skillIds must be the clinic's skills: duplicates collapse; anything else is a 400 and nothing changes", async () => {
    const { clinic, therapist, url } = await setting();
    const [tipp, stop] = [await insertSkill(clinic.id, 'TIPP (synthetic)'), await insertSkill(clinic.id, 'STOP (synthetic)')];
    const foreignSkill = await insertSkill((await createClinic()).clinic.id);
    const session = await createSession(therapist.token, url, { skillIds: [tipp] });
    expect(session.skillIds).toEqual([tipp]);
    const path = `/v1/sessions/${session.id}`;
    for (const skillIds of [[tipp, foreignSkill], [uuidv7()]]) {
      const problem = expectProblem((await call(therapist.token, 'PATCH', path, { skillIds }, { 'if-match': '"1"' })).response, 400);
      expect(problem.errors).toEqual([{ in: 'body', field: 'skillIds', message: expect.any(String) }]);
    }
    const changed = await call(therapist.token, 'PATCH', path, { skillIds: [stop, tipp, stop] }, { 'if-match': '"1"' });
    expect(changed.response.json()).toMatchObject({ skillIds: [stop, tipp], version: 2 });
    expect(await auditRecord(changed.requestId)).toMatchObject({ details: { fields: ['skillIds'] } });
  });

  it('If-Match: 428 when missing, 412 when stale; nothing changes', async () => {
    const { therapist, url } = await setting();
    const session = await createSession(therapist.token, url);
    const path = `/v1/sessions/${session.id}`;
    expectProblem((await call(therapist.token, 'PATCH', path, { attendance: 'attended' })).response, 428);
    expectProblem((await call(therapist.token, 'PATCH', path, { attendance: 'attended' }, { 'if-match': '"7"' })).response, 412);
    const read = await call(therapist.token, 'GET', path);
    expect(read.response.json()).toMatchObject({ attendance: 'scheduled', version: 1 });
  });
});

describe('who may see and change sessions', () => {
  it('an unrelated therapist gets 403 no-relationship on every route, audited with the client', async () => {
    const { clinic, client, therapist, colleague, url } = await setting();
    const session = await createSession(therapist.token, url);
    for (const [method, path, body] of [
      ['GET', url, undefined],
      ['POST', url, { scheduledStart: START, durationMinutes: 50, type: 'regular' }],
      ['GET', `/v1/sessions/${session.id}`, undefined],
      ['PATCH', `/v1/sessions/${session.id}`, { attendance: 'no_show' }],
    ] as const) {
      const { response, requestId } = await call(colleague.token, method, path, body, { 'if-match': '"1"' });
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'no-relationship', client_ids: [client.id] });
    }
    expect(await sessionCount(clinic.id)).toBe(1);
  });

  it('admin and compliance are refused by role', async () => {
    const { admin, compliance, therapist, url } = await setting();
    const session = await createSession(therapist.token, url);
    for (const who of [admin, compliance]) {
      for (const [method, path] of [
        ['GET', url],
        ['GET', `/v1/sessions/${session.id}`],
        ['PATCH', `/v1/sessions/${session.id}`],
      ] as const) {
        const body = method === 'PATCH' ? { attendance: 'attended' } : undefined;
        const { response, requestId } = await call(who.token, method, path, body, { 'if-match': '"1"' });
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({ denial_reason: 'role-not-permitted:clients.clinical' });
      }
    }
  });

  it("another clinic's session is a 404 that names no client", async () => {
    const { therapist } = await setting();
    const elsewhere = await setting();
    const session = await createSession(elsewhere.therapist.token, elsewhere.url);
    for (const method of ['GET', 'PATCH'] as const) {
      const body = method === 'PATCH' ? { attendance: 'attended' } : undefined;
      const { response, requestId } = await call(therapist.token, method, `/v1/sessions/${session.id}`, body, { 'if-match': '"1"' });
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
    }
  });

  it('a break-glass holder reads sessions, and the audit record names the grant', async () => {
    const { client, therapist, colleague, url } = await setting();
    const session = await createSession(therapist.token, url, { note: NOTE });
    const grant = await call(colleague.token, 'POST', '/v1/break-glass', {
      clientId: client.id,
      reason: 'Synthetic crisis; the primary therapist is unreachable today',
      minutes: 30,
    });
    const grantId = (grant.response.json() as { id: string }).id;
    const read = await call(colleague.token, 'GET', `/v1/sessions/${session.id}`);
    expect(read.response.json()).toMatchObject({ note: NOTE, psychotherapyNoteByYou: false });
    expect(await auditRecord(read.requestId)).toMatchObject({ access_basis: { relationship: 'break-glass', grantId } });
  });
});
