import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { today } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Reply = Awaited<ReturnType<typeof app.inject>>;
type Stage = { id: string; clientId: string; stage: string; from: string; to: string | null; rationale: string; decidedBy: string };
type Commitment = { id: string; episodeId: string | null; type: string; items: string[]; method: string; agreedAt: string };

const call = caller(app);

const fieldsOf = (response: Reply) => expectProblem(response, 400).errors?.map((error) => `${error.in}.${error.field}`);
const count = async (table: 'stage_assignments' | 'commitments') =>
  (await query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]?.n;

async function therapistWithClient() {
  const { clinic, admin } = await createClinic();
  const therapist = await createStaffMember(clinic.id, ['therapist']);
  const client = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
  return { clinic, admin, therapist, token: tokenFor(app, therapist), client };
}

const RATIONALE = 'Frequent NSSI in the last month; behavioural control first';
const stagesOf = async (token: string, clientId: string) =>
  ((await call(token, 'GET', `/v1/clients/${clientId}/stages`)).response.json() as { items: Stage[] }).items;

async function assign(token: string, clientId: string, body: Record<string, unknown>) {
  const { response } = await call(token, 'POST', `/v1/clients/${clientId}/stages`, { rationale: RATIONALE, ...body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as Stage;
}

const commitment = (overrides: Record<string, unknown> = {}) => ({
  type: 'treatment',
  items: ['Attend every scheduled session', 'Fill in the diary card daily'],
  method: 'written',
  agreedAt: '2024-03-01T10:30:00+01:00',
  ...overrides,
});

describe('stage history', () => {
  it('a new stage closes the current one on its first day; history is newest first and the caller is the decider', async () => {
    const { clinic, therapist, token, client } = await therapistWithClient();
    expect(await stagesOf(token, client.id)).toEqual([]);
    const pre = await assign(token, client.id, { stage: 'pretreatment', from: '2024-01-08' });
    expect(pre).toEqual({
      id: expect.any(String),
      clientId: client.id,
      stage: 'pretreatment',
      from: '2024-01-08',
      to: null,
      rationale: RATIONALE,
      decidedBy: therapist.id,
      createdAt: expect.any(String),
    });
    const { response, requestId } = await call(token, 'POST', `/v1/clients/${client.id}/stages`, {
      stage: 'stage_1',
      from: '2024-02-05',
      rationale: `  ${RATIONALE}  `,
    });
    expect(response.statusCode).toBe(201);
    const one = response.json() as Stage;
    expect(one).toMatchObject({ stage: 'stage_1', from: '2024-02-05', to: null, rationale: RATIONALE });
    expect(await auditRecord(requestId)).toMatchObject({
      clinic_id: clinic.id,
      actor_id: therapist.id,
      action: 'C',
      subtype: 'create',
      http_status: 201,
      resource_id: one.id,
      client_ids: [client.id],
      data_category: 'stage',
      details: { stage: { from: 'pretreatment', to: 'stage_1' }, closed: pre.id },
    });
    const two = await assign(token, client.id, { stage: 'stage_2' });
    expect(two).toMatchObject({ from: today(), to: null });

    const list = await call(token, 'GET', `/v1/clients/${client.id}/stages`);
    const items = (list.response.json() as { items: Stage[] }).items;
    expect(items.map((item) => [item.stage, item.from, item.to])).toEqual([
      ['stage_2', today(), null],
      ['stage_1', '2024-02-05', today()],
      ['pretreatment', '2024-01-08', '2024-02-05'],
    ]);
    expect(await auditRecord(list.requestId)).toMatchObject({
      subtype: 'search',
      client_ids: [client.id],
      data_category: 'stage',
      result_count: 3,
    });
  });

  it('refuses a start before the current stage began, and a missing or short rationale, with 400 naming the field', async () => {
    const { token, client } = await therapistWithClient();
    await assign(token, client.id, { stage: 'stage_1', from: '2024-03-01' });
    const before = await stagesOf(token, client.id);
    const stored = await count('stage_assignments');
    const url = `/v1/clients/${client.id}/stages`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ stage: 'stage_2', from: '2024-02-29', rationale: RATIONALE }, 'body.from'],
      [{ stage: 'stage_2', rationale: 'too short' }, 'body.rationale'],
      [{ stage: 'stage_2', rationale: `   ${'x'.repeat(9)}   ` }, 'body.rationale'],
      [{ stage: 'stage_2', rationale: 'x'.repeat(4001) }, 'body.rationale'],
      [{ stage: 'stage_2' }, 'body.rationale'],
      [{ stage: 'stage_5', rationale: RATIONALE }, 'body.stage'],
      [{ stage: 'stage_2', from: '2024-13-01', rationale: RATIONALE }, 'body.from'],
      [{ stage: 'stage_2', rationale: RATIONALE, decidedBy: randomUUID() }, 'body.decidedBy'],
    ];
    for (const [body, field] of cases) {
      const { response, requestId } = await call(token, 'POST', url, body);
      expect(fieldsOf(response), JSON.stringify(body).slice(0, 80)).toEqual([field]);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 400 });
    }
    expect(await stagesOf(token, client.id)).toEqual(before);
    expect(await count('stage_assignments')).toBe(stored);
    // The bounds themselves are accepted, and a start on the same day as the current one is allowed.
    await assign(token, client.id, { stage: 'stage_2', from: '2024-03-01', rationale: 'x'.repeat(10) });
    expect((await assign(token, client.id, { stage: 'stage_3', rationale: 'y'.repeat(4000) })).rationale).toHaveLength(4000);
  });
});

