import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { StaffRole } from '../../src/db/schema/index.js';
import { today } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query } from '../helpers/app.js';
import { adultDefaults } from '../helpers/contract/programs.js';
import { createClinic, createProgram, createStaffMember, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller, type Method } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Reply = Awaited<ReturnType<typeof app.inject>>;
type Policy = Record<string, unknown> & { version: number; effectiveFrom: string };
type Program = { id: string; name: string; kind: string; policy: Policy | null; latestPolicyVersion: number };

/** One call as `token`, with a fresh request id so its audit record can be found. */
const call = caller(app);

/** Programs and policy versions of one clinic, to prove a refused request wrote nothing. */
async function written(clinicId: string) {
  const [row] = await query<{ programs: number; versions: number }>(
    sql`select (select count(*)::int from programs where clinic_id = ${clinicId}) as programs,
               (select count(*)::int from program_policies where clinic_id = ${clinicId}) as versions`,
  );
  return row;
}

const unique = () => randomBytes(4).toString('hex');
const fieldsOf = (response: Reply) => (expectProblem(response, 400).errors ?? []).map((error) => `${error.in}.${error.field}`);

/** A whole policy for PUT: the adult defaults with the given changes. */
const fullPolicy = (changes: Record<string, unknown> = {}) => ({ ...adultDefaults, ...changes });

async function adminSession() {
  const { clinic, admin } = await createClinic();
  return { clinic, admin, token: tokenFor(app, admin) };
}

async function newProgram(token: string, body: Record<string, unknown> = {}) {
  const { response } = await call(token, 'POST', '/v1/programs', { name: `Synthetic Program ${unique()}`, kind: 'adult', ...body });
  expect(response.statusCode).toBe(201);
  return response.json() as Program;
}

describe('creating programs', () => {
  it('an adult program gets policy version 1 with the adult defaults (24-hour rule on): 201, Location, ETag, audited', async () => {
    const { clinic, admin, token } = await adminSession();
    const name = `Synthetic Adult DBT ${unique()}`;
    const { response, requestId } = await call(token, 'POST', '/v1/programs', { name, kind: 'adult' });
    expect(response.statusCode).toBe(201);
    const body = response.json() as Program;
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name,
      kind: 'adult',
      createdAt: expect.any(String),
      latestPolicyVersion: 1,
      policy: { ...fullPolicy(), version: 1, effectiveFrom: today(), createdBy: admin.id, createdAt: expect.any(String) },
    });
    expect(response.headers.location).toBe(`/v1/programs/${body.id}`);
    expect(response.headers.etag).toBe('"1"');
    expect(await auditRecord(requestId)).toMatchObject({
      clinic_id: clinic.id,
      actor_id: admin.id,
      action: 'C',
      subtype: 'create',
      outcome: 'success',
      http_status: 201,
      resource_type: 'program',
      resource_id: body.id,
      data_category: 'program-policy',
      details: { kind: 'adult', effectiveFrom: today(), overrides: {} },
    });

    const read = await call(token, 'GET', `/v1/programs/${body.id}`);
    expect(read.response.statusCode).toBe(200);
    expect(read.response.json()).toEqual(body);
    expect(read.response.headers.etag).toBe('"1"');
  });

  it('an adolescent-family program has the 24-hour rule off; other kinds and overrides apply on top of the defaults', async () => {
    const { token } = await adminSession();
    const teen = await newProgram(token, { kind: 'adolescent_family' });
    expect(teen.policy).toMatchObject({ ...fullPolicy({ twentyFourHourRule: false }), version: 1 });

    const custom = await newProgram(token, {
      kind: 'other',
      effectiveFrom: '2021-03-01',
      policy: { contractWeeks: 52, latenessMissMinutes: 15, countedModalities: ['skills_group'], twentyFourHourTriggers: [] },
    });
    expect(custom.policy).toMatchObject({
      ...fullPolicy({ twentyFourHourRule: false, contractWeeks: 52, latenessMissMinutes: 15, countedModalities: ['skills_group'] }),
      twentyFourHourTriggers: [],
      effectiveFrom: '2021-03-01',
    });
  });

  it('a name already used in the clinic is a 409 and writes nothing; another clinic may use it', async () => {
    const { clinic, token } = await adminSession();
    const name = `Synthetic Duplicate ${unique()}`;
    await newProgram(token, { name });
    const before = await written(clinic.id);
    const { response, requestId } = await call(token, 'POST', '/v1/programs', { name: `  ${name} `, kind: 'other' });
    expectProblem(response, 409);
    expect(await auditRecord(requestId)).toMatchObject({ subtype: 'create', outcome: 'failure', http_status: 409 });
    expect(await written(clinic.id)).toEqual(before);
    await newProgram((await adminSession()).token, { name });
  });
});

