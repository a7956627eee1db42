import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, createProgram } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Item = { id: string; category: string; kind: string; source: string; severity: number; evidence: { date: string; value: unknown }[] };
type Agenda = { sessionId: string; computed: Item[]; final: Item[] | null; savedComputed: Item[] | null; version: number | null };

/** This session is on a Wednesday; the previous one a week before. Diary weeks start on Monday. */
const THIS = '2025-06-04T10:00:00.000Z';
const PREV = '2025-05-28T10:00:00.000Z';
/** The Monday of a day's week. */
const week = (day: string) => {
  const date = new Date(`${day}T00:00:00Z`);
  return new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
};
const days = (from: string, to: string) => {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d.toISOString().slice(0, 10) <= to; d = new Date(d.getTime() + 86_400_000)) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
};

type Rating = { targetId: string; urge?: number; action?: boolean | number };
type Entry = { targets?: Rating[]; urgeToQuit?: number; skillsOverall?: number };

async function setting(policy?: { agendaUrgeThreshold: number }) {
  const team = await clientWithCareTeam(app);
  const client = policy
    ? await createClientRecord(team.clinic.id, {
        primaryTherapistId: team.therapist.id,
        programId: (await createProgram(team.clinic.id, 'adult', policy)).program.id,
      })
    : team.client;
  const base = `/v1/clients/${client.id}`;
  const post = async (path: string, body: object) => {
    const { response } = await call(team.therapist.token, 'POST', `${base}/${path}`, body);
    expect(response.statusCode).toBe(201);
    return response.json() as { id: string; targetId: string };
  };
  const cards = new Map<string, string>();
  const day = async (date: string, entry: Entry = {}, backFilled = false) => {
    const weekStart = week(date);
    let cardId = cards.get(weekStart);
    if (!cardId) {
      cardId = uuidv7();
      cards.set(weekStart, cardId);
      await query(
        sql`insert into diary_cards (clinic_id, id, client_id, week_start) values (${team.clinic.id}, ${cardId}, ${client.id}, ${weekStart})`,
      );
    }
    const stored = {
      targets: (entry.targets ?? []).map((t) => ({ targetId: t.targetId, targetVersion: 1, urge: t.urge ?? 0, action: t.action ?? false })),
      emotions: {},
      substances: { alcoholDrinks: null, drugs: [], prn: [], prescribedTaken: null },
      skillsOverall: entry.skillsOverall ?? 5,
      skillIds: [],
      urgeToQuit: entry.urgeToQuit ?? 0,
      notes: null,
    };
    await query(sql`insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
      values (${team.clinic.id}, ${cardId}, ${date}, ${JSON.stringify(stored)}::jsonb, now(), now(), ${backFilled})`);
  };
  return {
    ...team,
    client,
    day,
    target: (category: string, label: string, extra: object = {}) =>
      post('targets', { category, measure: 'urge_and_action', label, ...extra }),
    selfHarm: (label: string) =>
      post('targets', { category: 'life_threatening', lifeThreateningSubtype: 'nssi', measure: 'urge_and_action', label }),
    event: (body: object) => post('events', { kind: 'nssi', severity: 'moderate', source: 'client_report', ...body }),
    session: (scheduledStart: string, extra: object = {}) =>
      post('sessions', { scheduledStart, durationMinutes: 50, type: 'regular', ...extra }),
    chain: (eventId: string) =>
      post('chain-analyses', {
        eventId,
        behaviourAt: '2025-04-01T20:00:00Z',
        problemBehaviour: 'Scratched arm (synthetic)',
        links: [{ type: 'thought', text: 'Nobody cares' }],
        completedIn: 'homework',
      }),
  };
}

async function agenda(token: string, sessionId: string) {
  const { response } = await call(token, 'GET', `/v1/sessions/${sessionId}/agenda`);
  expect(response.statusCode).toBe(200);
  return { agenda: response.json() as Agenda, etag: response.headers.etag };
}
const ids = (items: Item[]) => items.map((item) => item.id);

