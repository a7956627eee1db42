import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { addDays, mergeAction, weekStartOf } from '../../src/modules/diary-cards/diary-cards.merge.js';
import { today } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, createProgram, createStaffMember, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Entry = {
  targets: Array<{ targetId: string; targetVersion: number; urge: number | null; action: boolean | number | null }>;
  emotions: Record<string, number>;
  substances: { alcoholDrinks: number | null; drugs: object[]; prn: object[]; prescribedTaken: boolean | null };
  skillsOverall: number | null;
  skillIds: string[];
  urgeToQuit: number | null;
  notes: string | null;
};
type Day = { date: string; entry: Entry; firstEnteredAt: string; lastEnteredAt: string; backFilled: boolean; eventIds: string[] };
type Card = { id: string; clientId: string; weekStart: string; version: number; days: Day[]; submittedDate?: string; eventIds?: string[] };

const selfHarm = { category: 'life_threatening', lifeThreateningSubtype: 'nssi', measure: 'urge_and_action', label: 'Cutting' };
const lunch = { category: 'quality_of_life', measure: 'count', label: 'Skipping lunch' };

async function setting() {
  const team = await clientWithCareTeam(app);
  const base = `/v1/clients/${team.client.id}/diary-cards`;
  const addTarget = async (body: object) => {
    const { response } = await call(team.therapist.token, 'POST', `/v1/clients/${team.client.id}/targets`, body);
    expect(response.statusCode).toBe(201);
    return (response.json() as { targetId: string }).targetId;
  };
  const submit = (date: string, body: object, token = team.therapist.token) => call(token, 'POST', `${base}/days/${date}`, body);
  return { ...team, base, addTarget, submit };
}

async function skill(clinicId: string, name: string) {
  const id = uuidv7();
  await query(
    sql`insert into skills (clinic_id, id, module, name, sort_order, standard) values (${clinicId}, ${id}, 'distress_tolerance', ${name}, 900, false)`,
  );
  return id;
}

const dayOf = (card: Card, date: string) => card.days.find((d) => d.date === date) as Day;
const eventsOf = (clientId: string) =>
  query<{ id: string; kind: string; source: string; diary_date: string; target_id: string; occurred_at: string; severity: string }>(
    sql`select id, kind, source, diary_date::text, target_id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as occurred_at, severity from clinical_events where client_id = ${clientId} order by id`,
  );

describe('week arithmetic', () => {
  it('finds the week start for Monday and Sunday weeks; a count beats a bare yes, a yes beats zero', () => {
    expect(weekStartOf('2024-05-15', 1)).toBe('2024-05-13');
    expect(weekStartOf('2024-05-13', 1)).toBe('2024-05-13');
    expect(weekStartOf('2024-05-15', 7)).toBe('2024-05-12');
    expect(weekStartOf('2024-05-12', 7)).toBe('2024-05-12');
    expect([mergeAction(true, 3), mergeAction(0, true), mergeAction(false, 0), mergeAction(null, 2)]).toEqual([3, true, false, 2]);
  });
});