describe('policy versions and effective dates', () => {
  it('a future version does not apply today but is in force from its date; a later change today does not cancel it', async () => {
    const { admin, token } = await adminSession();
    const program = await newProgram(token, { effectiveFrom: '2020-01-01' });
    const url = `/v1/programs/${program.id}`;

    const future = await call(token, 'PUT', `${url}/policy`, fullPolicy({ fourMissThreshold: 3, effectiveFrom: '2999-01-01' }), {
      'if-match': '"1"',
    });
    expect(future.response.statusCode).toBe(200);
    expect(future.response.json()).toEqual({
      ...fullPolicy({ fourMissThreshold: 3 }),
      version: 2,
      effectiveFrom: '2999-01-01',
      createdBy: admin.id,
      createdAt: expect.any(String),
    });
    expect(future.response.headers.etag).toBe('"2"');

    const now = await call(token, 'GET', url);
    expect(now.response.json()).toMatchObject({ latestPolicyVersion: 2, policy: { version: 1, fourMissThreshold: 4 } });
    expect(now.response.headers.etag).toBe('"2"');
    const versionAt = async (date: string) => ((await call(token, 'GET', `${url}?at=${date}`)).response.json() as Program).policy?.version;
    expect(await versionAt('2998-12-31')).toBe(1);
    expect(await versionAt('2999-01-01')).toBe(2);
    const before = await call(token, 'GET', `${url}?at=2019-12-31`);
    expect(expectProblem(before.response, 404).detail).toContain('2020-01-01');
    expect(await auditRecord(before.requestId)).toMatchObject({ subtype: 'read', http_status: 404, resource_id: program.id });

    const urgent = await call(token, 'PUT', `${url}/policy`, fullPolicy({ overrideAllowed: true }), { 'if-match': '"2"' });
    expect(urgent.response.json()).toMatchObject({ version: 3, effectiveFrom: today(), overrideAllowed: true });
    expect((await call(token, 'GET', url)).response.json()).toMatchObject({ latestPolicyVersion: 3, policy: { version: 3 } });
    expect(await versionAt('2999-06-01')).toBe(2);

    const history = await call(token, 'GET', `${url}/policy/versions`);
    expect(history.response.statusCode).toBe(200);
    expect(history.response.headers.etag).toBe('"3"');
    const items = (history.response.json() as { items: Policy[] }).items;
    expect(items.map((item) => [item.version, item.effectiveFrom])).toEqual([
      [3, today()],
      [2, '2999-01-01'],
      [1, '2020-01-01'],
    ]);
    expect(items[2]).toEqual(program.policy && { ...program.policy, effectiveFrom: '2020-01-01' });
    expect(await auditRecord(history.requestId)).toMatchObject({ subtype: 'search', result_count: 3, resource_id: program.id });
  });

  it('lists every program of the clinic with the policy in force today (null before the first takes effect)', async () => {
    const { token } = await adminSession();
    const current = await newProgram(token, { effectiveFrom: '2020-01-01' });
    const upcoming = await newProgram(token, { kind: 'adolescent_family', effectiveFrom: '2999-01-01' });
    expect(upcoming.policy).toMatchObject({ version: 1, effectiveFrom: '2999-01-01' });
    await newProgram((await adminSession()).token); // another clinic's program never appears

    const { response, requestId } = await call(token, 'GET', '/v1/programs?limit=1');
    const first = response.json() as { items: Program[]; nextCursor: string | null };
    expect(first.items.map((item) => item.id)).toEqual([current.id]);
    const second = (await call(token, 'GET', `/v1/programs?limit=1&cursor=${first.nextCursor}`)).response.json();
    expect(second).toEqual({ items: [{ ...upcoming, policy: null }], nextCursor: null });
    expect(await auditRecord(requestId)).toMatchObject({ subtype: 'search', result_count: 1, data_category: 'program-policy' });

    const all = (await call(token, 'GET', '/v1/programs')).response.json() as { items: Program[] };
    expect(all.items).toEqual([current, { ...upcoming, policy: null }]);
  });
});

