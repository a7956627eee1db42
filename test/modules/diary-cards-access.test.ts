import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { addDays } from '../../src/modules/diary-cards/diary-cards.merge.js';
import { today } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller, type Method } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

const WEEK = '2024-05-13';
const DAY = '2024-05-14';

/** A client with one submitted day, and every route of the module as [method, url, body?, headers?]. */
async function setting() {
  const team = await clientWithCareTeam(app);
  const base = `/v1/clients/${team.client.id}/diary-cards`;
  const { response } = await call(team.therapist.token, 'POST', `${base}/days/${DAY}`, { urgeToQuit: 2 });
  expect(response.statusCode).toBe(201);
  const routes: Array<[Method, string, object?, Record<string, string>?]> = [
    ['GET', base],
    ['GET', `${base}/${WEEK}`],
    ['GET', `${base}/${WEEK}/versions`],
    ['POST', `${base}/days/${DAY}`, { urgeToQuit: 4 }],
    ['PUT', `${base}/${WEEK}`, { days: {} }, { 'if-match': '"1"' }],
  ];
  return { ...team, base, routes };
}

const cardState = async (clientId: string) =>
  query(sql`select c.version, d.day::text, d.entry from diary_cards c left join diary_days d on d.card_id = c.id
            where c.client_id = ${clientId} order by d.day`);

describe('who may see and write diary cards', () => {
  it('an unrelated therapist gets 403 on every route, audited with the client and the diary-card category; nothing changes', async () => {
    const { client, colleague, routes } = await setting();
    const before = await cardState(client.id);
    for (const [method, url, body, headers] of routes) {
      const { response, requestId } = await call(colleague.token, method, url, body, headers);
      expectProblem(response, 403);
      expect(await auditRecord(requestId), `${method} ${url}`).toMatchObject({
        outcome: 'denied',
        denial_reason: 'no-relationship',
        client_ids: [client.id],
        data_category: 'diary-card',
      });
    }
    expect(await cardState(client.id)).toEqual(before);
  });

  it('administrators and compliance officers get 403 (the clinical record is not theirs)', async () => {
    const { admin, compliance, routes } = await setting();
    for (const member of [admin, compliance]) {
      for (const [method, url, body, headers] of routes) {
        const { response, requestId } = await call(member.token, method, url, body, headers);
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({
          outcome: 'denied',
          denial_reason: expect.stringMatching(/^role-not-permitted/),
        });
      }
    }
  });

  it('a clinician with a break-glass grant may read and write; the basis names the grant', async () => {
    const { client, colleague, base } = await setting();
    const grant = await call(colleague.token, 'POST', '/v1/break-glass', {
      clientId: client.id,
      reason: 'Synthetic crisis: primary therapist unreachable',
      minutes: 30,
    });
    const grantId = (grant.response.json() as { id: string }).id;
    const read = await call(colleague.token, 'GET', `${base}/${WEEK}`);
    expect(read.response.statusCode).toBe(200);
    expect(await auditRecord(read.requestId)).toMatchObject({
      access_basis: { rule: 'clients.clinical', relationship: 'break-glass', grantId },
      client_ids: [client.id],
    });
    const write = await call(colleague.token, 'POST', `${base}/days/${DAY}`, { urgeToQuit: 3 });
    expect(write.response.statusCode).toBe(200);
    expect(await auditRecord(write.requestId)).toMatchObject({ access_basis: { relationship: 'break-glass', grantId } });
  });

  it("another clinic's client is a 404 on every route, and its card is untouched", async () => {
    const { client, routes } = await setting();
    const { clinic: elsewhere } = await createClinic();
    const outsider = await createStaffMember(elsewhere.id, ['therapist']);
    const before = await cardState(client.id);
    for (const [method, url, body, headers] of routes) {
      const { response, requestId } = await call(tokenFor(app, outsider), method, url, body, headers);
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404 });
    }
    expect(await cardState(client.id)).toEqual(before);
  });

  it('the list audits every card returned and filters by week', async () => {
    const { client, therapist, base } = await setting();
    await call(therapist.token, 'POST', `${base}/days/2024-05-21`, { urgeToQuit: 1 });
    const all = await call(therapist.token, 'GET', base);
    expect((all.response.json() as { items: Array<{ weekStart: string }> }).items.map((c) => c.weekStart)).toEqual(['2024-05-20', WEEK]);
    expect(await auditRecord(all.requestId)).toMatchObject({ action: 'R', subtype: 'search', result_count: 2, client_ids: [client.id] });
    const later = (await call(therapist.token, 'GET', `${base}?from=2024-05-14`)).response.json() as { items: object[] };
    expect(later.items).toHaveLength(1);
  });
});

