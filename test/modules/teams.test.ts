import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agendaCategories } from '../../src/db/schema/index.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClinic, createProgram, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';
import { createMeetingRow, createTeam } from '../helpers/teams.js';

const app = await buildTestApp();
const call = caller(app);

async function clinicWithStaff() {
  const { clinic, admin } = await createClinic();
  const member = (roles: Parameters<typeof memberWithToken>[2]) => memberWithToken(app, clinic.id, roles);
  const { program } = await createProgram(clinic.id);
  return {
    clinic,
    program,
    admin: { ...admin, token: tokenFor(app, admin) },
    lead: await member(['team_lead', 'therapist']),
    therapist: await member(['therapist']),
    trainer: await member(['skills_trainer']),
    compliance: await member(['compliance']),
  };
}

describe('teams', () => {
  it('an administrator creates a team; the lead and the members join today; the create is audited', async () => {
    const { admin, program, lead, therapist, trainer } = await clinicWithStaff();
    const { response, requestId } = await call(admin.token, 'POST', '/v1/teams', {
      programId: program.id,
      name: '  Tuesday consultation team ',
      leadId: lead.id,
      memberIds: [therapist.id, trainer.id, lead.id],
    });
    expect(response.statusCode).toBe(201);
    const team = response.json();
    expect(team).toMatchObject({
      name: 'Tuesday consultation team',
      leadId: lead.id,
      categoryOrder: null,
      effectiveCategoryOrder: [...agendaCategories],
      openingMinutes: 10,
      coachingContactsThreshold: 5,
      afterHoursShareThreshold: 0.5,
      currentMembers: 3,
      version: 1,
    });
    expect(response.headers.location).toBe(`/v1/teams/${team.id}`);
    expect(await auditRecord(requestId)).toMatchObject({ action: 'C', resource_type: 'team', resource_id: team.id, data_category: 'team' });
    const members = await call(lead.token, 'GET', `/v1/teams/${team.id}/members`);
    expect(
      members.response
        .json()
        .items.map((m: { staffId: string; lead: boolean; current: boolean }) => [m.staffId, m.lead, m.current])
        .sort(),
    ).toEqual(
      [
        [lead.id, true, true],
        [therapist.id, false, true],
        [trainer.id, false, true],
      ].sort(),
    );
  });

  it('refuses a lead without the team_lead role, a member who is not a clinician, an unknown program and a taken name — naming the field', async () => {
    const { admin, program, lead, therapist, compliance } = await clinicWithStaff();
    const base = { programId: program.id, name: 'Team A', leadId: lead.id };
    const noLead = await call(admin.token, 'POST', '/v1/teams', { ...base, leadId: therapist.id });
    expect(expectProblem(noLead.response, 400).errors).toEqual([expect.objectContaining({ field: 'leadId' })]);
    const badMember = await call(admin.token, 'POST', '/v1/teams', { ...base, memberIds: [compliance.id] });
    expect(expectProblem(badMember.response, 400).errors).toEqual([expect.objectContaining({ field: 'memberIds' })]);
    const badProgram = await call(admin.token, 'POST', '/v1/teams', { ...base, programId: compliance.id });
    expect(expectProblem(badProgram.response, 400).errors).toEqual([expect.objectContaining({ field: 'programId' })]);
    const badOrder = await call(admin.token, 'POST', '/v1/teams', { ...base, categoryOrder: ['admin', 'admin'] });
    expect(expectProblem(badOrder.response, 400).errors?.[0]?.field).toBe('categoryOrder');
    expect((await query(sql`select count(*)::int as n from teams where program_id = ${program.id}`))[0]).toEqual({ n: 0 });
    expect((await call(admin.token, 'POST', '/v1/teams', base)).response.statusCode).toBe(201);
    expectProblem((await call(admin.token, 'POST', '/v1/teams', base)).response, 409);
  });

  it('the lead changes the category order and thresholds with If-Match; only an administrator names a new lead, who joins', async () => {
    const { admin, clinic, program, lead, therapist } = await clinicWithStaff();
    const team = await createTeam(clinic.id, { programId: program.id, leadId: lead.id, memberIds: [therapist.id] });
    const order = [...agendaCategories].reverse();
    const url = `/v1/teams/${team.id}`;
    expectProblem((await call(lead.token, 'PATCH', url, { categoryOrder: order })).response, 428);
    const changed = await call(lead.token, 'PATCH', url, { categoryOrder: order, coachingContactsThreshold: 3 }, { 'if-match': '"1"' });
    expect(changed.response.statusCode).toBe(200);
    expect(changed.response.json()).toMatchObject({
      categoryOrder: order,
      effectiveCategoryOrder: order,
      coachingContactsThreshold: 3,
      version: 2,
    });
    expect((await auditRecord(changed.requestId)).access_basis).toMatchObject({ relationship: `team-lead:${team.id}` });
    expectProblem((await call(therapist.token, 'PATCH', url, { name: 'Mine now' }, { 'if-match': '"2"' })).response, 403);

    const newLead = await memberWithToken(app, clinic.id, ['team_lead']);
    const byLead = await call(lead.token, 'PATCH', url, { leadId: newLead.id }, { 'if-match': '"2"' });
    expect(expectProblem(byLead.response, 403).detail).toMatch(/administrator/);
    const byAdmin = await call(admin.token, 'PATCH', url, { leadId: newLead.id }, { 'if-match': '"2"' });
    expect(byAdmin.response.json()).toMatchObject({ leadId: newLead.id, currentMembers: 3 });
  });
});

