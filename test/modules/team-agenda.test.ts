import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agendaCategories } from '../../src/db/schema/index.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';
import { createAgendaItemRow, createMeetingRow, teamWithClients } from '../helpers/teams.js';

const app = await buildTestApp();
const call = caller(app);

async function setting() {
  const { clinic, admin } = await createClinic();
  const team = await teamWithClients(app, clinic.id, tokenFor(app, admin));
  const meeting = await createMeetingRow(team.team, '2026-03-10');
  return { clinic, ...team, meeting, url: `/v1/meetings/${meeting.id}/agenda` };
}

type Scheduled = { id: string; category: string; position: number; startsAtMinute: number; fits: boolean };

describe('agenda order', () => {
  it('takes categories in the default order, then the earliest request, then the id for exact ties', async () => {
    const { meeting, therapist, client, url } = await setting();
    const at = (minute: number) => new Date(Date.UTC(2026, 2, 9, 9, minute));
    const item = (category: (typeof agendaCategories)[number], minute: number, clientId: string | null = null) =>
      createAgendaItemRow(meeting, { requestedBy: therapist.id, category, requestedAt: at(minute), clientId, minutesRequested: 5 });
    const celebration = await item('celebration', 0);
    const consultLate = await item('consult', 30);
    const consultEarly = await item('consult', 10);
    const tieA = await item('client_life_threatening', 20, client.id);
    const tieB = await item('client_life_threatening', 20, client.id);
    const burnout = await item('therapist_burnout_motivation', 5);
    const { response, requestId } = await call(therapist.token, 'GET', url);
    expect(response.statusCode).toBe(200);
    const agenda = response.json();
    const [first, second] = [tieA.id, tieB.id].sort();
    expect(agenda.items.map((i: Scheduled) => i.id)).toEqual([first, second, burnout.id, consultEarly.id, consultLate.id, celebration.id]);
    expect(agenda.items.map((i: Scheduled) => i.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(agenda.categoryOrder).toEqual([...agendaCategories]);
    expect(await auditRecord(requestId)).toMatchObject({ action: 'R', subtype: 'search', client_ids: [client.id], result_count: 6 });
  });

  it("follows the team's own category order, the categories it leaves out in the default order", async () => {
    const { team, meeting, therapist, client, url } = await setting();
    const order = ['celebration', ...agendaCategories.filter((c) => c !== 'celebration')];
    // The team names only its first category; the rest follow in the default order.
    await query(sql`update teams set category_order = '{celebration}'::text[] where id = ${team.id}`);
    const ltb = await createAgendaItemRow(meeting, { requestedBy: therapist.id, clientId: client.id, category: 'client_life_threatening' });
    const party = await createAgendaItemRow(meeting, { requestedBy: therapist.id, category: 'celebration' });
    const agenda = (await call(therapist.token, 'GET', url)).response.json();
    expect(agenda.categoryOrder).toEqual(order);
    expect(agenda.items.map((i: Scheduled) => i.id)).toEqual([party.id, ltb.id]);
  });

  it('time-boxes by the duration less the opening: the first item that runs over and every one after it do not fit', async () => {
    const { meeting, therapist, url } = await setting();
    const minutes = [20, 20, 15, 5];
    const items = [];
    for (const [index, minutesRequested] of minutes.entries()) {
      items.push(
        await createAgendaItemRow(meeting, {
          requestedBy: therapist.id,
          category: 'consult',
          minutesRequested,
          requestedAt: new Date(Date.UTC(2026, 2, 9, 9, index)),
        }),
      );
    }
    const agenda = (await call(therapist.token, 'GET', url)).response.json();
    expect(agenda).toMatchObject({ durationMinutes: 60, openingMinutes: 10, availableMinutes: 50, requestedMinutes: 60, overMinutes: 10 });
    expect(agenda.items.map((i: Scheduled) => [i.startsAtMinute, i.fits])).toEqual([
      [10, true],
      [30, true],
      [50, false],
      // Five minutes would fit in the time left, but never ahead of the item before it.
      [65, false],
    ]);
    expect(agenda.doesNotFit).toEqual([items[2]?.id, items[3]?.id]);
    // Exactly full fits: a 10-minute third item ends at minute 60.
    await query(sql`update team_agenda_items set minutes_requested = 10 where id = ${items[2]?.id as string}`);
    const exact = (await call(therapist.token, 'GET', url)).response.json();
    expect(exact.items.map((i: Scheduled) => i.fits)).toEqual([true, true, true, false]);
    expect(exact.doesNotFit).toEqual([items[3]?.id]);
  });
});

describe('agenda items', () => {
  it('a member asks a behaviourally specific question; a client item names a client the team holds', async () => {
    const { therapist, client, clinic, url } = await setting();
    const body = {
      clientId: client.id,
      category: 'client_therapy_interfering',
      question: 'She arrives 20 minutes late every week; how do I raise it without her shutting down?',
      minutesRequested: 15,
      clarity: 'Clear to me; not yet to her.',
      obstacles: ['contingencies', 'cognitions'],
    };
    const { response, requestId } = await call(therapist.token, 'POST', url, body);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ ...body, requestedBy: therapist.id, status: 'open', carriedFromId: null, version: 1 });
    expect(await auditRecord(requestId)).toMatchObject({ action: 'C', resource_type: 'team-agenda-item', client_ids: [client.id] });

    const stranger = await createClientRecord(clinic.id);
    const cases: Array<[object, string]> = [
      [{ ...body, clientId: stranger.id }, 'clientId'],
      [{ ...body, clientId: undefined }, 'clientId'],
      [{ ...body, question: 'Help?' }, 'question'],
      [{ ...body, minutesRequested: 0 }, 'minutesRequested'],
      [{ ...body, obstacles: ['tiredness'] }, 'obstacles.0'],
    ];
    for (const [payload, field] of cases) {
      const refused = await call(therapist.token, 'POST', url, payload);
      expect(expectProblem(refused.response, 400).errors?.[0]?.field, JSON.stringify(payload)).toBe(field);
    }
    expect(await query(sql`select count(*)::int as n from team_agenda_items where meeting_id = ${response.json().meetingId}`)).toEqual([
      { n: 1 },
    ]);
  });

  it('records the outcome, plan and follow-up; a withdrawn item leaves the time-box', async () => {
    const { therapist, colleague, url } = await setting();
    const created = await call(colleague.token, 'POST', url, { category: 'admin', question: 'Who covers coaching over the holidays?' });
    const item = created.response.json();
    expect(item.minutesRequested).toBe(10);
    const done = await call(
      therapist.token,
      'PATCH',
      `${url}/${item.id}`,
      { status: 'discussed', outcome: 'Rota agreed.', plan: 'Lead circulates it.', followUpDue: '2026-03-17' },
      { 'if-match': '"1"' },
    );
    expect(done.response.json()).toMatchObject({ status: 'discussed', plan: 'Lead circulates it.', followUpDue: '2026-03-17', version: 2 });
    const other = (
      await call(colleague.token, 'POST', url, { category: 'celebration', question: 'Can we mark a client finishing stage 1?' })
    ).response.json();
    await call(colleague.token, 'PATCH', `${url}/${other.id}`, { status: 'withdrawn' }, { 'if-match': '"1"' });
    const agenda = (await call(therapist.token, 'GET', url)).response.json();
    expect(agenda.items.map((i: Scheduled) => i.id)).toEqual([item.id]);
    expect(agenda.closed.map((i: { id: string; status: string }) => [i.id, i.status])).toEqual([[other.id, 'withdrawn']]);
    expectProblem(
      (await call(therapist.token, 'PATCH', `${url}/${item.id}`, { status: 'carried_over' }, { 'if-match': '"2"' })).response,
      400,
    );
  });

  it('outsiders and administrators neither read nor add items', async () => {
    const { outsider, adminToken, url } = await setting();
    expectProblem((await call(outsider.token, 'GET', url)).response, 403);
    expectProblem((await call(outsider.token, 'POST', url, { category: 'admin', question: 'Can I join this meeting?' })).response, 403);
    expectProblem((await call(adminToken, 'GET', url)).response, 403);
  });
});