describe('changing policy', () => {
  it('needs If-Match: 428 without, 412 when stale; of changes made at once from the same version only one wins', async () => {
    const { clinic, token } = await adminSession();
    const program = await newProgram(token);
    const url = `/v1/programs/${program.id}/policy`;
    const before = await written(clinic.id);
    const missing = await call(token, 'PUT', url, fullPolicy());
    expectProblem(missing.response, 428);
    expect(await auditRecord(missing.requestId)).toMatchObject({ subtype: 'policy-change', outcome: 'failure', http_status: 428 });
    expectProblem((await call(token, 'PUT', url, fullPolicy(), { 'if-match': '"2"' })).response, 412);
    expect(await written(clinic.id)).toEqual(before);

    const etag = (await call(token, 'GET', `/v1/programs/${program.id}`)).response.headers.etag as string;
    const racing = await Promise.all(
      [5, 6, 7, 8, 9].map((threshold) => call(token, 'PUT', url, fullPolicy({ fourMissThreshold: threshold }), { 'if-match': etag })),
    );
    expect(racing.map(({ response }) => response.statusCode).sort()).toEqual([200, 412, 412, 412, 412]);
    const versions = (await call(token, 'GET', `${url}/versions`)).response.json() as { items: Policy[] };
    expect(versions.items.map((item) => item.version)).toEqual([2, 1]);
    expectProblem((await call(token, 'PUT', url, fullPolicy(), { 'if-match': etag })).response, 412);
  });

  it('is audited as a policy change naming each changed setting before and after, and nothing else', async () => {
    const { admin, token } = await adminSession();
    const program = await newProgram(token, { kind: 'adolescent_family', effectiveFrom: '2020-01-01' });
    const change = fullPolicy({
      twentyFourHourRule: true,
      twentyFourHourTriggers: ['therapy_interfering', 'nssi'],
      latenessMissMinutes: 15,
      countedModalities: ['skills_group', 'individual'],
      effectiveFrom: today(),
    });
    const { response, requestId } = await call(token, 'PUT', `/v1/programs/${program.id}/policy`, change, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    const saved = response.json();
    expect([saved.twentyFourHourTriggers, saved.countedModalities]).toEqual([
      ['nssi', 'therapy_interfering'],
      ['individual', 'skills_group'],
    ]);
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      actor_id: admin.id,
      action: 'U',
      subtype: 'policy-change',
      outcome: 'success',
      http_status: 200,
      resource_type: 'program',
      resource_id: program.id,
      data_category: 'program-policy',
      client_ids: [],
    });
    expect(record.details).toEqual({
      version: { from: 1, to: 2 },
      effectiveFrom: { from: '2020-01-01', to: today() },
      twentyFourHourRule: { from: false, to: true },
      twentyFourHourTriggers: { from: ['nssi', 'suicide_attempt'], to: ['nssi', 'therapy_interfering'] },
      latenessMissMinutes: { from: null, to: 15 },
    });
  });
});