describe('team membership', () => {
  it('the lead adds a member, records agreements accepted and a leaving date; a second open membership is a 409', async () => {
    const { clinic, program, lead, therapist, trainer } = await clinicWithStaff();
    const team = await createTeam(clinic.id, { programId: program.id, leadId: lead.id });
    const url = `/v1/teams/${team.id}/members`;
    const added = await call(lead.token, 'POST', url, { staffId: therapist.id, joinedOn: '2026-01-05' });
    expect(added.response.statusCode).toBe(201);
    const member = added.response.json();
    expect(member).toMatchObject({ staffId: therapist.id, joinedOn: '2026-01-05', leftOn: null, current: true, lead: false });
    expectProblem((await call(lead.token, 'POST', url, { staffId: therapist.id })).response, 409);
    expectProblem((await call(therapist.token, 'POST', url, { staffId: trainer.id })).response, 403);

    const accepted = await call(
      lead.token,
      'PATCH',
      `${url}/${member.id}`,
      { agreementsAcceptedAt: '2026-01-05T18:00:00Z' },
      { 'if-match': '"1"' },
    );
    expect(accepted.response.json()).toMatchObject({ agreementsAcceptedAt: '2026-01-05T18:00:00.000Z', version: 2 });
    const early = await call(lead.token, 'PATCH', `${url}/${member.id}`, { leftOn: '2025-12-31' }, { 'if-match': '"2"' });
    expect(expectProblem(early.response, 400).errors?.[0]?.field).toBe('leftOn');
    const left = await call(lead.token, 'PATCH', `${url}/${member.id}`, { leftOn: '2026-02-01' }, { 'if-match': '"2"' });
    expect(left.response.json()).toMatchObject({ leftOn: '2026-02-01', current: false });
    expect((await call(lead.token, 'GET', url)).response.json().items.map((m: { staffId: string }) => m.staffId)).toEqual([lead.id]);
    expect((await call(lead.token, 'GET', `${url}?current=false`)).response.json().items).toHaveLength(2);
    // Left: they may join again.
    expect((await call(lead.token, 'POST', url, { staffId: therapist.id })).response.statusCode).toBe(201);

    const [leadMembership] = await query<{ id: string }>(
      sql`select id from team_members where team_id = ${team.id} and staff_id = ${lead.id}`,
    );
    const leadLeaves = await call(lead.token, 'PATCH', `${url}/${leadMembership?.id}`, { leftOn: '2030-01-01' }, { 'if-match': '"1"' });
    expect(expectProblem(leadLeaves.response, 400).detail).toMatch(/lead/);
  });

  it('suggests the rota from history: never held first, then the oldest turn, one role per person while others are free', async () => {
    const { clinic, program, lead, therapist, trainer } = await clinicWithStaff();
    const team = await createTeam(clinic.id, { programId: program.id, leadId: lead.id, memberIds: [therapist.id, trainer.id] });
    const first = await createMeetingRow(team, '2026-03-03');
    const second = await createMeetingRow(team, '2026-03-10');
    await query(sql`update team_meetings set meeting_leader_id = ${lead.id}, observer_id = ${therapist.id} where id = ${first.id}`);
    await query(sql`update team_meetings set meeting_leader_id = ${therapist.id}, observer_id = ${lead.id}, note_taker_id = ${trainer.id},
      mindfulness_leader_id = ${trainer.id} where id = ${second.id}`);
    const { response } = await call(therapist.token, 'GET', `/v1/teams/${team.id}/rota`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      teamId: team.id,
      basedOnMeetings: 2,
      suggestions: [
        // The trainer never led the meeting.
        { role: 'meetingLeader', staffId: trainer.id, lastHeldOn: null, timesHeld: 0 },
        // The trainer is taken; lead and therapist never led it, and "Synthetic team_lead …" sorts first by name.
        { role: 'mindfulnessLeader', staffId: lead.id, lastHeldOn: null, timesHeld: 0 },
        // Only the therapist is free (they observed on 3 March).
        { role: 'observer', staffId: therapist.id, lastHeldOn: '2026-03-03', timesHeld: 1 },
        // Everyone is taken: who has gone longest without taking notes (never: lead and therapist; by name).
        { role: 'noteTaker', staffId: lead.id, lastHeldOn: null, timesHeld: 0 },
      ],
    });
  });
});
