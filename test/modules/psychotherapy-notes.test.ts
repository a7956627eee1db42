import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Note = { id: string; sessionId: string; authorId: string; body: string; version: number; createdAt: string; updatedAt: string };

const PRIVATE = 'Synthetic psychotherapy note: my own hypothesis about the therapy-interfering pattern ✎';

const noteCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from psychotherapy_notes where clinic_id = ${clinicId}`))[0]?.n;

/** A client with its care team and one session, plus the session's psychotherapy-note URL. */
async function setting() {
  const team = await clientWithCareTeam(app);
  const created = await call(team.therapist.token, 'POST', `/v1/clients/${team.client.id}/sessions`, {
    scheduledStart: '2030-05-06T15:00:00Z',
    durationMinutes: 50,
    type: 'regular',
    note: 'Synthetic session note',
  });
  expect(created.response.statusCode).toBe(201);
  const session = created.response.json() as { id: string };
  return { ...team, session, url: `/v1/sessions/${session.id}/psychotherapy-note` };
}

/** Makes `staffId` the primary therapist for a moment (a covering therapist), runs `during`, then restores. */
async function asPrimary(clientId: string, staffId: string, restore: string, during: () => Promise<void>) {
  await query(sql`update clients set primary_therapist_id = ${staffId} where id = ${clientId}`);
  await during();
  await query(sql`update clients set primary_therapist_id = ${restore} where id = ${clientId}`);
}

async function grantBreakGlass(token: string, clientId: string) {
  const { response } = await call(token, 'POST', '/v1/break-glass', {
    clientId,
    reason: 'Synthetic crisis; the primary therapist is unreachable today',
    minutes: 30,
  });
  expect(response.statusCode).toBe(201);
  return (response.json() as { id: string }).id;
}

describe('writing and reading your own psychotherapy note', () => {
  it('creates (201), reads, replaces with If-Match (200); audited as psychotherapy-note without the text', async () => {
    const { client, therapist, session, url } = await setting();
    const created = await call(therapist.token, 'PUT', url, { body: PRIVATE });
    expect(created.response.statusCode).toBe(201);
    expect(created.response.headers.etag).toBe('"1"');
    const note = created.response.json() as Note;
    expect(note).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sessionId: session.id,
      authorId: therapist.id,
      body: PRIVATE,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const createdRecord = await auditRecord(created.requestId);
    expect(createdRecord).toMatchObject({
      action: 'U',
      http_status: 201,
      outcome: 'success',
      resource_type: 'psychotherapy-note',
      resource_id: note.id,
      data_category: 'psychotherapy-note',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
      details: { fields: ['body'] },
    });
    expect(JSON.stringify(createdRecord)).not.toContain('hypothesis');

    const read = await call(therapist.token, 'GET', url);
    expect(read.response.statusCode).toBe(200);
    expect(read.response.headers.etag).toBe('"1"');
    expect(read.response.json()).toEqual(note);
    expect(await auditRecord(read.requestId)).toMatchObject({
      action: 'R',
      resource_id: note.id,
      data_category: 'psychotherapy-note',
      client_ids: [client.id],
    });

    expectProblem((await call(therapist.token, 'PUT', url, { body: 'Second thoughts' })).response, 428);
    expectProblem((await call(therapist.token, 'PUT', url, { body: 'Second thoughts' }, { 'if-match': '"5"' })).response, 412);
    const replaced = await call(therapist.token, 'PUT', url, { body: 'Second thoughts' }, { 'if-match': '"1"' });
    expect(replaced.response.statusCode).toBe(200);
    expect(replaced.response.headers.etag).toBe('"2"');
    expect(replaced.response.json()).toMatchObject({ id: note.id, body: 'Second thoughts', version: 2 });
    expect(await auditRecord(replaced.requestId)).toMatchObject({ http_status: 200, resource_id: note.id });
    const [stored] = await query<{ n: number }>(sql`select count(*)::int as n from psychotherapy_notes where session_id = ${session.id}`);
    expect(stored?.n).toBe(1);
  });

  it('If-Match on a first write is a 412 (there is nothing to match); no note is created', async () => {
    const { clinic, therapist, url } = await setting();
    expectProblem((await call(therapist.token, 'PUT', url, { body: PRIVATE }, { 'if-match': '"1"' })).response, 412);
    expect(await noteCount(clinic.id)).toBe(0);
  });

  it.each([
    ['body', {}],
    ['body', { body: '' }],
    ['body', { body: '  \n ' }],
    ['body', { body: 'x'.repeat(50001) }],
    ['sessionNote', { body: 'ok', sessionNote: 'extra' }],
  ])('400 naming %s (case %#), and nothing is written', async (field, payload) => {
    const { clinic, therapist, url } = await setting();
    const problem = expectProblem((await call(therapist.token, 'PUT', url, payload)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await noteCount(clinic.id)).toBe(0);
  });

  it('a note is never part of the session or the session list; the session only says whether you wrote one', async () => {
    const { client, therapist, colleague, session, url } = await setting();
    await call(therapist.token, 'PUT', url, { body: PRIVATE });
    const read = await call(therapist.token, 'GET', `/v1/sessions/${session.id}`);
    expect(read.response.body).not.toContain('hypothesis');
    expect(read.response.json()).toMatchObject({ note: 'Synthetic session note', psychotherapyNoteByYou: true });
    const list = await call(therapist.token, 'GET', `/v1/clients/${client.id}/sessions`);
    expect(list.response.statusCode).toBe(200);
    expect(list.response.body).not.toContain('hypothesis');
    expect(list.response.body).not.toContain('psychotherapy');

    await grantBreakGlass(colleague.token, client.id);
    const other = await call(colleague.token, 'GET', `/v1/sessions/${session.id}`);
    expect(other.response.json()).toMatchObject({ psychotherapyNoteByYou: false });
  });
});

describe('only the author may read a psychotherapy note', () => {
  it("the primary therapist gets 404 for a covering therapist's note, recorded as author-only; each reads only their own", async () => {
    const { client, therapist, colleague, session, url } = await setting();
    await asPrimary(client.id, colleague.id, therapist.id, async () => {
      const written = await call(colleague.token, 'PUT', url, { body: PRIVATE });
      expect(written.response.statusCode).toBe(201);
    });

    const denied = await call(therapist.token, 'GET', url);
    const problem = expectProblem(denied.response, 404);
    expect(JSON.stringify(problem)).not.toContain('hypothesis');
    expect(await auditRecord(denied.requestId)).toMatchObject({
      outcome: 'failure',
      http_status: 404,
      denial_reason: 'psychotherapy-note-author-only',
      client_ids: [client.id],
      resource_id: session.id,
      data_category: 'psychotherapy-note',
    });
    const sessionRead = await call(therapist.token, 'GET', `/v1/sessions/${session.id}`);
    expect(sessionRead.response.json()).toMatchObject({ psychotherapyNoteByYou: false });

    // One note per author per session: the primary therapist writes their own, beside the other.
    const own = await call(therapist.token, 'PUT', url, { body: 'Primary therapist’s own synthetic note' });
    expect(own.response.statusCode).toBe(201);
    expect((await call(therapist.token, 'GET', url)).response.json()).toMatchObject({ body: 'Primary therapist’s own synthetic note' });
    await asPrimary(client.id, colleague.id, therapist.id, async () => {
      expect((await call(colleague.token, 'GET', url)).response.json()).toMatchObject({ authorId: colleague.id, body: PRIVATE });
    });
  });

  it('without any note the answer is the same 404, with no author-only reason', async () => {
    const { therapist, url } = await setting();
    const { response, requestId } = await call(therapist.token, 'GET', url);
    expectProblem(response, 404);
    expect(await auditRecord(requestId)).toMatchObject({ http_status: 404, denial_reason: null });
  });

  it("a break-glass holder gets 404 for someone else's note and may not write one (403)", async () => {
    const { clinic, client, therapist, colleague, url } = await setting();
    await call(therapist.token, 'PUT', url, { body: PRIVATE });
    const grantId = await grantBreakGlass(colleague.token, client.id);

    const read = await call(colleague.token, 'GET', url);
    expectProblem(read.response, 404);
    expect(await auditRecord(read.requestId)).toMatchObject({
      denial_reason: 'psychotherapy-note-author-only',
      access_basis: { relationship: 'break-glass', grantId },
    });

    const write = await call(colleague.token, 'PUT', url, { body: 'Emergency jotting' });
    expectProblem(write.response, 403);
    expect(await auditRecord(write.requestId)).toMatchObject({
      outcome: 'denied',
      denial_reason: 'break-glass-no-psychotherapy-notes',
      client_ids: [client.id],
      data_category: 'psychotherapy-note',
    });
    expect(await noteCount(clinic.id)).toBe(1);
  });

  it('an unrelated therapist gets 403 no-relationship, even for a note they once wrote as covering therapist', async () => {
    const { clinic, client, therapist, colleague, url } = await setting();
    await asPrimary(client.id, colleague.id, therapist.id, async () => {
      await call(colleague.token, 'PUT', url, { body: PRIVATE });
    });
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { body: 'Not my client any more' }],
    ] as const) {
      const { response, requestId } = await call(colleague.token, method, url, body, { 'if-match': '"1"' });
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ denial_reason: 'no-relationship', client_ids: [client.id] });
    }
    const [stored] = await query<{ body: string }>(sql`select body from psychotherapy_notes where clinic_id = ${clinic.id}`);
    expect(stored?.body).toBe(PRIVATE);
  });

  it("admin and compliance are refused by role; another clinic's session is a 404", async () => {
    const { admin, compliance, url } = await setting();
    for (const who of [admin, compliance]) {
      for (const method of ['GET', 'PUT'] as const) {
        const body = method === 'PUT' ? { body: 'Attempted' } : undefined;
        const { response, requestId } = await call(who.token, method, url, body);
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({ denial_reason: 'role-not-permitted:clients.clinical' });
      }
    }
    const elsewhere = await setting();
    await call(elsewhere.therapist.token, 'PUT', elsewhere.url, { body: PRIVATE });
    const { therapist } = await setting();
    for (const method of ['GET', 'PUT'] as const) {
      const body = method === 'PUT' ? { body: 'Cross-clinic attempt' } : undefined;
      const { response, requestId } = await call(therapist.token, method, elsewhere.url, body);
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ http_status: 404, client_ids: [], denial_reason: null });
    }
  });
});