describe('access', () => {
  it('only an admin creates programs or changes policy: other roles get 403 and nothing is written', async () => {
    const { clinic, token } = await adminSession();
    const program = await newProgram(token);
    const member = await createStaffMember(clinic.id, ['therapist', 'skills_trainer', 'team_lead', 'compliance']);
    const before = await written(clinic.id);
    for (const [method, url, payload] of [
      ['POST', '/v1/programs', { name: `Synthetic Denied ${unique()}`, kind: 'adult' }],
      ['PUT', `/v1/programs/${program.id}/policy`, fullPolicy({ fourMissThreshold: 2 })],
    ] as const) {
      const { response, requestId } = await call(tokenFor(app, member), method, url, payload, { 'if-match': '"1"' });
      expectProblem(response, 403);
      const record = await auditRecord(requestId);
      expect(record).toMatchObject({ actor_id: member.id, outcome: 'denied', denial_reason: 'role-not-permitted:programs.manage' });
    }
    expect(await written(clinic.id)).toEqual(before);
  });

  it('every role in the clinic reads programs, a program and its policy history', async () => {
    const { clinic, token } = await adminSession();
    const program = await newProgram(token);
    const roles: StaffRole[] = ['admin', 'therapist', 'skills_trainer', 'team_lead', 'compliance'];
    for (const role of roles) {
      const member = await createStaffMember(clinic.id, [role]);
      for (const url of ['/v1/programs', `/v1/programs/${program.id}`, `/v1/programs/${program.id}/policy/versions`]) {
        const { response, requestId } = await call(tokenFor(app, member), 'GET', url);
        expect(response.statusCode, `${role} GET ${url}`).toBe(200);
        expect(await auditRecord(requestId)).toMatchObject({ actor_id: member.id, outcome: 'success', access_basis: expect.any(Object) });
      }
    }
  });

  it("another clinic's program is a 404 for every route, with or without If-Match, and is left unchanged", async () => {
    const { token } = await adminSession();
    const other = await createClinic();
    const foreign = await createProgram(other.clinic.id);
    const before = await written(other.clinic.id);
    for (const id of [foreign.program.id, randomUUID()]) {
      const attempts: Array<[Method, string, unknown?, Record<string, string>?]> = [
        ['GET', `/v1/programs/${id}`],
        ['GET', `/v1/programs/${id}?at=2030-01-01`],
        ['GET', `/v1/programs/${id}/policy/versions`],
        ['PUT', `/v1/programs/${id}/policy`, fullPolicy()],
        ['PUT', `/v1/programs/${id}/policy`, fullPolicy(), { 'if-match': '"1"' }],
      ];
      for (const [method, url, payload, headers] of attempts) {
        // The 404 comes before 428/412, so nothing about another clinic's program leaks.
        const { response, requestId } = await call(token, method, url, payload, headers);
        const body = expectProblem(response, 404);
        expect(body.detail).not.toContain(foreign.program.name);
        expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404 });
      }
    }
    expect(await written(other.clinic.id)).toEqual(before);
    const listed = (await call(token, 'GET', '/v1/programs')).response.json() as { items: Program[] };
    expect(listed.items).toEqual([]);
  });
});

