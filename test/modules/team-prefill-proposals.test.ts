import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { createClinic, memberWithToken } from '../helpers/factories.js';
import { activateClient } from '../helpers/groups.js';
import { auditRecord } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';
import {
  insertChainAnalysis,
  insertContact,
  insertEvent,
  meetingSince,
  type Proposal,
  prefillCalls,
  prefillSetting,
  proposalOf,
} from '../helpers/team-prefill.js';
import { teamWithClients } from '../helpers/teams.js';

const app = await buildTestApp();
const { prefill, list, accept, dismiss } = prefillCalls(app);

/** A setting whose client and colleague's client each had one analysed NSSI event in the window: one proposal each. */
async function withBehaviour() {
  const setting = await prefillSetting(app);
  const { clinic, therapist } = setting;
  const event = async (clientId: string, at: string) => {
    const id = await insertEvent(clinic.id, clientId, at);
    await insertChainAnalysis(clinic.id, clientId, id, therapist.id);
    return id;
  };
  await event(setting.client.id, '2026-11-19T10:00:00.000Z');
  await event(setting.colleagueClient.id, '2026-11-20T10:00:00.000Z');
  return { ...setting, event };
}

const stored = async (id: string) =>
  (
    await query<{ version: number; status: string; evidence: { events: unknown[] } }>(
      sql`select version, status, evidence from team_agenda_proposals where id = ${id}`,
    )
  )[0];

describe('refreshing the pre-fill', () => {
  it('adds nothing twice, updates proposed ones, leaves dismissed ones and ones whose condition no longer holds', async () => {
    const { clinic, team, lead, therapist, client, colleagueClient, meeting, event } = await withBehaviour();
    const first = await prefill(lead.token, meeting.id);
    expect(first.items.map((p) => [p.clientId, p.kind, p.status])).toEqual(
      [client.id, colleagueClient.id].sort().map((id) => [id, 'life_threatening_behaviour', 'proposed']),
    );
    expect(await auditRecord(first.requestId)).toMatchObject({
      action: 'E',
      subtype: 'prefill',
      outcome: 'success',
      resource_type: 'team-meeting',
      resource_id: meeting.id,
      client_ids: expect.arrayContaining([client.id, colleagueClient.id]),
      access_basis: { rule: 'meetings.write', relationship: `team-member:${team.id}` },
      details: { since: '2026-11-18T00:00:00.000Z', proposed: 2 },
    });
    const mine = proposalOf(first.items, client.id, 'life_threatening_behaviour') as Proposal;
    const theirs = proposalOf(first.items, colleagueClient.id, 'life_threatening_behaviour') as Proposal;
    const reason = 'Discussed with the client’s therapist this week (synthetic)';
    expect((await dismiss(therapist.token, meeting.id, theirs.id, { reason })).response.statusCode).toBe(200);

    await event(client.id, '2026-11-21T10:00:00.000Z');
    await event(colleagueClient.id, '2026-11-22T10:00:00.000Z');
    const second = await prefill(therapist.token, meeting.id);
    expect(second.items).toHaveLength(2);
    expect(proposalOf(second.items, client.id, 'life_threatening_behaviour')).toMatchObject({
      id: mine.id,
      status: 'proposed',
      summary: '2 life-threatening behaviours since 2026-11-18 (NSSI on 2026-11-19; NSSI on 2026-11-21)',
    });
    expect(await stored(mine.id)).toMatchObject({ version: 2, status: 'proposed' });
    expect(proposalOf(second.items, colleagueClient.id, 'life_threatening_behaviour')).toMatchObject({
      id: theirs.id,
      status: 'dismissed',
      dismissReason: reason,
      summary: theirs.summary,
      evidence: theirs.evidence,
    });
    const [{ count } = { count: 0 }] = await query<{ count: number }>(
      sql`select count(*)::int as count from team_agenda_proposals where meeting_id = ${meeting.id}`,
    );
    expect(count).toBe(2);

    // Nothing new: no new version. Then the events are entered in error: the proposal stays as it was.
    await prefill(lead.token, meeting.id);
    expect(await stored(mine.id)).toMatchObject({ version: 2 });
    await query(sql`update clinical_events set entered_in_error_at = now(), entered_in_error_reason = 'Synthetic correction'
      where clinic_id = ${clinic.id} and client_id = ${client.id}`);
    const afterCorrection = await prefill(lead.token, meeting.id);
    expect(proposalOf(afterCorrection.items, client.id, 'life_threatening_behaviour')?.evidence.events).toHaveLength(2);

    const body = afterCorrection.response.json() as { prefilledAt: string; prefillSince: string };
    const [row] = await query<{ prefilled_at: string }>(sql`select prefilled_at from team_meetings where id = ${meeting.id}`);
    expect(new Date(body.prefilledAt).getTime()).toBe(new Date(row?.prefilled_at as string).getTime());
    expect(new Date(body.prefilledAt).getTime()).toBeGreaterThan(meeting.prefilledAt.getTime());
    expect(body.prefillSince).toBe('2026-11-18T00:00:00.000Z');
  });
});

