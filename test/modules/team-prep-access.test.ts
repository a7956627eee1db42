import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/modules/diary-cards/diary-cards.merge.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, memberWithToken } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';
import { coachingContact, meetingWithAgenda, newYorkTeam } from '../helpers/team-prep.js';
import { addTeamMember, createAgendaItemRow, createMeetingRow } from '../helpers/teams.js';

const app = await buildTestApp();
const call = caller(app);

const prepUrl = (meetingId: string) => `/v1/meetings/${meetingId}/prep`;
const sorted = (ids: unknown) => [...(ids as string[])].sort();

describe('who may read a meeting’s prep packet', () => {
  it('a current member who is not the clients’ therapist: 200, audited once listing exactly the packet’s clients', async () => {
    const s = await meetingWithAgenda(app);
    const { response, requestId } = await call(s.lead.token, 'GET', prepUrl(s.meeting.id));
    expect(response.statusCode).toBe(200);
    const audit = await auditRecord(requestId);
    expect(audit).toMatchObject({
      outcome: 'success',
      http_status: 200,
      action: 'R',
      resource_type: 'team-prep-packet',
      resource_id: s.meeting.id,
      data_category: 'team-prep',
      result_count: 3,
      access_basis: { rule: 'meetings.prep', relationship: `team-member:${s.team.id}` },
    });
    // Not the client whose only items were withdrawn or carried over.
    expect(sorted(audit.client_ids)).toEqual(sorted([s.client.id, s.colleagueClient.id, s.sundayClient.id]));
    expect(audit.client_ids).not.toContain(s.withdrawnClient.id);
  });

  it('an outsider therapist and a member who has left: 403, audited as denied, naming no client', async () => {
    const s = await meetingWithAgenda(app);
    const former = await memberWithToken(app, s.clinic.id, ['therapist']);
    await addTeamMember(s.team, former.id, '2020-01-01', '2024-12-31');
    for (const token of [s.outsider.token, former.token]) {
      const { response, requestId } = await call(token, 'GET', prepUrl(s.meeting.id));
      expectProblem(response, 403);
      expect(response.body).not.toContain(s.client.id);
      const audit = await auditRecord(requestId);
      expect(audit).toMatchObject({ outcome: 'denied', http_status: 403, denial_reason: 'not-team-member', resource_id: s.meeting.id });
      expect(audit.client_ids).toEqual([]);
    }
  });

  it('a member who has not joined yet: 403', async () => {
    const s = await meetingWithAgenda(app);
    const future = await memberWithToken(app, s.clinic.id, ['therapist']);
    await addTeamMember(s.team, future.id, addDays(new Date().toISOString().slice(0, 10), 7));
    const { response } = await call(future.token, 'GET', prepUrl(s.meeting.id));
    expectProblem(response, 403);
  });

  it('an administrator and a compliance officer: 403 by role, audited as denied', async () => {
    const s = await meetingWithAgenda(app);
    const compliance = await memberWithToken(app, s.clinic.id, ['compliance']);
    for (const token of [s.admin.token, compliance.token]) {
      const { response, requestId } = await call(token, 'GET', prepUrl(s.meeting.id));
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'role-not-permitted:meetings.prep' });
    }
  });

  it("another clinic's meeting is a 404, audited once; an unknown id too", async () => {
    const mine = await newYorkTeam(app);
    const theirs = await meetingWithAgenda(app);
    for (const id of [theirs.meeting.id, '01900000-0000-7000-8000-000000000000']) {
      const { response, requestId } = await call(mine.lead.token, 'GET', prepUrl(id));
      expectProblem(response, 404);
      expect(response.body).not.toContain(theirs.client.id);
      const audit = await auditRecord(requestId);
      expect(audit).toMatchObject({ outcome: 'failure', http_status: 404 });
      expect(audit.client_ids).toEqual([]);
    }
  });

  it('a meeting with no items: an empty packet, audited with no clients', async () => {
    const s = await newYorkTeam(app);
    const meeting = await createMeetingRow(s.team, '2025-07-02');
    const { response, requestId } = await call(s.therapist.token, 'GET', prepUrl(meeting.id));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ period: { from: '2025-06-05', to: '2025-07-02' }, clients: [], otherItems: [] });
    const audit = await auditRecord(requestId);
    expect(audit).toMatchObject({ result_count: 0, details: { format: 'json', items: 0, clients: 0 } });
    expect(audit.client_ids).toEqual([]);
  });

  it('a packet of many clients answers with every one of them, in agenda order', async () => {
    const s = await newYorkTeam(app);
    const meeting = await createMeetingRow(s.team, '2025-07-09');
    const many = [];
    for (let i = 0; i < 25; i++) {
      const client = await createClientRecord(s.clinic.id, { primaryTherapistId: s.therapist.id, programId: s.program.id });
      await createAgendaItemRow(meeting, {
        requestedBy: s.therapist.id,
        clientId: client.id,
        requestedAt: new Date(Date.UTC(2025, 6, 1, i)),
      });
      many.push(client.id);
    }
    const { response, requestId } = await call(s.colleague.token, 'GET', prepUrl(meeting.id));
    expect(response.statusCode).toBe(200);
    const packet = response.json() as { clients: Array<{ client: { id: string }; diaryTrends: unknown[] }> };
    expect(packet.clients.map((c) => c.client.id)).toEqual(many);
    expect(packet.clients.every((c) => c.diaryTrends.length === 4)).toBe(true);
    expect(sorted((await auditRecord(requestId)).client_ids)).toEqual(sorted(many));
  });
});