/** Out-of-range, mistyped and unknown values for each setting. */
const badSettings: Record<string, unknown[]> = {
  fourMissThreshold: [0, 21, '4', 4.5],
  missCountingUnit: ['consecutive_months'],
  countedModalities: [[], ['individual', 'individual'], ['phone_coaching']],
  latenessMissMinutes: [0, 121],
  lateCancelMissHours: [0, 169],
  overrideAllowed: ['yes'],
  twentyFourHourRule: [null],
  twentyFourHourTriggers: [['nssi', 'nssi'], ['self_harm']],
  contractWeeks: [30, '26'],
  skillsCycleWeeks: [0, 105],
  groupSizeLimit: [0, 31],
  entryAtModuleStartOnly: [1],
  groupRequiresIndividual: ['true'],
  weekStartsOn: [0, 8],
  diaryEmotions: [[], ['anger', 'anger'], ['Anger'], ['x'.repeat(41)], Array.from({ length: 21 }, (_, i) => `emotion_${i}`)],
};
/** The field a bad setting is reported under: the setting, or one item of a list setting. */
const settingPath = (prefix: string, field: string) => new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.${field}(\\.\\d+)?$`);

describe('bad input', () => {
  it('an invalid new program is a 400 naming the field, and nothing is written', async () => {
    const { clinic, admin, token } = await adminSession();
    const before = await written(clinic.id);
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ name: '   ', kind: 'adult' }, ['body.name']],
      [{ name: 'x'.repeat(201), kind: 'adult' }, ['body.name']],
      [{ name: 'Synthetic', kind: 'child' }, ['body.kind']],
      [{ name: 'Synthetic', kind: 'adult', effectiveFrom: '2024-13-01' }, ['body.effectiveFrom']],
      [{ name: 'Synthetic', kind: 'adult', active: true }, ['body.active']],
      [{ name: 'Synthetic', kind: 'adult', policy: { isFree: true } }, ['body.policy.isFree']],
      [{ name: 'Synthetic', kind: 'adult', policy: { twentyFourHourTriggers: [] } }, ['body.policy.twentyFourHourTriggers']],
      [
        { name: 'Synthetic', kind: 'adolescent_family', policy: { twentyFourHourRule: true, twentyFourHourTriggers: [] } },
        ['body.policy.twentyFourHourTriggers'],
      ],
    ];
    for (const [payload, fields] of cases) {
      const { response, requestId } = await call(token, 'POST', '/v1/programs', payload);
      expect(fieldsOf(response), JSON.stringify(payload)).toEqual(fields);
      expect(expectProblem(response, 400).detail).toContain(fields[0]);
      expect(await auditRecord(requestId)).toMatchObject({ actor_id: admin.id, outcome: 'failure', http_status: 400 });
    }
    for (const [field, values] of Object.entries(badSettings)) {
      for (const value of values) {
        const { response } = await call(token, 'POST', '/v1/programs', { name: 'Synthetic', kind: 'adult', policy: { [field]: value } });
        expect(fieldsOf(response), `${field}: ${JSON.stringify(value)}`).toEqual([
          expect.stringMatching(settingPath('body.policy', field)),
        ]);
      }
    }
    expect(await written(clinic.id)).toEqual(before);
  });

  it('an invalid policy change, date or id is a 400 naming the field, and nothing is written', async () => {
    const { clinic, token } = await adminSession();
    const program = await newProgram(token);
    const url = `/v1/programs/${program.id}/policy`;
    const before = await written(clinic.id);
    const { twentyFourHourRule: _omitted, ...incomplete } = fullPolicy();
    const cases: Array<[unknown, string[]]> = [
      [incomplete, ['body.twentyFourHourRule']],
      [fullPolicy({ twentyFourHourTriggers: [] }), ['body.twentyFourHourTriggers']],
      [fullPolicy({ effectiveFrom: '2020-01-01' }), ['body.effectiveFrom']],
      [fullPolicy({ effectiveFrom: 'tomorrow' }), ['body.effectiveFrom']],
      [
        fullPolicy({ lateCancelMissHours: 0, weekStartsOn: 0, policy: {} }),
        ['body.lateCancelMissHours', 'body.weekStartsOn', 'body.policy'],
      ],
      [fullPolicy({ version: 9 }), ['body.version']],
    ];
    for (const [payload, fields] of cases) {
      expect(fieldsOf((await call(token, 'PUT', url, payload, { 'if-match': '"1"' })).response), JSON.stringify(payload)).toEqual(fields);
    }
    for (const [field, values] of Object.entries(badSettings)) {
      for (const value of values) {
        const { response } = await call(token, 'PUT', url, fullPolicy({ [field]: value }), { 'if-match': '"1"' });
        expect(fieldsOf(response), `${field}: ${JSON.stringify(value)}`).toEqual([expect.stringMatching(settingPath('body', field))]);
      }
    }
    expect(fieldsOf((await call(token, 'PUT', '/v1/programs/not-a-uuid/policy', fullPolicy(), { 'if-match': '"1"' })).response)).toEqual([
      'params.id',
    ]);
    expect(fieldsOf((await call(token, 'GET', `/v1/programs/${program.id}?at=yesterday`)).response)).toEqual(['query.at']);
    expect(fieldsOf((await call(token, 'GET', `/v1/programs/${program.id}?on=2020-01-01`)).response)).toEqual(['query.on']);
    expect(await written(clinic.id)).toEqual(before);
    // A policy with the 24-hour rule off may name no triggers.
    const off = await call(token, 'PUT', url, fullPolicy({ twentyFourHourRule: false, twentyFourHourTriggers: [] }), { 'if-match': '"1"' });
    expect(off.response.json()).toMatchObject({ version: 2, twentyFourHourRule: false, twentyFourHourTriggers: [] });
  });
});