describe('listing proposals', () => {
  it("orders by the team's category order, then client, then kind; filters by status; audits the clients listed", async () => {
    const { clinic, team, lead, therapist, client, colleagueClient, meeting } = await withBehaviour();
    await activateClient(clinic.id, client.id, '2026-01-05', '2026-12-05');
    for (const day of [18, 19, 20, 21, 22, 23]) {
      await insertContact(clinic.id, { clientId: colleagueClient.id, staffId: therapist.id, at: `2026-11-${day}T12:00:00.000Z` });
    }
    await insertContact(clinic.id, {
      clientId: client.id,
      staffId: therapist.id,
      at: '2026-11-19T11:00:00.000Z',
      rule: 'blocked_redirected',
    });
    await prefill(lead.token, meeting.id);
    const [a, b] = [client.id, colleagueClient.id].sort();
    const lifeThreatening = [...[a, b].map((id) => [id, 'life_threatening_behaviour']), [client.id, 'twenty_four_hour_rule']].sort((x, y) =>
      String(x[0]).localeCompare(String(y[0])),
    );
    const expected = [...lifeThreatening, [colleagueClient.id, 'coaching_use'], [client.id, 'contract_ending']];

    const { response, requestId } = await list(therapist.token, meeting.id);
    expect(response.statusCode).toBe(200);
    const items = (response.json() as { items: Proposal[] }).items;
    expect(items.map((p) => [p.clientId, p.kind])).toEqual(expected);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      subtype: 'search',
      resource_type: 'team-agenda-proposal',
      resource_id: meeting.id,
      client_ids: expect.arrayContaining([client.id, colleagueClient.id]),
      result_count: 5,
    });

    // A team names the categories it takes first; the others follow in the default order.
    await query(sql`update teams set category_order = '{consult}'::text[] where id = ${team.id}`);
    const reordered = (await list(therapist.token, meeting.id)).response.json() as { items: Proposal[] };
    expect(reordered.items.map((p) => [p.clientId, p.kind])).toEqual([[client.id, 'contract_ending'], ...lifeThreatening, expected[3]]);

    const contract = items[4] as Proposal;
    await dismiss(lead.token, meeting.id, contract.id, { reason: 'The renewal was agreed in session (synthetic)' });
    const dismissed = await list(therapist.token, meeting.id, 'dismissed');
    expect((dismissed.response.json() as { items: Proposal[] }).items.map((p) => p.id)).toEqual([contract.id]);
    expect(await auditRecord(dismissed.requestId)).toMatchObject({ client_ids: [client.id], result_count: 1 });
    const proposed = (await list(therapist.token, meeting.id, 'proposed')).response.json() as { items: Proposal[] };
    expect(proposed.items).toHaveLength(4);
    expectProblem((await list(therapist.token, meeting.id, 'open')).response, 400);
  });
});

