import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { createClinic, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';
import { createAgendaItemRow, createMeetingRow, teamWithClients } from '../helpers/teams.js';

const app = await buildTestApp();
const call = caller(app);

async function setting(timeZone = 'UTC') {
  const { clinic, admin } = await createClinic();
  await query(sql`update clinics set time_zone = ${timeZone} where id = ${clinic.id}`);
  return { clinic, ...(await teamWithClients(app, clinic.id, tokenFor(app, admin))) };
}

const meetingsUrl = (teamId: string) => `/v1/teams/${teamId}/meetings`;

describe('creating a meeting', () => {
  it('a member creates it; without an earlier meeting the pre-fill looks at the week before; audited', async () => {
    const { team, therapist } = await setting();
    const { response, requestId } = await call(therapist.token, 'POST', meetingsUrl(team.id), { date: '2026-03-10' });
    expect(response.statusCode, response.body).toBe(201);
    const meeting = response.json();
    expect(meeting).toMatchObject({
      teamId: team.id,
      date: '2026-03-10',
      durationMinutes: 60,
      attendance: [],
      agreementRead: null,
      prefillSince: '2026-03-03T00:00:00.000Z',
      carriedOver: 0,
      proposals: expect.any(Number),
      version: 1,
      createdBy: therapist.id,
    });
    expect(response.headers.location).toBe(`/v1/meetings/${meeting.id}`);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      resource_type: 'team-meeting',
      resource_id: meeting.id,
      data_category: 'team-meeting',
      access_basis: { relationship: `team-member:${team.id}` },
      details: expect.objectContaining({ date: '2026-03-10', previousMeetingId: null, carriedOver: 0 }),
    });
    const again = await call(therapist.token, 'POST', meetingsUrl(team.id), { date: '2026-03-10' });
    expectProblem(again.response, 409);
  });

  it("starts the pre-fill at the previous meeting's local midnight (New York, after the DST change)", async () => {
    const { team, therapist } = await setting('America/New_York');
    await createMeetingRow(team, '2026-03-03');
    await createMeetingRow(team, '2026-02-24');
    const { response } = await call(therapist.token, 'POST', meetingsUrl(team.id), { date: '2026-03-10', durationMinutes: 90 });
    expect(response.json()).toMatchObject({ prefillSince: '2026-03-03T05:00:00.000Z', durationMinutes: 90 });
    // Out of order: a meeting between the two looks back to 24 February.
    const between = await call(therapist.token, 'POST', meetingsUrl(team.id), { date: '2026-02-27' });
    expect(between.response.json()).toMatchObject({ prefillSince: '2026-02-24T05:00:00.000Z' });
  });

  it('only current members create or read meetings', async () => {
    const { team, outsider, adminToken } = await setting();
    const refused = await call(outsider.token, 'POST', meetingsUrl(team.id), { date: '2026-03-10' });
    expect(expectProblem(refused.response, 403).detail).toMatch(/current members/);
    expect(await auditRecord(refused.requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'not-team-member' });
    expectProblem((await call(adminToken, 'GET', meetingsUrl(team.id))).response, 403);
  });

  it('lists meetings newest first with a cursor and date range', async () => {
    const { team, lead } = await setting();
    for (const date of ['2026-03-03', '2026-03-10', '2026-03-17', '2026-03-24']) await createMeetingRow(team, date);
    const first = (await call(lead.token, 'GET', `${meetingsUrl(team.id)}?limit=2`)).response.json();
    expect(first.items.map((m: { date: string }) => m.date)).toEqual(['2026-03-24', '2026-03-17']);
    const second = (await call(lead.token, 'GET', `${meetingsUrl(team.id)}?limit=2&cursor=${first.nextCursor}`)).response.json();
    expect(second.items.map((m: { date: string }) => m.date)).toEqual(['2026-03-10', '2026-03-03']);
    expect(second.nextCursor).toBeNull();
    const ranged = (await call(lead.token, 'GET', `${meetingsUrl(team.id)}?from=2026-03-10&to=2026-03-17`)).response.json();
    expect(ranged.items.map((m: { date: string }) => m.date)).toEqual(['2026-03-17', '2026-03-10']);
  });
});