describe('computing the agenda', () => {
  it('orders by hierarchy; actions before urges, then severity, then recency; only the window and the threshold count', async () => {
    const s = await setting();
    const previous = await s.session(PREV, { attendance: 'attended', homework: 'Practise TIPP twice (synthetic)' });
    const current = await s.session(THIS);
    const [a, b, c, d, e, f] = [
      await s.selfHarm('Cutting'),
      await s.selfHarm('Scratching'),
      await s.selfHarm('Hitting walls'),
      await s.target('life_threatening', 'Suicidal urges', { lifeThreateningSubtype: 'suicidal_ideation_communication' }),
      await s.target('life_threatening', 'Overdose urges', { lifeThreateningSubtype: 'other_imminent' }),
      await s.target('life_threatening', 'Burning urges', { lifeThreateningSubtype: 'other_imminent' }),
    ].map((t) => t.targetId);
    const ti = (await s.target('therapy_interfering', 'Skipping group', { therapyInterferingActor: 'client' })).targetId;
    const qol = (await s.target('quality_of_life', 'Skipping lunch')).targetId;
    const entries: Record<string, Entry> = {
      '2025-05-27': { targets: [{ targetId: b as string, action: 5 }], skillsOverall: 7 }, // before the window
      '2025-05-29': {
        targets: [
          { targetId: a as string, action: true },
          { targetId: d as string, urge: 5 },
        ],
        skillsOverall: 1,
      },
      '2025-05-30': {
        targets: [
          { targetId: b as string, action: 1 },
          { targetId: e as string, urge: 4 },
        ],
        skillsOverall: 2,
      },
      '2025-05-31': {
        targets: [
          { targetId: a as string, action: 1 },
          { targetId: f as string, urge: 3 },
          { targetId: ti, action: true },
        ],
      },
      '2025-06-02': {
        targets: [
          { targetId: c as string, action: true },
          { targetId: qol, action: 2 },
        ],
        skillsOverall: 0,
      },
    };
    for (const date of days('2025-05-26', '2025-06-03')) await s.day(date, entries[date] ?? { skillsOverall: 1 });

    const { agenda: result, etag } = await agenda(s.therapist.token, current.id);
    expect(etag).toBeUndefined();
    expect(result).toMatchObject({ sessionId: current.id, final: null, savedComputed: null, version: null });
    expect(ids(result.computed)).toEqual([
      `lt:action:${a}`,
      `lt:action:${c}`, // tie with b on severity (one action): the more recent first
      `lt:action:${b}`, // the five actions on 05-27 are before the window
      `lt:urge:${d}`,
      `lt:urge:${e}`, // urge 3 on f is below the default threshold of 4
      `ti:action:${ti}`,
      `qol:action:${qol}`,
      'sk:low-skills',
      `sk:homework:${previous.id}`,
    ]);
    expect(result.computed[0]).toMatchObject({
      category: 'life_threatening',
      kind: 'action',
      source: 'diary_card',
      targetId: a,
      severity: 2,
      evidence: [
        { date: '2025-05-29', value: true },
        { date: '2025-05-31', value: 1 },
      ],
      lastAt: '2025-05-31T00:00:00.000Z',
    });
    expect(result.computed[3]).toMatchObject({ kind: 'urge', severity: 5, evidence: [{ date: '2025-05-29', value: 5 }] });
    expect(result.computed.at(-1)).toMatchObject({
      source: 'session',
      evidence: [{ date: '2025-05-28', value: 'Practise TIPP twice (synthetic)' }],
    });
  });

  it('an open self-harm event without a chain analysis is due until an analysis links it; events in the window show', async () => {
    const s = await setting();
    await s.session(PREV, { attendance: 'attended' });
    const current = await s.session(THIS);
    const old = await s.event({ occurredAt: '2025-04-01T20:00:00Z', severity: 'low' });
    const recent = await s.event({ kind: 'suicide_attempt', occurredAt: '2025-05-30T22:00:00Z', severity: 'high' });
    await s.event({ kind: 'ed_visit', occurredAt: '2025-05-31T01:00:00Z', severity: 'high' });

    const before = (await agenda(s.therapist.token, current.id)).agenda.computed.filter((i) => i.category === 'life_threatening');
    expect(ids(before)).toEqual([`lt:chain-analysis-due:${recent.id}`, `lt:event:${recent.id}`, `lt:chain-analysis-due:${old.id}`]);
    expect(before[2]).toMatchObject({ kind: 'chain-analysis-due', source: 'chain_analysis', eventId: old.id, severity: 1 });
    expect(before[1]).toMatchObject({
      kind: 'event',
      source: 'event',
      severity: 3,
      evidence: [{ date: '2025-05-30', value: 'suicide_attempt' }],
    });

    await s.chain(old.id);
    const after = (await agenda(s.therapist.token, current.id)).agenda.computed;
    expect(ids(after)).not.toContain(`lt:chain-analysis-due:${old.id}`);
    expect(ids(after)).toContain(`lt:chain-analysis-due:${recent.id}`);
  });

  it('card missing, partial and back-filled, missed and late sessions, urge to quit: therapy-interfering in order', async () => {
    const s = await setting();
    await s.session(PREV, { attendance: 'late', lateMinutes: 10 });
    await s.session('2025-05-30T10:00:00Z', { attendance: 'no_show' });
    await s.session('2025-06-01T10:00:00Z', { attendance: 'cancelled_by_client', noticeHours: 2 });
    const current = await s.session(THIS);
    await s.day('2025-06-02', { urgeToQuit: 4 }, true);

    const computed = (await agenda(s.therapist.token, current.id)).agenda.computed;
    expect(computed.every((i) => i.category === 'therapy_interfering')).toBe(true);
    expect(computed.map((i) => i.kind)).toEqual([
      'missed-session', // two
      'card-back-filled', // one each from here: most recent first, then by id
      'card-partial',
      'late-session',
      'card-missing',
      'urge-to-quit', // urges last
    ]);
    expect(computed[0]?.evidence).toEqual([
      { date: '2025-05-30', value: 'no_show' },
      { date: '2025-06-01', value: 'cancelled_by_client' },
    ]);
    expect(computed[2]?.evidence).toEqual([{ date: '2025-06-02', value: 1 }]);
    expect(computed[3]?.evidence).toEqual([{ date: '2025-05-28', value: 10 }]);
    expect(computed[4]?.evidence).toEqual([{ date: '2025-05-26', value: 'missing' }]);
  });

  it("the urge threshold is the program's; without an earlier attended session the window is the last 28 days", async () => {
    const s = await setting({ agendaUrgeThreshold: 3 });
    const current = await s.session(THIS);
    const target = (await s.selfHarm('Cutting')).targetId;
    for (const date of days('2025-05-12', '2025-06-03')) {
      await s.day(date, date === '2025-06-01' ? { targets: [{ targetId: target, urge: 3 }], urgeToQuit: 3 } : {});
    }
    const { agenda: result } = await agenda(s.therapist.token, current.id);
    expect(ids(result.computed)).toEqual([`lt:urge:${target}`, 'ti:urge-to-quit']);
    expect(result).toMatchObject({ window: { from: '2025-05-12T00:00:00.000Z', to: THIS } });
  });
});