describe("a client's team summary", () => {
  it('a team member reads the four weeks ending today: 200, audited as team-summary.read for the client', async () => {
    const s = await newYorkTeam(app);
    await coachingContact(s.clinic.id, s.client.id, s.therapist.id, {
      at: new Date().toISOString(),
      purpose: 'skills_generalization',
      minutes: 12,
    });
    const [{ today }] = (await query<{ today: string }>(sql`select ((now() at time zone 'America/New_York')::date)::text as today`)) as [
      { today: string },
    ];
    const { response, requestId } = await call(s.colleague.token, 'GET', `/v1/clients/${s.client.id}/team-summary`);
    expect(response.statusCode).toBe(200);
    const summary = response.json() as Record<string, unknown> & {
      diaryTrends: unknown[];
      coaching: { contacts: number; minutes: number };
    };
    expect(summary).toMatchObject({
      clientId: s.client.id,
      period: { from: addDays(today, -27), to: today },
      stage: null,
      episode: { status: 'referred' },
      events: [],
      lastChainAnalysis: null,
    });
    expect(summary.diaryTrends).toHaveLength(4);
    expect(summary.coaching).toMatchObject({ contacts: 1, minutes: 12 });
    expect(Object.keys(summary)).not.toContain('client');
    const audit = await auditRecord(requestId);
    expect(audit).toMatchObject({
      outcome: 'success',
      resource_type: 'team-summary',
      resource_id: s.client.id,
      result_count: 1,
      access_basis: { rule: 'clients.team-view', relationship: `team-member:${s.team.id}` },
    });
    expect(audit.client_ids).toEqual([s.client.id]);
  });

  it('an outsider therapist: 403, audited as denied for the client; an administrator: 403 by role', async () => {
    const s = await newYorkTeam(app);
    const url = `/v1/clients/${s.client.id}/team-summary`;
    const outsider = await call(s.outsider.token, 'GET', url);
    expectProblem(outsider.response, 403);
    const audit = await auditRecord(outsider.requestId);
    expect(audit).toMatchObject({ outcome: 'denied', denial_reason: 'no-relationship', resource_id: s.client.id });
    expect(audit.client_ids).toEqual([s.client.id]);
    const admin = await call(s.admin.token, 'GET', url);
    expectProblem(admin.response, 403);
  });

  it("another clinic's client is a 404", async () => {
    const mine = await newYorkTeam(app);
    const theirs = await newYorkTeam(app);
    const { response } = await call(mine.colleague.token, 'GET', `/v1/clients/${theirs.client.id}/team-summary`);
    expectProblem(response, 404);
  });
});