describe('commitments', () => {
  it('records each commitment as a new record, lists them newest first, and audits the commitment category', async () => {
    const { clinic, therapist, token, client } = await therapistWithClient();
    const url = `/v1/clients/${client.id}/commitments`;
    const { response, requestId } = await call(token, 'POST', url, commitment());
    expect(response.statusCode).toBe(201);
    const first = response.json() as Commitment;
    expect(first).toEqual({
      id: expect.any(String),
      clientId: client.id,
      episodeId: null,
      type: 'treatment',
      items: ['Attend every scheduled session', 'Fill in the diary card daily'],
      method: 'written',
      agreedAt: '2024-03-01T09:30:00.000Z',
      recordedBy: therapist.id,
      createdAt: expect.any(String),
    });
    expect(await auditRecord(requestId)).toMatchObject({
      clinic_id: clinic.id,
      action: 'C',
      subtype: 'create',
      http_status: 201,
      resource_id: first.id,
      client_ids: [client.id],
      data_category: 'commitment',
      details: { type: 'treatment', method: 'written', episodeId: null },
    });

    const types = ['therapist', 'skills_group', 'phone_coaching', 'caregiver', 'recommitment', 'recommitment'];
    for (const [index, type] of types.entries()) {
      const agreedAt = `2024-04-0${index + 1}T12:00:00Z`;
      const made = await call(token, 'POST', url, commitment({ type, method: 'oral', agreedAt, items: [`Item ${index}`] }));
      expect(made.response.statusCode).toBe(201);
    }
    const list = await call(token, 'GET', url);
    const items = (list.response.json() as { items: Commitment[] }).items;
    expect(items.map((item) => item.type)).toEqual([...types].reverse().concat('treatment'));
    expect(items.filter((item) => item.type === 'recommitment')).toHaveLength(2);
    expect(await auditRecord(list.requestId)).toMatchObject({
      subtype: 'search',
      client_ids: [client.id],
      data_category: 'commitment',
      result_count: 7,
    });
    // Never edited: there is no route to change or remove one.
    for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
      expect((await call(token, method, `${url}/${first.id}`, method === 'DELETE' ? undefined : commitment())).response.statusCode).toBe(
        404,
      );
    }
  });

  it("links to one of the client's episodes; any other episode id is a 400 naming episodeId", async () => {
    const { clinic, token, client } = await therapistWithClient();
    const [episode] = await query<{ id: string }>(sql`select id from treatment_episodes where client_id = ${client.id}`);
    const url = `/v1/clients/${client.id}/commitments`;
    const linked = await call(token, 'POST', url, commitment({ episodeId: episode?.id }));
    expect(linked.response.statusCode).toBe(201);
    expect((linked.response.json() as Commitment).episodeId).toBe(episode?.id);

    const sibling = await createClientRecord(clinic.id);
    const elsewhere = await therapistWithClient();
    const stored = await count('commitments');
    for (const other of [sibling.id, elsewhere.client.id]) {
      const [foreign] = await query<{ id: string }>(sql`select id from treatment_episodes where client_id = ${other}`);
      const { response } = await call(token, 'POST', url, commitment({ episodeId: foreign?.id }));
      expect(fieldsOf(response)).toEqual(['body.episodeId']);
    }
    expect(fieldsOf((await call(token, 'POST', url, commitment({ episodeId: randomUUID() }))).response)).toEqual(['body.episodeId']);
    expect(await count('commitments')).toBe(stored);
  });

  it('rejects malformed commitments with 400 naming the field; nothing is written', async () => {
    const { token, client } = await therapistWithClient();
    const url = `/v1/clients/${client.id}/commitments`;
    const stored = await count('commitments');
    const cases: Array<[Record<string, unknown>, string]> = [
      [commitment({ type: 'promise' }), 'body.type'],
      [commitment({ items: [] }), 'body.items'],
      [commitment({ items: ['ok', '  '] }), 'body.items.1'],
      [commitment({ items: ['x'.repeat(501)] }), 'body.items.0'],
      [commitment({ items: Array.from({ length: 51 }, (_, index) => `Item ${index}`) }), 'body.items'],
      [commitment({ items: 'Attend' }), 'body.items'],
      [commitment({ method: 'telepathic' }), 'body.method'],
      [commitment({ agreedAt: new Date(Date.now() + 3_600_000).toISOString() }), 'body.agreedAt'],
      [commitment({ agreedAt: '2024-03-01T10:30:00' }), 'body.agreedAt'],
      [commitment({ agreedAt: '2024-03-01' }), 'body.agreedAt'],
      [commitment({ episodeId: 'not-a-uuid' }), 'body.episodeId'],
      [commitment({ recordedBy: randomUUID() }), 'body.recordedBy'],
      [{ type: 'treatment', items: ['x'], method: 'oral' }, 'body.agreedAt'],
    ];
    for (const [body, field] of cases) {
      const { response, requestId } = await call(token, 'POST', url, body);
      expect(fieldsOf(response), field).toEqual([field]);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 400, data_category: 'commitment' });
    }
    expect(await count('commitments')).toBe(stored);
    const bounds = commitment({ items: Array.from({ length: 50 }, () => 'y'.repeat(500)), agreedAt: new Date().toISOString() });
    expect((await call(token, 'POST', url, bounds)).response.statusCode).toBe(201);
  });
});