describe('bad input', () => {
  it.each([
    ['targets.0.urge', { targets: [{ targetId: uuidv7(), urge: 6 }] }],
    ['targets.0.action', { targets: [{ targetId: uuidv7(), action: 1001 }] }],
    ['targets.0.action', { targets: [{ targetId: uuidv7(), action: 'yes' }] }],
    ['targets.0.targetId', { targets: [{ targetId: 'cutting' }] }],
    ['emotions.anger', { emotions: { anger: 6 } }],
    ['substances.alcoholDrinks', { substances: { alcoholDrinks: 101 } }],
    ['substances.drugs.0.amount', { substances: { drugs: [{ name: 'Synthetic-A' }] } }],
    ['substances.prescribedTaken', { substances: { prescribedTaken: 'no' } }],
    ['skillsOverall', { skillsOverall: 8 }],
    ['urgeToQuit', { urgeToQuit: -1 }],
    ['notes', { notes: 'x'.repeat(4001) }],
    ['mood', { mood: 3 }],
    ['skillIds.0', { skillIds: [uuidv7()] }],
  ])('POST a day: 400 naming %s, audited, nothing written', async (field, body) => {
    const { client, therapist, base } = await setting();
    const before = await cardState(client.id);
    const { response, requestId } = await call(therapist.token, 'POST', `${base}/days/${DAY}`, body);
    const problem = expectProblem(response, 400);
    expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    expect(problem.detail).toContain(field);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 400 });
    expect(await cardState(client.id)).toEqual(before);
  });

  it('a target of another client, a retired one or one listed twice is a 400 naming it; a bad date names the date', async () => {
    const { clinic, client, therapist, base } = await setting();
    const other = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
    const target = { category: 'quality_of_life', measure: 'count', label: 'Skipping lunch' };
    const add = async (clientId: string) =>
      ((await call(therapist.token, 'POST', `/v1/clients/${clientId}/targets`, target)).response.json() as { targetId: string }).targetId;
    const [foreign, mine, retired] = [await add(other.id), await add(client.id), await add(client.id)];
    await call(therapist.token, 'POST', `/v1/clients/${client.id}/targets/${retired}/retire`, {});
    const before = await cardState(client.id);
    const cases: Array<[object, string[]]> = [
      [{ targets: [{ targetId: mine }, { targetId: foreign }] }, ['targets.1.targetId']],
      [{ targets: [{ targetId: retired, action: true }] }, ['targets.0.targetId']],
      [{ targets: [{ targetId: mine }, { targetId: mine }] }, ['targets.1.targetId']],
    ];
    for (const [body, fields] of cases) {
      const problem = expectProblem((await call(therapist.token, 'POST', `${base}/days/${DAY}`, body)).response, 400);
      expect(problem.errors?.map((e) => e.field)).toEqual(fields);
    }
    for (const date of ['2024-13-01', 'yesterday', addDays(today(), 3)]) {
      const problem = expectProblem((await call(therapist.token, 'POST', `${base}/days/${date}`, {})).response, 400);
      expect(problem.errors?.map((e) => e.field)).toEqual(['date']);
    }
    const put = await call(
      therapist.token,
      'PUT',
      `${base}/${WEEK}`,
      { days: { [DAY]: { urgeToQuit: 9 }, '2024-05-12': {} } },
      { 'if-match': '"1"' },
    );
    expect(expectProblem(put.response, 400).errors?.map((e) => e.field)).toEqual([`days.${DAY}.urgeToQuit`]);
    const named = await call(
      therapist.token,
      'PUT',
      `${base}/${WEEK}`,
      { days: { [DAY]: { emotions: { envy: 1 } } } },
      { 'if-match': '"1"' },
    );
    expect(expectProblem(named.response, 400).errors?.map((e) => e.field)).toEqual([`days.${DAY}.emotions.envy`]);
    const range = expectProblem((await call(therapist.token, 'GET', `${base}?from=2024-05-20&to=2024-05-13`)).response, 400);
    expect(range.errors?.map((e) => e.field)).toEqual(['to']);
    expect(await cardState(client.id)).toEqual(before);
  });
});
