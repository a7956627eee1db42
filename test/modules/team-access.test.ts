import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';
import { addTeamMember, createTeam, teamWithClients } from '../helpers/teams.js';

const app = await buildTestApp();
const call = caller(app);

async function setting() {
  const { clinic, admin } = await createClinic();
  return { clinic, ...(await teamWithClients(app, clinic.id, tokenFor(app, admin))) };
}

const clientIdsOf = (body: { items: Array<{ id: string }> }) => body.items.map((item) => item.id).sort();

describe("a team member's view of the team's clients", () => {
  it('reads the registration, events, attendance and the coaching summary, with the team as the basis', async () => {
    const { team, colleague, client } = await setting();
    for (const path of ['', '/events', '/attendance', '/coaching-summary']) {
      const { response, requestId } = await call(colleague.token, 'GET', `/v1/clients/${client.id}${path}`);
      expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
      expect((await auditRecord(requestId)).access_basis).toMatchObject({ relationship: `team-member:${team.id}` });
    }
  });

  it('does not read the clinical record: diary cards, sessions, targets, chain analyses and episodes stay the primary therapist’s', async () => {
    const { colleague, client } = await setting();
    for (const path of ['/diary-cards', '/sessions', '/targets', '/chain-analyses', '/episodes', '/goals']) {
      const { response, requestId } = await call(colleague.token, 'GET', `/v1/clients/${client.id}${path}`);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'no-relationship' });
    }
    const event = await call(colleague.token, 'POST', `/v1/clients/${client.id}/events`, {
      kind: 'nssi',
      occurredAt: '2026-01-05T20:00:00Z',
      severity: 'low',
      source: 'client_report',
    });
    expectProblem(event.response, 403);
  });

  it('logs a coaching contact when covering for a teammate', async () => {
    const { team, colleague, client } = await setting();
    const { response, requestId } = await call(colleague.token, 'POST', `/v1/clients/${client.id}/coaching-contacts`, {
      initiatedBy: 'client',
      channel: 'phone',
      requestedAt: '2026-01-06T21:30:00Z',
      purpose: 'skills_generalization',
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ staffId: colleague.id });
    expect((await auditRecord(requestId)).access_basis).toMatchObject({ relationship: `team-member:${team.id}` });
  });

  it("lists the team's clients beside their own; an outsider sees neither", async () => {
    const { therapist, colleague, outsider, client, colleagueClient } = await setting();
    const own = await createClientRecord(therapist.clinicId, { primaryTherapistId: therapist.id });
    expect(clientIdsOf((await call(colleague.token, 'GET', '/v1/clients')).response.json())).toEqual(
      [client.id, colleagueClient.id, own.id].sort(),
    );
    expect((await call(outsider.token, 'GET', '/v1/clients')).response.json().items).toEqual([]);
    expectProblem((await call(outsider.token, 'GET', `/v1/clients/${client.id}`)).response, 403);
  });

  it('ends with the membership: a member who left, or before they joined, is refused', async () => {
    const { team, colleague, client } = await setting();
    await query(
      sql`update team_members set left_on = (now() at time zone 'UTC')::date where team_id = ${team.id} and staff_id = ${colleague.id}`,
    );
    expectProblem((await call(colleague.token, 'GET', `/v1/clients/${client.id}/events`)).response, 403);
    // Rejoining from a later date gives nothing before it.
    await addTeamMember(team, colleague.id, '2999-01-01');
    expectProblem((await call(colleague.token, 'GET', `/v1/clients/${client.id}/events`)).response, 403);
  });

  it("follows the client's team reference over the therapist's membership", async () => {
    const { clinic, lead, colleague, client } = await setting();
    const other = await createTeam(clinic.id, { leadId: lead.id });
    await query(sql`update clients set team_id = ${other.id} where id = ${client.id}`);
    // The colleague shares the therapist's team, not the client's.
    expectProblem((await call(colleague.token, 'GET', `/v1/clients/${client.id}/events`)).response, 403);
    const { response, requestId } = await call(lead.token, 'GET', `/v1/clients/${client.id}/events`);
    expect(response.statusCode).toBe(200);
    expect((await auditRecord(requestId)).access_basis).toMatchObject({ relationship: `team-member:${other.id}` });
  });

  it('a team reference must name a team of the clinic', async () => {
    const { clinic, therapist, client, adminToken } = await setting();
    const foreign = await createClinic();
    const foreignTeam = await createTeam(foreign.clinic.id, { leadId: foreign.admin.id });
    const [current] = await query<{ version: number }>(sql`select version from clients where id = ${client.id}`);
    const response = (
      await call(adminToken, 'PATCH', `/v1/clients/${client.id}`, { teamId: foreignTeam.id }, { 'if-match': `"${current?.version}"` })
    ).response;
    expect(expectProblem(response, 400).errors?.[0]?.field).toBe('teamId');
    const ownTeam = await createTeam(clinic.id, { leadId: therapist.id });
    const ok = await call(adminToken, 'PATCH', `/v1/clients/${client.id}`, { teamId: ownTeam.id }, { 'if-match': `"${current?.version}"` });
    expect(ok.response.json()).toMatchObject({ teamId: ownTeam.id });
  });
});