describe('accepting a proposal', () => {
  it('creates an open agenda item from it, marks it accepted; a second accept and a dismiss afterwards are 409', async () => {
    const { therapist, client, meeting, lead } = await withBehaviour();
    const proposal = proposalOf((await prefill(lead.token, meeting.id)).items, client.id, 'life_threatening_behaviour') as Proposal;
    const { response, requestId } = await accept(therapist.token, meeting.id, proposal.id);
    expect(response.statusCode).toBe(201);
    const body = response.json() as { proposal: Proposal; agendaItemId: string };
    expect(body.proposal).toMatchObject({
      id: proposal.id,
      status: 'accepted',
      decidedBy: therapist.id,
      decidedAt: expect.any(String),
      agendaItemId: body.agendaItemId,
      dismissReason: null,
    });
    const [item] = await query(sql`select meeting_id, requested_by, client_id, category, question, minutes_requested, proposal_id, status,
      requested_at from team_agenda_items where id = ${body.agendaItemId}`);
    expect(item).toMatchObject({
      meeting_id: meeting.id,
      requested_by: therapist.id,
      client_id: client.id,
      category: 'client_life_threatening',
      question: `${proposal.summary} — what does the team need to consider?`,
      minutes_requested: 10,
      proposal_id: proposal.id,
      status: 'open',
      requested_at: expect.any(String),
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'accept',
      outcome: 'success',
      http_status: 201,
      resource_type: 'team-agenda-proposal',
      resource_id: proposal.id,
      client_ids: [client.id],
      details: { meetingId: meeting.id, kind: 'life_threatening_behaviour', agendaItemId: body.agendaItemId, minutesRequested: 10 },
    });

    const again = await accept(lead.token, meeting.id, proposal.id);
    expect(expectProblem(again.response, 409).detail).toBe('This proposal was already accepted');
    expect(await auditRecord(again.requestId)).toMatchObject({ outcome: 'failure', http_status: 409, client_ids: [client.id] });
    const late = await dismiss(lead.token, meeting.id, proposal.id, { reason: 'Too late to dismiss (synthetic)' });
    expect(expectProblem(late.response, 409).detail).toBe('This proposal was already accepted');
    const [{ count } = { count: 0 }] = await query<{ count: number }>(
      sql`select count(*)::int as count from team_agenda_items where proposal_id = ${proposal.id}`,
    );
    expect(count).toBe(1);
  });

  it('takes the question (trimmed) and minutes asked for, and validates them', async () => {
    const { therapist, colleagueClient, meeting } = await withBehaviour();
    const proposal = proposalOf((await prefill(therapist.token, meeting.id)).items, colleagueClient.id, 'life_threatening_behaviour');
    const id = (proposal as Proposal).id;
    const field = async (body: object) => expectProblem((await accept(therapist.token, meeting.id, id, body)).response, 400).errors;
    expect(await field({ question: '   ' })).toEqual([{ in: 'body', field: 'question', message: expect.any(String) }]);
    expect(await field({ question: 'x'.repeat(2001) })).toEqual([{ in: 'body', field: 'question', message: expect.any(String) }]);
    expect(await field({ minutesRequested: 121 })).toEqual([{ in: 'body', field: 'minutesRequested', message: expect.any(String) }]);
    expect(await field({ minutesRequested: 0 })).toEqual([{ in: 'body', field: 'minutesRequested', message: expect.any(String) }]);
    expect((await field({ status: 'accepted' }))?.[0]).toMatchObject({ in: 'body' });

    const question = 'How do we keep validating while holding the coaching limits?';
    const { response } = await accept(therapist.token, meeting.id, id, { question: `  ${question}  `, minutesRequested: 25 });
    expect(response.statusCode).toBe(201);
    const [item] = await query(sql`select question, minutes_requested from team_agenda_items where proposal_id = ${id}`);
    expect(item).toEqual({ question, minutes_requested: 25 });
  });
});