describe('access to stages and commitments', () => {
  it('refuses an unrelated therapist (403 no-relationship), admin and compliance (403 role); another clinic is 404', async () => {
    const { clinic, admin, token, client } = await therapistWithClient();
    const stranger = await createStaffMember(clinic.id, ['therapist']);
    const compliance = await createStaffMember(clinic.id, ['compliance']);
    const stored = [await count('stage_assignments'), await count('commitments')];
    const attempts = async (caller: string) => [
      await call(caller, 'GET', `/v1/clients/${client.id}/stages`),
      await call(caller, 'POST', `/v1/clients/${client.id}/stages`, { stage: 'stage_1', rationale: RATIONALE }),
      await call(caller, 'GET', `/v1/clients/${client.id}/commitments`),
      await call(caller, 'POST', `/v1/clients/${client.id}/commitments`, commitment()),
    ];
    for (const { response, requestId } of await attempts(tokenFor(app, stranger))) {
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'no-relationship', client_ids: [client.id] });
    }
    for (const member of [admin, compliance]) {
      for (const { response, requestId } of await attempts(tokenFor(app, member))) {
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'role-not-permitted:clients.clinical' });
      }
    }
    for (const { response, requestId } of await attempts((await therapistWithClient()).token)) {
      expect(JSON.stringify(expectProblem(response, 404))).not.toContain(client.id);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
    }
    expect([await count('stage_assignments'), await count('commitments')]).toEqual(stored);
    expect(await stagesOf(token, client.id)).toEqual([]);
  });

  it('a break-glass grant lets another clinician in, and the grant is the recorded basis', async () => {
    const { clinic, client } = await therapistWithClient();
    const covering = await createStaffMember(clinic.id, ['team_lead']);
    const token = tokenFor(app, covering);
    const opened = await call(token, 'POST', '/v1/break-glass', {
      clientId: client.id,
      reason: 'Crisis call while the therapist is away',
      minutes: 15,
    });
    expect(opened.response.statusCode).toBe(201);
    const grantId = (opened.response.json() as { id: string }).id;
    const requests = [
      await call(token, 'POST', `/v1/clients/${client.id}/stages`, { stage: 'stage_1', rationale: RATIONALE }),
      await call(token, 'GET', `/v1/clients/${client.id}/stages`),
      await call(token, 'POST', `/v1/clients/${client.id}/commitments`, commitment({ type: 'recommitment' })),
      await call(token, 'GET', `/v1/clients/${client.id}/commitments`),
    ];
    for (const { response, requestId } of requests) {
      expect(response.statusCode).toBeLessThan(300);
      expect((await auditRecord(requestId)).access_basis).toMatchObject({ rule: 'clients.clinical', relationship: 'break-glass', grantId });
    }
    expect((await stagesOf(token, client.id))[0]?.decidedBy).toBe(covering.id);
  });
});