describe('carry-over', () => {
  it("moves the previous meeting's open items with their priority; discussed and withdrawn ones stay", async () => {
    const { team, therapist, colleague, client } = await setting();
    const previous = await createMeetingRow(team, '2026-03-03');
    const early = new Date('2026-03-01T09:00:00Z');
    const open = await createAgendaItemRow(previous, {
      requestedBy: therapist.id,
      clientId: client.id,
      category: 'client_therapy_interfering',
      requestedAt: early,
    });
    const openTeam = await createAgendaItemRow(previous, { requestedBy: colleague.id, category: 'team_interfering' });
    const discussed = await createAgendaItemRow(previous, { requestedBy: colleague.id, category: 'admin' });
    const withdrawn = await createAgendaItemRow(previous, { requestedBy: colleague.id, category: 'celebration' });
    await query(sql`update team_agenda_items set status = 'discussed' where id = ${discussed.id}`);
    await query(sql`update team_agenda_items set status = 'withdrawn' where id = ${withdrawn.id}`);

    const { response, requestId } = await call(therapist.token, 'POST', meetingsUrl(team.id), { date: '2026-03-10' });
    expect(response.json()).toMatchObject({ carriedOver: 2 });
    const meeting = response.json();
    const agenda = (await call(therapist.token, 'GET', `/v1/meetings/${meeting.id}/agenda`)).response.json();
    expect(agenda.items.map((item: Record<string, unknown>) => [item.carriedFromId, item.category, item.requestedAt, item.status])).toEqual(
      [
        [open.id, 'client_therapy_interfering', early.toISOString(), 'open'],
        [openTeam.id, 'team_interfering', openTeam.requestedAt.toISOString(), 'open'],
      ],
    );
    const statuses = await query(sql`select id, status from team_agenda_items where meeting_id = ${previous.id} order by id`);
    expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({
      [open.id]: 'carried_over',
      [openTeam.id]: 'carried_over',
      [discussed.id]: 'discussed',
      [withdrawn.id]: 'withdrawn',
    });
    const record = await auditRecord(requestId);
    expect(record.client_ids).toContain(client.id);

    const stale = await call(
      therapist.token,
      'PATCH',
      `/v1/meetings/${previous.id}/agenda/${open.id}`,
      { status: 'discussed' },
      { 'if-match': '"2"' },
    );
    expect(expectProblem(stale.response, 409).detail).toMatch(/carried over/);
  });

  it('does not empty a meeting that has not happened yet when the one after it is planned', async () => {
    const { team, therapist } = await setting();
    const upcoming = await createMeetingRow(team, '2999-03-03');
    await createAgendaItemRow(upcoming, { requestedBy: therapist.id, category: 'admin' });
    const { response } = await call(therapist.token, 'POST', meetingsUrl(team.id), { date: '2999-03-10' });
    expect(response.json()).toMatchObject({ carriedOver: 0 });
    expect(await query(sql`select status from team_agenda_items where meeting_id = ${upcoming.id}`)).toEqual([{ status: 'open' }]);
  });
});

describe('the meeting record', () => {
  it('members record attendance, the agreement read, observer notes and minutes; only the lead assigns roles', async () => {
    const { team, lead, therapist, colleague, outsider } = await setting();
    const meeting = await createMeetingRow(team, '2026-03-10');
    const url = `/v1/meetings/${meeting.id}`;
    const record = {
      attendance: [
        { staffId: lead.id, status: 'present' },
        { staffId: therapist.id, status: 'late', lateMinutes: 7 },
        { staffId: colleague.id, status: 'absent' },
      ],
      agreementRead: 'phenomenological_empathy',
      observerNotes: 'Bell rung once for a judgmental description; repaired.',
      minutes: 'Synthetic minutes.',
    };
    const saved = await call(therapist.token, 'PATCH', url, record, { 'if-match': '"1"' });
    expect(saved.response.statusCode, saved.response.body).toBe(200);
    expect(saved.response.json()).toMatchObject({
      ...record,
      attendance: [
        { staffId: lead.id, status: 'present', lateMinutes: null },
        { staffId: therapist.id, status: 'late', lateMinutes: 7 },
        { staffId: colleague.id, status: 'absent', lateMinutes: null },
      ],
      version: 2,
    });
    expectProblem((await call(therapist.token, 'PATCH', url, { minutes: 'Lost update' }, { 'if-match': '"1"' })).response, 412);

    const roles = { meetingLeaderId: colleague.id, observerId: therapist.id };
    const byMember = await call(therapist.token, 'PATCH', url, roles, { 'if-match': '"2"' });
    expect(await auditRecord(byMember.requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'roles-lead-only' });
    const outsiderRole = await call(lead.token, 'PATCH', url, { noteTakerId: outsider.id }, { 'if-match': '"2"' });
    expect(expectProblem(outsiderRole.response, 400).errors?.[0]?.field).toBe('noteTakerId');
    const byLead = await call(lead.token, 'PATCH', url, roles, { 'if-match': '"2"' });
    expect(byLead.response.json()).toMatchObject({ ...roles, mindfulnessLeaderId: null, noteTakerId: null, version: 3 });
  });

  it('refuses attendance of a non-member, a repeated member and lateness without minutes — naming the entry', async () => {
    const { team, therapist, outsider } = await setting();
    const meeting = await createMeetingRow(team, '2026-03-10');
    const url = `/v1/meetings/${meeting.id}`;
    const cases: Array<[object[], string]> = [
      [[{ staffId: outsider.id, status: 'present' }], 'attendance.0.staffId'],
      [
        [
          { staffId: therapist.id, status: 'present' },
          { staffId: therapist.id, status: 'absent' },
        ],
        'attendance.1.staffId',
      ],
      [[{ staffId: therapist.id, status: 'late' }], 'attendance.0.lateMinutes'],
      [[{ staffId: therapist.id, status: 'present', lateMinutes: 5 }], 'attendance.0.lateMinutes'],
    ];
    for (const [attendance, field] of cases) {
      const { response } = await call(therapist.token, 'PATCH', url, { attendance }, { 'if-match': '"1"' });
      expect(expectProblem(response, 400).errors?.[0]?.field).toBe(field);
    }
    expect(await query(sql`select version, attendance from team_meetings where id = ${meeting.id}`)).toEqual([
      { version: 1, attendance: [] },
    ]);
  });
});