describe('saving the final agenda', () => {
  async function withAgenda() {
    const s = await setting();
    await s.session(PREV, { attendance: 'attended', homework: 'Diary card daily (synthetic)' });
    const current = await s.session(THIS);
    const target = (await s.selfHarm('Cutting')).targetId;
    for (const date of days('2025-05-26', '2025-06-03')) await s.day(date, { targets: [{ targetId: target, action: true }] });
    const url = `/v1/sessions/${current.id}/agenda`;
    const { agenda: first } = await agenda(s.therapist.token, current.id);
    return { ...s, current, url, computedIds: ids(first.computed) };
  }
  const agendaRow = async (sessionId: string) =>
    (await query<{ version: number }>(sql`select version from session_agendas where session_id = ${sessionId}`))[0];

  it('keeps the computed and the final order, with added items last; If-Match 428/412 once saved', async () => {
    const { therapist, current, url, computedIds } = await withAgenda();
    expect(computedIds).toHaveLength(2);
    const [action, homework] = computedIds as [string, string];
    const body = { order: [homework, action], added: [{ category: 'quality_of_life', title: 'Housing letter', note: 'Synthetic note' }] };
    const stale = await call(therapist.token, 'PUT', url, body, { 'if-match': '"1"' });
    expectProblem(stale.response, 412);

    const { response, requestId } = await call(therapist.token, 'PUT', url, body);
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    const saved = response.json() as Agenda;
    expect(saved.version).toBe(1);
    expect(ids(saved.savedComputed ?? [])).toEqual(computedIds);
    expect(ids(saved.final ?? []).slice(0, 2)).toEqual([homework, action]);
    expect(saved.final?.[2]).toMatchObject({
      category: 'quality_of_life',
      kind: 'therapist',
      source: 'therapist',
      title: 'Housing letter',
      note: 'Synthetic note',
    });
    expect(saved.final?.[2]?.id).toMatch(/^therapist:[0-9a-f-]{36}$/);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      outcome: 'success',
      resource_id: current.id,
      data_category: 'session-agenda',
    });

    const read = await agenda(therapist.token, current.id);
    expect(read.etag).toBe('"1"');
    expect(read.agenda.final).toEqual(saved.final);
    expect(ids(read.agenda.computed)).toEqual(computedIds);

    expectProblem((await call(therapist.token, 'PUT', url, { order: [action], added: [] })).response, 428);
    expectProblem((await call(therapist.token, 'PUT', url, { order: [action], added: [] }, { 'if-match': '"7"' })).response, 412);
    const second = await call(therapist.token, 'PUT', url, { order: [action] }, { 'if-match': '"1"' });
    expect(second.response.statusCode).toBe(200);
    expect(second.response.headers.etag).toBe('"2"');
    expect(second.response.json()).toMatchObject({ version: 2, final: [{ id: action }] });
    expect((await agendaRow(current.id))?.version).toBe(2);
  });

  it('an unknown or repeated id in order, or a bad added item, is a 400 naming the field, and nothing is saved', async () => {
    const { therapist, current, url, computedIds } = await withAgenda();
    const cases: Array<[object, string]> = [
      [{ order: ['lt:action:not-on-this-agenda'] }, 'order'],
      [{ order: [computedIds[0], computedIds[0]] }, 'order'],
      [{ order: [], added: [{ category: 'skills', title: '' }] }, 'added'],
      [{ order: [], added: [{ category: 'skills', title: 'x', note: 'n'.repeat(2001) }] }, 'added'],
      [{ order: [], added: [{ category: 'life_interfering', title: 'x' }] }, 'added'],
      [{ order: [], extra: true }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const { response } = await call(therapist.token, 'PUT', url, body);
      expectProblem(response, 400);
      expect(JSON.stringify(response.json())).toContain(field);
    }
    expect(await agendaRow(current.id)).toBeUndefined();
  });
});

