import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Revision = {
  id: string;
  goalId: string;
  note: string;
  status: string | null;
  text: string | null;
  revisedBy: string;
  revisedAt: string;
};
type Goal = {
  id: string;
  clientId: string;
  text: string;
  domain: string | null;
  status: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  revisions: Revision[];
};

/** The client's own words, with what careless code tends to lose: quotes, accents, emoji, spacing. */
const CLIENT_WORDS = `  "I want to be at my niece's graduation" — and dance, naïvely 💃\n  `;

const call = caller(app);

const countOf = async (table: 'goals' | 'goal_revisions', clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} where clinic_id = ${clinicId}`))[0]?.n;

/** The care team around one client, and the URL of this module's collection for that client. */
async function setting() {
  const team = await clientWithCareTeam(app);
  return { ...team, url: `/v1/clients/${team.client.id}/goals` };
}

async function createGoal(token: string, url: string, body: object = { text: 'Keep a job I like' }) {
  const { response } = await call(token, 'POST', url, body);
  expect(response.statusCode).toBe(201);
  return response.json() as Goal;
}

describe('creating a goal', () => {
  it("keeps the client's exact words, starts active at version 1 with an ETag, audited as a goal", async () => {
    const { clinic, client, therapist, url } = await setting();
    const { response, requestId } = await call(therapist.token, 'POST', url, { text: CLIENT_WORDS, domain: 'family' });
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('"1"');
    const goal = response.json() as Goal;
    expect(goal).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      clientId: client.id,
      text: CLIENT_WORDS,
      domain: 'family',
      status: 'active',
      version: 1,
      createdBy: therapist.id,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: expect.any(String),
      revisions: [],
    });
    const [stored] = await query<{ text: string }>(sql`select text from goals where clinic_id = ${clinic.id} and id = ${goal.id}`);
    expect(stored?.text).toBe(CLIENT_WORDS);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      subtype: 'create',
      outcome: 'success',
      http_status: 201,
      resource_type: 'goal',
      resource_id: goal.id,
      data_category: 'goal',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
    });
  });

  it.each([
    ['text', { text: '   ' }],
    ['text', { text: 'x'.repeat(2001) }],
    ['text', { domain: 'work' }],
    ['domain', { text: 'Go back to school', domain: 'd'.repeat(101) }],
    ['priority', { text: 'Go back to school', priority: 1 }],
  ])('400 naming %s for %j, and nothing is created', async (field, body) => {
    const { clinic, therapist, url } = await setting();
    const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await countOf('goals', clinic.id)).toBe(0);
  });
});

describe('revising a goal', () => {
  it('each revision is dated and attributed, bumps the version, and is listed newest first', async () => {
    const { client, therapist, url } = await setting();
    const goal = await createGoal(therapist.token, url, { text: 'Make one friend at the climbing gym' });
    const revise = (body: object, etag: string) => call(therapist.token, 'POST', `${url}/${goal.id}/revisions`, body, { 'if-match': etag });

    const first = await revise({ note: 'Went twice this week; talked to one person' }, '"1"');
    expect(first.response.statusCode).toBe(201);
    expect(first.response.headers.etag).toBe('"2"');
    const noted = first.response.json() as { goal: Goal; revision: Revision };
    expect(noted.goal).toMatchObject({ version: 2, status: 'active', text: 'Make one friend at the climbing gym' });
    expect(noted.revision).toEqual({
      id: expect.any(String),
      goalId: goal.id,
      note: 'Went twice this week; talked to one person',
      status: null,
      text: null,
      revisedBy: therapist.id,
      revisedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    expect(await auditRecord(first.requestId)).toMatchObject({ subtype: 'update', details: { fields: ['note'] } });

    const reworded = 'Have a friend I can call — «any time»';
    const second = await revise({ note: 'She calls it a friendship now', status: 'achieved', text: reworded }, '"2"');
    expect(second.response.statusCode).toBe(201);
    const achieved = second.response.json() as { goal: Goal; revision: Revision };
    expect(achieved.goal).toMatchObject({ version: 3, status: 'achieved', text: reworded });
    expect(achieved.revision).toMatchObject({ status: 'achieved', text: reworded, revisedBy: therapist.id });
    expect(achieved.goal.revisions.map((r) => r.id)).toEqual([achieved.revision.id, noted.revision.id]);
    expect(await auditRecord(second.requestId)).toMatchObject({
      action: 'U',
      http_status: 201,
      resource_id: goal.id,
      data_category: 'goal',
      client_ids: [client.id],
      details: { fields: ['note', 'status', 'text'] },
    });

    const listed = (await call(therapist.token, 'GET', url)).response.json() as { items: Goal[] };
    const [only] = listed.items;
    expect(only).toMatchObject({ id: goal.id, version: 3, status: 'achieved', text: reworded });
    expect(only?.revisions.map((r) => r.note)).toEqual(['She calls it a friendship now', 'Went twice this week; talked to one person']);
    const [newest, oldest] = (only?.revisions ?? []).map((r) => Date.parse(r.revisedAt));
    expect(newest).toBeGreaterThanOrEqual(oldest as number);
  });

  it('a status or wording equal to the current one is not recorded as a change', async () => {
    const { therapist, url } = await setting();
    const goal = await createGoal(therapist.token, url, { text: 'Sleep before midnight' });
    const { response, requestId } = await call(
      therapist.token,
      'POST',
      `${url}/${goal.id}/revisions`,
      { note: 'Five nights out of seven', status: 'active', text: 'Sleep before midnight' },
      { 'if-match': '"1"' },
    );
    expect(response.statusCode).toBe(201);
    expect((response.json() as { revision: Revision }).revision).toMatchObject({ status: null, text: null });
    expect(await auditRecord(requestId)).toMatchObject({ details: { fields: ['note'] } });
  });

  it('If-Match: 428 when missing, 412 when stale; neither changes anything', async () => {
    const { clinic, therapist, url } = await setting();
    const goal = await createGoal(therapist.token, url);
    const revisions = `${url}/${goal.id}/revisions`;
    expectProblem((await call(therapist.token, 'POST', revisions, { note: 'No precondition' })).response, 428);
    expect((await call(therapist.token, 'POST', revisions, { note: 'First' }, { 'if-match': '"1"' })).response.statusCode).toBe(201);
    const stale = await call(therapist.token, 'POST', revisions, { note: 'Stale', status: 'on_hold' }, { 'if-match': '"1"' });
    expectProblem(stale.response, 412);
    expect(await auditRecord(stale.requestId)).toMatchObject({ outcome: 'failure', http_status: 412, client_ids: [goal.clientId] });
    expect(await countOf('goal_revisions', clinic.id)).toBe(1);
    const [row] = await query<{ status: string; version: number }>(sql`select status, version from goals where id = ${goal.id}`);
    expect(row).toEqual({ status: 'active', version: 2 });
  });

  it('400 for a missing note or an unknown status; 404 for a goal of another client', async () => {
    const { clinic, therapist, url } = await setting();
    const goal = await createGoal(therapist.token, url);
    const revisions = `${url}/${goal.id}/revisions`;
    const missing = expectProblem(
      (await call(therapist.token, 'POST', revisions, { status: 'achieved' }, { 'if-match': '"1"' })).response,
      400,
    );
    expect(missing.errors?.map((e) => e.field)).toEqual(['note']);
    const status = expectProblem(
      (await call(therapist.token, 'POST', revisions, { note: 'x', status: 'done' }, { 'if-match': '"1"' })).response,
      400,
    );
    expect(status.errors?.map((e) => e.field)).toEqual(['status']);
    const other = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
    const wrongClient = `/v1/clients/${other.id}/goals/${goal.id}/revisions`;
    expectProblem((await call(therapist.token, 'POST', wrongClient, { note: 'Wrong client' }, { 'if-match': '"1"' })).response, 404);
    expect(await countOf('goal_revisions', clinic.id)).toBe(0);
  });
});

describe('listing goals', () => {
  it('lists in the order set, filters by status, and audits the search with its count', async () => {
    const { client, therapist, url } = await setting();
    const first = await createGoal(therapist.token, url, { text: 'Finish the first semester' });
    const second = await createGoal(therapist.token, url, { text: 'Move into my own flat' });
    await call(
      therapist.token,
      'POST',
      `${url}/${second.id}/revisions`,
      { note: 'Signed the lease', status: 'achieved' },
      { 'if-match': '"1"' },
    );

    const all = await call(therapist.token, 'GET', url);
    expect((all.response.json() as { items: Goal[] }).items.map((g) => g.id)).toEqual([first.id, second.id]);
    expect(await auditRecord(all.requestId)).toMatchObject({
      action: 'R',
      subtype: 'search',
      data_category: 'goal',
      result_count: 2,
      client_ids: [client.id],
    });

    const achieved = await call(therapist.token, 'GET', `${url}?status=achieved`);
    expect((achieved.response.json() as { items: Goal[] }).items.map((g) => g.id)).toEqual([second.id]);
    expect(await auditRecord(achieved.requestId)).toMatchObject({ result_count: 1, query: { status: 'achieved' } });

    const page = (await call(therapist.token, 'GET', `${url}?limit=1`)).response.json() as { items: Goal[]; nextCursor: string };
    expect(page.items.map((g) => g.id)).toEqual([first.id]);
    const next = (await call(therapist.token, 'GET', `${url}?limit=1&cursor=${page.nextCursor}`)).response.json() as { items: Goal[] };
    expect(next.items.map((g) => g.id)).toEqual([second.id]);

    const invalid = expectProblem((await call(therapist.token, 'GET', `${url}?status=finished`)).response, 400);
    expect(invalid.errors?.[0]).toMatchObject({ in: 'query', field: 'status' });
  });
});

describe('who may see and change goals', () => {
  it('a therapist without a relationship gets 403 (no-relationship), audited with the client', async () => {
    const { clinic, client, colleague, url } = await setting();
    const read = await call(colleague.token, 'GET', url);
    expectProblem(read.response, 403);
    expect(await auditRecord(read.requestId)).toMatchObject({
      outcome: 'denied',
      denial_reason: 'no-relationship',
      client_ids: [client.id],
    });
    expectProblem((await call(colleague.token, 'POST', url, { text: 'Not my client' })).response, 403);
    expect(await countOf('goals', clinic.id)).toBe(0);
  });

  it('admin and compliance are refused by role: goals are clinical content', async () => {
    const { admin, compliance, therapist, url } = await setting();
    const goal = await createGoal(therapist.token, url);
    for (const who of [admin, compliance]) {
      for (const [method, path, body] of [
        ['GET', url, undefined],
        ['POST', url, { text: 'Attempted by a non-clinician' }],
        ['POST', `${url}/${goal.id}/revisions`, { note: 'Attempted' }],
      ] as const) {
        const { response, requestId } = await call(who.token, method, path, body, { 'if-match': '"1"' });
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({ denial_reason: 'role-not-permitted:clients.clinical' });
      }
    }
  });

  it('break-the-glass opens the record, and the audit record names the grant', async () => {
    const { client, colleague, url } = await setting();
    const grant = await call(colleague.token, 'POST', '/v1/break-glass', {
      clientId: client.id,
      reason: 'Client in crisis; the primary therapist is unreachable today',
      minutes: 30,
    });
    expect(grant.response.statusCode).toBe(201);
    const grantId = (grant.response.json() as { id: string }).id;
    const created = await call(colleague.token, 'POST', url, { text: 'Stay safe tonight' });
    expect(created.response.statusCode).toBe(201);
    expect(await auditRecord(created.requestId)).toMatchObject({
      outcome: 'success',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'break-glass', grantId },
    });
    const read = await call(colleague.token, 'GET', url);
    expect((read.response.json() as { items: Goal[] }).items).toHaveLength(1);
    expect(await auditRecord(read.requestId)).toMatchObject({ access_basis: { relationship: 'break-glass', grantId } });
  });

  it("another clinic's client is a 404, and reveals nothing", async () => {
    const { therapist } = await setting();
    const elsewhere = await setting();
    await createGoal(elsewhere.therapist.token, elsewhere.url);
    const { response, requestId } = await call(therapist.token, 'GET', elsewhere.url);
    expectProblem(response, 404);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
  });
});