describe('submitting a day', () => {
  it('starts the week card (201, ETag "1"), then merges a second entry by maximum (200, ETag "2")', async () => {
    const { clinic, client, therapist, base, addTarget, submit } = await setting();
    const cutting = await addTarget(selfHarm);
    const skipping = await addTarget(lunch);
    const [stop, tipp] = [await skill(clinic.id, 'Synthetic STOP'), await skill(clinic.id, 'Synthetic TIPP')];
    const date = today();
    const first = await submit(date, {
      targets: [
        { targetId: cutting, urge: 4, action: false },
        { targetId: skipping, urge: 1, action: 2 },
      ],
      emotions: { anger: 2, shame: 4 },
      substances: { alcoholDrinks: 3, drugs: [{ name: 'Synthetic-A', amount: '2 mg' }], prescribedTaken: true },
      skillsOverall: 5,
      skillIds: [stop],
      urgeToQuit: 1,
      notes: 'Morning was hard',
    });
    expect(first.response.statusCode).toBe(201);
    expect(first.response.headers.etag).toBe('"1"');
    const card1 = first.response.json() as Card;
    expect(card1).toMatchObject({ clientId: client.id, weekStart: weekStartOf(date, 1), version: 1, submittedDate: date, eventIds: [] });
    expect(await auditRecord(first.requestId)).toMatchObject({
      action: 'C',
      subtype: 'diary-entry',
      http_status: 201,
      resource_id: card1.id,
      data_category: 'diary-card',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
    });

    const second = await submit(date, {
      targets: [
        { targetId: cutting, urge: 2, action: true },
        { targetId: skipping, urge: 3, action: 1 },
      ],
      emotions: { anger: 5, shame: 1, joy: 1 },
      substances: {
        alcoholDrinks: 1,
        drugs: [{ name: 'synthetic-a', amount: '4 mg' }],
        prn: [{ name: 'Synthetic-B', amount: '1 tab' }],
        prescribedTaken: false,
      },
      skillsOverall: 3,
      skillIds: [tipp, stop],
      urgeToQuit: 4,
      notes: 'Evening was better',
    });
    expect(second.response.statusCode).toBe(200);
    expect(second.response.headers.etag).toBe('"2"');
    const entry = dayOf(second.response.json() as Card, date).entry;
    expect(entry).toEqual({
      targets: [
        { targetId: cutting, targetVersion: 1, urge: 4, action: true },
        { targetId: skipping, targetVersion: 1, urge: 3, action: 2 },
      ],
      emotions: { anger: 5, shame: 4, joy: 1 },
      substances: {
        alcoholDrinks: 3,
        drugs: [{ name: 'Synthetic-A', amount: '4 mg' }],
        prn: [{ name: 'Synthetic-B', amount: '1 tab' }],
        prescribedTaken: false,
      },
      skillsOverall: 5,
      skillIds: [stop, tipp],
      urgeToQuit: 4,
      notes: 'Morning was hard\n---\nEvening was better',
    });
    // The same note again is not appended twice.
    const third = await submit(date, { notes: 'Evening was better' });
    expect(dayOf(third.response.json() as Card, date).entry.notes).toBe('Morning was hard\n---\nEvening was better');

    const read = await call(therapist.token, 'GET', `${base}/${weekStartOf(date, 1)}`);
    expect(read.response.statusCode).toBe(200);
    expect(read.response.headers.etag).toBe('"3"');
    expect(await auditRecord(read.requestId)).toMatchObject({
      action: 'R',
      subtype: 'read',
      resource_id: card1.id,
      client_ids: [client.id],
    });
  });

  it('concurrent first entries for one week make one card: one 201, versions 1–5, every value merged', async () => {
    const { client, submit } = await setting();
    const replies = await Promise.all([1, 2, 3, 4, 5].map((n) => submit('2024-05-14', { skillsOverall: n, notes: `Entry ${n}` })));
    expect(replies.map((r) => r.response.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    const cards = await query<{ version: number }>(sql`select version from diary_cards where client_id = ${client.id}`);
    expect(cards).toEqual([{ version: 5 }]);
    const last = replies.map((r) => r.response.json() as Card).find((card) => card.version === 5) as Card;
    expect(dayOf(last, '2024-05-14').entry.skillsOverall).toBe(5);
    expect(dayOf(last, '2024-05-14').entry.notes?.split('\n---\n').sort()).toEqual(['Entry 1', 'Entry 2', 'Entry 3', 'Entry 4', 'Entry 5']);
  });

  it('an action with urge 0 is valid; nothing reported stays null, not zero', async () => {
    const { submit, addTarget } = await setting();
    const skipping = await addTarget(lunch);
    const { response } = await submit(today(), { targets: [{ targetId: skipping, urge: 0, action: true }] });
    expect(response.statusCode).toBe(201);
    const entry = dayOf(response.json() as Card, today()).entry;
    expect(entry.targets[0]).toMatchObject({ urge: 0, action: true });
    expect(entry).toMatchObject({ skillsOverall: null, urgeToQuit: null, notes: null, emotions: {} });
  });

  it('a day first entered more than a day late is back-filled, and stays so after a later merge', async () => {
    const { submit, base, therapist } = await setting();
    const late = addDays(today(), -3);
    const lateCard = (await submit(late, { skillsOverall: 2 })).response.json() as Card;
    expect(dayOf(lateCard, late).backFilled).toBe(true);
    const onTime = (await submit(today(), { skillsOverall: 2 })).response.json() as Card;
    expect(dayOf(onTime, today()).backFilled).toBe(false);
    const merged = (await submit(late, { skillsOverall: 6 })).response.json() as Card;
    expect(dayOf(merged, late)).toMatchObject({ backFilled: true, firstEnteredAt: dayOf(lateCard, late).firstEnteredAt });
    const listed = (await call(therapist.token, 'GET', base)).response.json() as {
      items: Array<{ weekStart: string; dayCount: number; backFilledDays: string[] }>;
    };
    const lateWeek = listed.items.find((c) => c.weekStart === weekStartOf(late, 1));
    expect(lateWeek?.backFilledDays).toEqual([late]);
    expect(listed.items.map((c) => c.weekStart)).toEqual([...new Set([weekStartOf(today(), 1), weekStartOf(late, 1)])]);
    expect(listed.items.reduce((n, c) => n + c.dayCount, 0)).toBe(2);
  });

  it("weeks start on the program's weekday: Sunday for a weekStartsOn 7 program; another weekday is a 400 naming weekStart", async () => {
    const { clinic } = await clientWithCareTeam(app);
    const therapist = await createStaffMember(clinic.id, ['therapist']);
    const token = tokenFor(app, therapist);
    const { program } = await createProgram(clinic.id, 'adult', { weekStartsOn: 7 });
    const client = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: program.id });
    const base = `/v1/clients/${client.id}/diary-cards`;
    const { response } = await call(token, 'POST', `${base}/days/2024-05-15`, { urgeToQuit: 2 });
    expect(response.json()).toMatchObject({ weekStart: '2024-05-12', days: [{ date: '2024-05-15', backFilled: true }] });
    expect((await call(token, 'GET', `${base}/2024-05-12`)).response.statusCode).toBe(200);
    for (const weekStart of ['2024-05-13', '2024-02-30', 'last-week']) {
      const problem = expectProblem((await call(token, 'GET', `${base}/${weekStart}`)).response, 400);
      expect(problem.errors?.map((e) => e.field)).toEqual(['weekStart']);
    }
    expectProblem((await call(token, 'GET', `${base}/2024-05-05`)).response, 404);
  });

  it("emotions follow the program's set: outside it is a 400 naming emotions.<name>; a changed set applies", async () => {
    const { clinic, client, submit } = await setting();
    const problem = expectProblem((await submit(today(), { emotions: { anger: 2, envy: 3, boredom: 1 } })).response, 400);
    expect(problem.errors?.map((e) => e.field)).toEqual(['emotions.envy', 'emotions.boredom']);
    const admin = await createStaffMember(clinic.id, ['admin']);
    const programUrl = `/v1/programs/${client.programId}`;
    const program = (await call(tokenFor(app, admin), 'GET', programUrl)).response.json() as { policy: Record<string, unknown> };
    const { version: _v, effectiveFrom: _e, createdBy: _c, createdAt: _a, ...settings } = program.policy;
    const changed = await call(
      tokenFor(app, admin),
      'PUT',
      `${programUrl}/policy`,
      { ...settings, diaryEmotions: ['envy', 'anger'] },
      {
        'if-match': '"1"',
      },
    );
    expect(changed.response.json()).toMatchObject({ version: 2, diaryEmotions: ['envy', 'anger'] });
    expect((await submit(today(), { emotions: { envy: 3 } })).response.statusCode).toBe(201);
    expectProblem((await submit(today(), { emotions: { joy: 3 } })).response, 400);
  });

  it('a future date is a 400 naming the date; nothing is written', async () => {
    const { client, submit } = await setting();
    const problem = expectProblem((await submit(addDays(today(), 2), { urgeToQuit: 1 })).response, 400);
    expect(problem.errors?.map((e) => e.field)).toEqual(['date']);
    expect(await query(sql`select 1 from diary_cards where client_id = ${client.id}`)).toEqual([]);
  });
});