describe('access', () => {
  it('primary therapist only: others 403, another clinic 404, every call audited with the client and data category', async () => {
    const s = await setting();
    const current = await s.session(THIS);
    const url = `/v1/sessions/${current.id}/agenda`;
    const read = await call(s.therapist.token, 'GET', url);
    expect(read.response.statusCode).toBe(200);
    expect(await auditRecord(read.requestId)).toMatchObject({
      action: 'R',
      outcome: 'success',
      client_ids: [s.client.id],
      data_category: 'session-agenda',
      resource_id: current.id,
    });
    for (const who of [s.colleague, s.admin, s.compliance]) {
      for (const [method, body] of [
        ['GET', undefined],
        ['PUT', { order: [] }],
      ] as const) {
        const { response, requestId } = await call(who.token, method, url, body);
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({
          outcome: 'denied',
          http_status: 403,
          // The therapist passes the role rule and is refused on the client; the others never reach it.
          client_ids: who === s.colleague ? [s.client.id] : [],
          data_category: 'session-agenda',
        });
      }
    }
    const other = await clientWithCareTeam(app);
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { order: [] }],
    ] as const) {
      const { response, requestId } = await call(other.therapist.token, method, url, body);
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ http_status: 404, client_ids: [] });
    }
    expect(await query(sql`select 1 from session_agendas where session_id = ${current.id}`)).toEqual([]);
  });
});