describe('dismissing a proposal', () => {
  it('records the reason and who dismissed it; requires a reason; a second dismiss is 409', async () => {
    const { therapist, colleague, client, meeting } = await withBehaviour();
    const proposal = proposalOf((await prefill(therapist.token, meeting.id)).items, client.id, 'life_threatening_behaviour') as Proposal;
    expect(expectProblem((await dismiss(colleague.token, meeting.id, proposal.id, {})).response, 400).errors?.[0]?.field).toBe('reason');
    expectProblem((await dismiss(colleague.token, meeting.id, proposal.id, { reason: '  ' })).response, 400);

    const reason = 'Covered by the chain analysis reviewed in individual therapy (synthetic)';
    const { response, requestId } = await dismiss(colleague.token, meeting.id, proposal.id, { reason: ` ${reason} ` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: proposal.id,
      status: 'dismissed',
      dismissReason: reason,
      decidedBy: colleague.id,
      decidedAt: expect.any(String),
      agendaItemId: null,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'dismiss',
      resource_id: proposal.id,
      client_ids: [client.id],
      details: { meetingId: meeting.id, kind: 'life_threatening_behaviour' },
    });
    const again = await dismiss(therapist.token, meeting.id, proposal.id, { reason });
    expect(expectProblem(again.response, 409).detail).toBe('This proposal was already dismissed');
  });
});

describe('who may see and decide proposals', () => {
  it('a proposal of another meeting is a 404 under this one', async () => {
    const { team, lead, client, meeting } = await withBehaviour();
    const other = await meetingSince(team, '2026-11-18', '2026-11-11T00:00:00.000Z');
    await insertEvent(team.clinicId, client.id, '2026-11-12T10:00:00.000Z');
    const foreign = proposalOf((await prefill(lead.token, other.id)).items, client.id, 'life_threatening_behaviour') as Proposal;
    const result = await accept(lead.token, meeting.id, foreign.id);
    expectProblem(result.response, 404);
    expect(await auditRecord(result.requestId)).toMatchObject({ outcome: 'failure', http_status: 404, resource_id: foreign.id });
    expectProblem((await dismiss(lead.token, meeting.id, foreign.id, { reason: 'Wrong meeting (synthetic)' })).response, 404);
  });

  it('refuses a therapist outside the team (403) and an administrator (403), each audited once', async () => {
    const { outsider, adminToken, lead, meeting } = await withBehaviour();
    const proposal = (await prefill(lead.token, meeting.id)).items[0] as Proposal;
    const calls = [
      () => list(outsider.token, meeting.id),
      () => prefillCalls(app).call(outsider.token, 'POST', `/v1/meetings/${meeting.id}/prefill`),
      () => accept(outsider.token, meeting.id, proposal.id),
      () => dismiss(outsider.token, meeting.id, proposal.id, { reason: 'Not my team (synthetic)' }),
    ];
    for (const attempt of calls) {
      const { response, requestId } = await attempt();
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'not-team-member' });
    }
    const admin = await list(adminToken, meeting.id);
    expectProblem(admin.response, 403);
    expect(await auditRecord(admin.requestId)).toMatchObject({
      outcome: 'denied',
      denial_reason: expect.stringMatching(/^role-not-permitted/),
    });
    expect(await stored(proposal.id)).toMatchObject({ status: 'proposed', version: 1 });
  });

  it("another clinic's meeting is a 404, even to a member of a team there", async () => {
    const { meeting } = await withBehaviour();
    const { clinic, admin } = await createClinic();
    const elsewhere = await teamWithClients(app, clinic.id, (await memberWithToken(app, clinic.id, ['admin'])).token);
    for (const { response, requestId } of [
      await list(elsewhere.lead.token, meeting.id),
      await prefillCalls(app).call(elsewhere.lead.token, 'POST', `/v1/meetings/${meeting.id}/prefill`),
    ]) {
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, clinic_id: admin.clinicId });
    }
  });
});
