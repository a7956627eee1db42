import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Target = {
  targetId: string;
  version: number;
  clientId: string;
  category: string;
  lifeThreateningSubtype: string | null;
  therapyInterferingActor: string | null;
  direction: string;
  measure: string;
  label: string;
  effectiveFrom: string;
  effectiveTo: string | null;
  endReason: string | null;
  createdBy: string;
};

const selfHarm = { category: 'life_threatening', lifeThreateningSubtype: 'nssi', measure: 'urge_and_action', label: 'Cutting' };

const call = caller(app);

const versionsOf = (targetId: string) =>
  query<{ version: number; effective_to: Date | null }>(
    sql`select version, effective_to from targets where target_id = ${targetId} order by version`,
  );
const targetCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from targets where clinic_id = ${clinicId}`))[0]?.n;

/** The care team around one client, and the URL of this module's collection for that client. */
async function setting() {
  const team = await clientWithCareTeam(app);
  return { ...team, url: `/v1/clients/${team.client.id}/targets` };
}

async function addTarget(token: string, url: string, body: object = selfHarm) {
  const { response } = await call(token, 'POST', url, body);
  expect(response.statusCode).toBe(201);
  return response.json() as Target;
}

const list = async (token: string, url: string) => ((await call(token, 'GET', url)).response.json() as { items: Target[] }).items;

describe('adding a target', () => {
  it('creates version 1 in force, direction decrease by default, ETag "1", audited as a target', async () => {
    const { client, therapist, url } = await setting();
    const { response, requestId } = await call(therapist.token, 'POST', url, selfHarm);
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('"1"');
    const target = response.json() as Target;
    expect(target).toEqual({
      targetId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      version: 1,
      clientId: client.id,
      category: 'life_threatening',
      lifeThreateningSubtype: 'nssi',
      therapyInterferingActor: null,
      direction: 'decrease',
      measure: 'urge_and_action',
      label: 'Cutting',
      effectiveFrom: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      effectiveTo: null,
      endReason: null,
      endNote: null,
      createdBy: therapist.id,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      subtype: 'create',
      http_status: 201,
      resource_type: 'target',
      resource_id: target.targetId,
      data_category: 'target',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
    });
  });

  it("skills default to increase; the label keeps the client's exact words", async () => {
    const { therapist, url } = await setting();
    const label = ' Use "opposite action" — when I’m ashamed ';
    const skill = await addTarget(therapist.token, url, { category: 'skill_increase', measure: 'count', label });
    expect(skill).toMatchObject({ direction: 'increase', label });
    const tib = await addTarget(therapist.token, url, {
      category: 'therapy_interfering',
      therapyInterferingActor: 'therapist',
      direction: 'increase',
      measure: 'minutes',
      label: 'Returning calls on time',
    });
    expect(tib).toMatchObject({ therapyInterferingActor: 'therapist', lifeThreateningSubtype: null, direction: 'increase' });
  });

  it.each([
    ['lifeThreateningSubtype', { category: 'life_threatening', measure: 'count', label: 'Overdose' }],
    ['lifeThreateningSubtype', { category: 'quality_of_life', lifeThreateningSubtype: 'nssi', measure: 'count', label: 'Bingeing' }],
    ['therapyInterferingActor', { category: 'therapy_interfering', measure: 'count', label: 'Arriving late' }],
    ['therapyInterferingActor', { ...selfHarm, therapyInterferingActor: 'client' }],
    ['lifeThreateningSubtype', { ...selfHarm, lifeThreateningSubtype: 'self_harm' }],
    ['measure', { ...selfHarm, measure: 'hours' }],
    ['label', { ...selfHarm, label: '  ' }],
    ['label', { ...selfHarm, label: 'x'.repeat(201) }],
    ['priority', { ...selfHarm, priority: 1 }],
  ])('400 naming %s, and nothing is created', async (field, body) => {
    const { clinic, therapist, url } = await setting();
    const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect(await targetCount(clinic.id)).toBe(0);
  });
});

describe('changing a target', () => {
  it('a new label closes version 1 and opens version 2 at the same instant; history keeps both', async () => {
    const { client, therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    const { response, requestId } = await call(
      therapist.token,
      'PUT',
      `${url}/${v1.targetId}`,
      { ...selfHarm, label: 'Hurting myself' },
      { 'if-match': '"1"' },
    );
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('"2"');
    const v2 = response.json() as Target;
    expect(v2).toMatchObject({ targetId: v1.targetId, version: 2, label: 'Hurting myself', effectiveTo: null, endReason: null });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'new-version',
      http_status: 201,
      resource_id: v1.targetId,
      data_category: 'target',
      client_ids: [client.id],
      details: { fields: ['label'], fromVersion: 1, toVersion: 2 },
    });

    const history = await list(therapist.token, `${url}?history=true`);
    expect(history.map((t) => [t.version, t.label, t.endReason])).toEqual([
      [1, 'Cutting', 'changed'],
      [2, 'Hurting myself', null],
    ]);
    expect(history[0]?.effectiveTo).toBe(v2.effectiveFrom);
    expect(Date.parse(history[0]?.effectiveFrom as string)).toBeLessThanOrEqual(Date.parse(v2.effectiveFrom));
    expect(await list(therapist.token, url)).toEqual([v2]);
  });

  it('an identical body answers 200 with the current version and adds no row; a direction change is a new version', async () => {
    const { therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url, { category: 'quality_of_life', measure: 'minutes', label: 'Gaming all night' });
    const path = `${url}/${v1.targetId}`;
    const same = await call(
      therapist.token,
      'PUT',
      path,
      { category: 'quality_of_life', measure: 'minutes', label: 'Gaming all night' },
      { 'if-match': '"1"' },
    );
    expect(same.response.statusCode).toBe(200);
    expect(same.response.json()).toEqual(v1);
    expect(await auditRecord(same.requestId)).toMatchObject({ http_status: 200, details: { fields: [] } });
    expect(await versionsOf(v1.targetId)).toHaveLength(1);

    const flipped = await call(
      therapist.token,
      'PUT',
      path,
      { category: 'quality_of_life', direction: 'increase', measure: 'minutes', label: 'Gaming all night' },
      { 'if-match': '"1"' },
    );
    expect(flipped.response.statusCode).toBe(201);
    expect(flipped.response.json()).toMatchObject({ version: 2, direction: 'increase' });
  });

  it('If-Match: 428 when missing, 412 when stale; the same validation rules as creation; 404 under another client', async () => {
    const { clinic, therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    const path = `${url}/${v1.targetId}`;
    const renamed = { ...selfHarm, label: 'Scratching' };
    expectProblem((await call(therapist.token, 'PUT', path, renamed)).response, 428);
    expectProblem((await call(therapist.token, 'PUT', path, renamed, { 'if-match': '"2"' })).response, 412);
    const invalid = expectProblem(
      (await call(therapist.token, 'PUT', path, { ...renamed, category: 'quality_of_life' }, { 'if-match': '"1"' })).response,
      400,
    );
    expect(invalid.errors?.map((e) => e.field)).toEqual(['lifeThreateningSubtype']);
    expect(await versionsOf(v1.targetId)).toEqual([{ version: 1, effective_to: null }]);
    const other = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
    expectProblem(
      (await call(therapist.token, 'PUT', `/v1/clients/${other.id}/targets/${v1.targetId}`, renamed, { 'if-match': '"1"' })).response,
      404,
    );
  });

  it('two concurrent changes with the same If-Match: exactly one succeeds and one version is in force', async () => {
    const { therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    const path = `${url}/${v1.targetId}`;
    const results = await Promise.all(
      ['Cutting my arms', 'Burning'].map((label) => call(therapist.token, 'PUT', path, { ...selfHarm, label }, { 'if-match': '"1"' })),
    );
    const statuses = results.map((r) => r.response.statusCode).sort();
    expect(statuses[0]).toBe(201);
    expect([409, 412]).toContain(statuses[1]);
    const versions = await versionsOf(v1.targetId);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions.filter((v) => v.effective_to === null)).toHaveLength(1);
  });
});

describe('listing targets', () => {
  it('orders targets in force by the hierarchy, then label; history groups versions by target', async () => {
    const { client, therapist, url } = await setting();
    const skill = await addTarget(therapist.token, url, { category: 'skill_increase', measure: 'count', label: 'Wise mind' });
    const qolB = await addTarget(therapist.token, url, { category: 'quality_of_life', measure: 'count', label: 'skipping meals' });
    const tib = await addTarget(therapist.token, url, {
      category: 'therapy_interfering',
      therapyInterferingActor: 'client',
      measure: 'count',
      label: 'Not filling the diary card',
    });
    const qolA = await addTarget(therapist.token, url, {
      category: 'quality_of_life',
      measure: 'minutes',
      label: 'Arguing with my mother',
    });
    const ltb = await addTarget(therapist.token, url, {
      ...selfHarm,
      lifeThreateningSubtype: 'suicidal_ideation_communication',
      label: 'Telling friends I want to die',
    });

    const current = await call(therapist.token, 'GET', url);
    const items = (current.response.json() as { items: Target[] }).items;
    expect(items.map((t) => t.targetId)).toEqual([ltb, tib, qolA, qolB, skill].map((t) => t.targetId));
    expect(await auditRecord(current.requestId)).toMatchObject({
      action: 'R',
      subtype: 'search',
      data_category: 'target',
      result_count: 5,
      client_ids: [client.id],
    });

    // Renaming the skill into a quality-of-life target moves its whole group; retired targets stay in history.
    await call(
      therapist.token,
      'PUT',
      `${url}/${skill.targetId}`,
      { category: 'quality_of_life', measure: 'count', label: 'Bedtime' },
      { 'if-match': '"1"' },
    );
    await call(therapist.token, 'POST', `${url}/${qolB.targetId}/retire`, {});
    const history = await list(therapist.token, `${url}?history=true`);
    expect(history.map((t) => [t.targetId, t.version])).toEqual([
      [ltb.targetId, 1],
      [tib.targetId, 1],
      [qolA.targetId, 1],
      [skill.targetId, 1],
      [skill.targetId, 2],
      [qolB.targetId, 1],
    ]);
    expect((await list(therapist.token, url)).map((t) => t.targetId)).toEqual([ltb, tib, qolA, skill].map((t) => t.targetId));
    expectProblem((await call(therapist.token, 'GET', `${url}?history=yes`)).response, 400);
  });
});

describe('retiring a target', () => {
  it('closes the version in force; retiring again or changing it afterwards is a 409', async () => {
    const { clinic, therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    const path = `${url}/${v1.targetId}`;
    const retired = await call(therapist.token, 'POST', `${path}/retire`, { reason: 'No urges for six months' });
    expect(retired.response.statusCode).toBe(200);
    expect(retired.response.json()).toMatchObject({
      version: 1,
      endReason: 'retired',
      endNote: 'No urges for six months',
      effectiveTo: expect.any(String),
    });
    expect(await auditRecord(retired.requestId)).toMatchObject({
      action: 'U',
      subtype: 'retire',
      data_category: 'target',
      resource_id: v1.targetId,
      details: { version: 1, withNote: true },
    });
    // The note is clinical: it stays with the target, never in the audit trail.
    const [record] = await query(sql`select details::text as text from audit_events where request_id = ${retired.requestId}`);
    expect((record as { text: string }).text).not.toContain('No urges');
    expect(await list(therapist.token, url)).toEqual([]);

    const again = await call(therapist.token, 'POST', `${path}/retire`);
    expectProblem(again.response, 409);
    expect(await auditRecord(again.requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    expectProblem((await call(therapist.token, 'PUT', path, { ...selfHarm, label: 'Back again' }, { 'if-match': '"1"' })).response, 409);
    expect(await targetCount(clinic.id)).toBe(1);
  });

  it('a stale If-Match is refused when sent; an unknown target is a 404', async () => {
    const { therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    expectProblem((await call(therapist.token, 'POST', `${url}/${v1.targetId}/retire`, {}, { 'if-match': '"3"' })).response, 412);
    expect(await versionsOf(v1.targetId)).toEqual([{ version: 1, effective_to: null }]);
    expectProblem((await call(therapist.token, 'POST', `${url}/${v1.clientId}/retire`, {})).response, 404);
  });
});

describe('who may see and change targets', () => {
  it('a therapist without a relationship gets 403 (no-relationship); admin and compliance are refused by role', async () => {
    const { clinic, client, colleague, admin, compliance, therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    const denied = await call(colleague.token, 'GET', url);
    expectProblem(denied.response, 403);
    expect(await auditRecord(denied.requestId)).toMatchObject({ denial_reason: 'no-relationship', client_ids: [client.id] });
    expectProblem((await call(colleague.token, 'POST', `${url}/${v1.targetId}/retire`, {})).response, 403);
    for (const who of [admin, compliance]) {
      const { response, requestId } = await call(who.token, 'GET', url);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ denial_reason: 'role-not-permitted:clients.clinical' });
      expectProblem((await call(who.token, 'POST', url, selfHarm)).response, 403);
    }
    expect(await targetCount(clinic.id)).toBe(1);
  });

  it('break-the-glass allows the change, and the audit record names the grant', async () => {
    const { client, colleague, therapist, url } = await setting();
    const v1 = await addTarget(therapist.token, url);
    const grant = await call(colleague.token, 'POST', '/v1/break-glass', {
      clientId: client.id,
      reason: 'Client in crisis; the primary therapist is unreachable today',
      minutes: 30,
    });
    const grantId = (grant.response.json() as { id: string }).id;
    const changed = await call(
      colleague.token,
      'PUT',
      `${url}/${v1.targetId}`,
      { ...selfHarm, label: 'Cutting (arms)' },
      { 'if-match': '"1"' },
    );
    expect(changed.response.statusCode).toBe(201);
    expect(changed.response.json()).toMatchObject({ version: 2, createdBy: colleague.id });
    expect(await auditRecord(changed.requestId)).toMatchObject({
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'break-glass', grantId },
    });
  });

  it("another clinic's client is a 404, and reveals nothing", async () => {
    const { therapist } = await setting();
    const elsewhere = await setting();
    const foreign = await addTarget(elsewhere.therapist.token, elsewhere.url);
    for (const [method, path, body] of [
      ['GET', elsewhere.url, undefined],
      ['POST', `${elsewhere.url}/${foreign.targetId}/retire`, {}],
    ] as const) {
      const { response, requestId } = await call(therapist.token, method, path, body);
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
    }
    expect(await versionsOf(foreign.targetId)).toEqual([{ version: 1, effective_to: null }]);
  });
});