describe('versions and replacing the card', () => {
  it('every submission and replacement is a version with its snapshot, oldest first', async () => {
    const { therapist, base, submit } = await setting();
    const [a, b, weekStart] = ['2024-05-14', '2024-05-15', '2024-05-13'];
    await submit(a, { urgeToQuit: 1 });
    await submit(b, { urgeToQuit: 2 });
    await submit(a, { urgeToQuit: 3 });
    const { response, requestId } = await call(therapist.token, 'GET', `${base}/${weekStart}/versions`);
    const items = (
      response.json() as { items: Array<{ version: number; change: string; changedDay: string; changedBy: string; days: object }> }
    ).items;
    expect(items.map((v) => [v.version, v.change, v.changedDay, v.changedBy])).toEqual([
      [1, 'day', a, therapist.id],
      [2, 'day', b, therapist.id],
      [3, 'day', a, therapist.id],
    ]);
    expect(items.map((v) => Object.fromEntries(Object.entries(v.days).map(([d, e]) => [d, (e as Entry).urgeToQuit])))).toEqual([
      { [a]: 1 },
      { [a]: 1, [b]: 2 },
      { [a]: 3, [b]: 2 },
    ]);
    expect(await auditRecord(requestId)).toMatchObject({ subtype: 'history', result_count: 3, data_category: 'diary-card' });
  });

  it('PUT needs If-Match (428, 412), replaces days without merging, keeps first entry times, may remove a day', async () => {
    const { therapist, base, submit } = await setting();
    const late = '2024-05-14';
    const weekStart = '2024-05-13';
    const url = `${base}/${weekStart}`;
    const created = (await submit(late, { urgeToQuit: 5, notes: 'Typo here' })).response.json() as Card;
    await submit('2024-05-15', { urgeToQuit: 2 });
    const body = { days: { [late]: { urgeToQuit: 1, notes: 'Corrected' }, '2024-05-16': { skillsOverall: 3 } } };
    expectProblem((await call(therapist.token, 'PUT', url, body)).response, 428);
    expectProblem((await call(therapist.token, 'PUT', url, body, { 'if-match': '"1"' })).response, 412);
    const { response, requestId } = await call(therapist.token, 'PUT', url, body, { 'if-match': '"2"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"3"');
    const card = response.json() as Card;
    expect(card.days.map((d) => [d.date, d.entry.urgeToQuit, d.entry.notes, d.backFilled])).toEqual([
      [late, 1, 'Corrected', true],
      ['2024-05-16', null, null, true],
    ]);
    expect(dayOf(card, late).firstEnteredAt).toBe(dayOf(created, late).firstEnteredAt);
    expect(await auditRecord(requestId)).toMatchObject({ action: 'U', resource_id: card.id, details: { removed: ['2024-05-15'] } });
    const versions = (await call(therapist.token, 'GET', `${url}/versions`)).response.json() as {
      items: Array<{ change: string; changedDay: string | null; days: Record<string, Entry> }>;
    };
    expect(versions.items.at(-1)).toMatchObject({ change: 'card', changedDay: null });
    expect(versions.items[1]?.days['2024-05-15']?.urgeToQuit).toBe(2);

    const outside = expectProblem(
      (await call(therapist.token, 'PUT', url, { days: { '2024-05-20': {} } }, { 'if-match': '"3"' })).response,
      400,
    );
    expect(outside.errors?.map((e) => e.field)).toEqual(['days.2024-05-20']);
    expectProblem((await call(therapist.token, 'PUT', `${base}/2024-05-06`, { days: {} }, { 'if-match': '"1"' })).response, 404);
  });
});

describe('automatic clinical events', () => {
  it('an NSSI action creates exactly one linked event; resubmitting or replacing never duplicates it', async () => {
    const { client, therapist, base, submit, addTarget } = await setting();
    const cutting = await addTarget(selfHarm);
    const date = addDays(today(), -1);
    const first = (await submit(date, { targets: [{ targetId: cutting, urge: 3, action: true }] })).response.json() as Card;
    const events = await eventsOf(client.id);
    expect(events).toEqual([
      {
        id: expect.any(String),
        kind: 'nssi',
        source: 'diary_card',
        diary_date: date,
        target_id: cutting,
        occurred_at: `${date}T12:00`,
        severity: 'moderate',
      },
    ]);
    expect(first.eventIds).toEqual([events[0]?.id]);
    const again = (await submit(date, { targets: [{ targetId: cutting, urge: 5, action: 2 }] })).response.json() as Card;
    expect(again.eventIds).toEqual([events[0]?.id]);
    const card = (await call(therapist.token, 'GET', `${base}/${again.weekStart}`)).response;
    await call(
      therapist.token,
      'PUT',
      `${base}/${again.weekStart}`,
      { days: { [date]: { targets: [{ targetId: cutting, action: 1 }] } } },
      {
        'if-match': String(card.headers.etag),
      },
    );
    expect(await eventsOf(client.id)).toHaveLength(1);
  });

  it('a suicide-attempt action creates one; an urge without action, or an action on a quality-of-life target, creates none', async () => {
    const { client, submit, addTarget } = await setting();
    const attempt = await addTarget({ ...selfHarm, lifeThreateningSubtype: 'suicide_attempt', label: 'Overdose' });
    const cutting = await addTarget(selfHarm);
    const skipping = await addTarget(lunch);
    const quiet = (
      await submit(today(), {
        targets: [
          { targetId: cutting, urge: 5, action: false },
          { targetId: attempt, urge: 4, action: 0 },
          { targetId: skipping, urge: 0, action: 4 },
        ],
      })
    ).response.json() as Card;
    expect(quiet.eventIds).toEqual([]);
    expect(await eventsOf(client.id)).toEqual([]);
    await submit(today(), { targets: [{ targetId: attempt, action: true }] });
    expect((await eventsOf(client.id)).map((e) => e.kind)).toEqual(['suicide_attempt']);
  });
});
