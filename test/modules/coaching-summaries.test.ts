import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, memberWithToken } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

interface Contact {
  clientId: string;
  staffId: string;
  at: string;
  purpose: string;
  minutes?: number | null;
  response?: number | null;
  afterHours?: boolean;
  outside?: boolean;
  byClient?: boolean;
  rule?: 'not_applicable' | 'blocked_redirected' | 'overridden';
}

async function insertContact(clinicId: string, contact: Contact) {
  await query(sql`insert into coaching_contacts
    (clinic_id, id, client_id, staff_id, initiated_by, channel, requested_at, purpose, response_minutes, duration_minutes,
     after_hours, over_minute_limit, outside_limits, rule_status, created_by)
    values (${clinicId}, ${uuidv7()}, ${contact.clientId}, ${contact.staffId}, ${contact.byClient === false ? 'staff' : 'client'}, 'phone',
     ${contact.at}, ${contact.purpose}, ${contact.response ?? null}, ${contact.minutes ?? null}, ${contact.afterHours ?? false}, false,
     ${contact.outside ?? false}, ${contact.rule ?? 'not_applicable'}, ${contact.staffId})`);
}

const noPurposes = {
  suicide_self_harm_crisis: 0,
  skills_generalization: 0,
  relationship_repair: 0,
  share_progress: 0,
  scheduling: 0,
  outside_limits: 0,
};

/**
 * A clinic in New York (UTC−5 in February, UTC−4 from 8 March 2026) whose client was coached over
 * February, March and April by the primary therapist and, once, by a colleague; the therapist also
 * coached two more clients in March.
 */
async function coachedClinic() {
  const team = await clientWithCareTeam(app);
  const { clinic, client, therapist, colleague } = team;
  await query(sql`update clinics set time_zone = 'America/New_York' where id = ${clinic.id}`);
  const second = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
  const third = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
  const [a, t] = [client.id, therapist.id];
  const contacts: Contact[] = [
    // February (local)
    { clientId: a, staffId: t, at: '2026-02-03T15:00:00Z', purpose: 'skills_generalization', minutes: 10, response: 5 },
    {
      clientId: a,
      staffId: t,
      at: '2026-02-14T02:00:00Z',
      purpose: 'suicide_self_harm_crisis',
      minutes: 25,
      response: 12,
      afterHours: true,
      outside: true,
      rule: 'overridden',
    },
    { clientId: a, staffId: t, at: '2026-02-20T17:00:00Z', purpose: 'scheduling', byClient: false },
    // 22:30 on 28 February in New York.
    { clientId: a, staffId: t, at: '2026-03-01T03:30:00Z', purpose: 'relationship_repair', minutes: 15, response: 8, afterHours: true },
    // March (local): the first is exactly midnight of 1 March in New York.
    { clientId: a, staffId: t, at: '2026-03-01T05:00:00Z', purpose: 'skills_generalization', minutes: 20, response: 10, afterHours: true },
    {
      clientId: a,
      staffId: colleague.id,
      at: '2026-03-05T16:00:00Z',
      purpose: 'suicide_self_harm_crisis',
      response: 3,
      rule: 'blocked_redirected',
    },
    { clientId: a, staffId: t, at: '2026-03-20T14:00:00Z', purpose: 'share_progress', minutes: 5, response: 4, outside: true },
    // 23:30 on 31 March in New York (daylight time).
    { clientId: a, staffId: t, at: '2026-04-01T03:30:00Z', purpose: 'skills_generalization', minutes: 30, response: 7, afterHours: true },
    { clientId: second.id, staffId: t, at: '2026-03-10T15:00:00Z', purpose: 'scheduling', minutes: 5, response: 20, byClient: false },
    { clientId: third.id, staffId: t, at: '2026-03-15T15:00:00Z', purpose: 'relationship_repair', minutes: 10 },
    // April (local): midnight of 1 April in New York.
    { clientId: a, staffId: t, at: '2026-04-01T04:00:00Z', purpose: 'scheduling', minutes: 5, response: 1 },
  ];
  for (const contact of contacts) await insertContact(clinic.id, contact);
  // Each coached once in March: they tie on contacts, so the id orders them.
  const tied = [
    { clientId: second.id, contacts: 1, minutes: 5, afterHours: 0, twentyFourHourBlocks: 0 },
    { clientId: third.id, contacts: 1, minutes: 10, afterHours: 0, twentyFourHourBlocks: 0 },
  ].sort((x, y) => x.clientId.localeCompare(y.clientId));
  return { ...team, tied };
}

const summaryUrl = (clientId: string, month?: string) => `/v1/clients/${clientId}/coaching-summary${month ? `?month=${month}` : ''}`;
const loadUrl = (staffId: string, month?: string) => `/v1/staff/${staffId}/coaching-load${month ? `?month=${month}` : ''}`;

describe('a client’s coaching summary', () => {
  it('counts February by the clinic’s local month: a request at 03:30Z on 1 March is still February; odd median', async () => {
    const { client, therapist } = await coachedClinic();
    const { response, requestId } = await call(therapist.token, 'GET', summaryUrl(client.id, '2026-02'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      clientId: client.id,
      month: '2026-02',
      from: '2026-02-01T05:00:00.000Z',
      to: '2026-03-01T05:00:00.000Z',
      contacts: 4,
      minutes: 50,
      afterHours: 2,
      afterHoursShare: 0.5,
      outsideLimits: 1,
      purposes: { ...noPurposes, suicide_self_harm_crisis: 1, skills_generalization: 1, relationship_repair: 1, scheduling: 1 },
      twentyFourHourBlocks: 0,
      overrides: 1,
      // 5, 8, 12 (the scheduling contact has no response time)
      medianResponseMinutes: 8,
      initiatedByClient: 3,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      outcome: 'success',
      http_status: 200,
      resource_type: 'coaching-summary',
      resource_id: client.id,
      data_category: 'coaching',
      client_ids: [client.id],
      access_basis: { rule: 'coaching.contacts', relationship: 'primary-therapist' },
      details: { month: '2026-02' },
    });
  });

  it('counts March from local midnight to the end of 31 March in daylight time, every staff member’s contacts; even median', async () => {
    const { client, therapist } = await coachedClinic();
    const { response } = await call(therapist.token, 'GET', summaryUrl(client.id, '2026-03'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      clientId: client.id,
      month: '2026-03',
      from: '2026-03-01T05:00:00.000Z',
      to: '2026-04-01T04:00:00.000Z',
      contacts: 4,
      minutes: 55,
      afterHours: 2,
      afterHoursShare: 0.5,
      outsideLimits: 1,
      purposes: { ...noPurposes, suicide_self_harm_crisis: 1, skills_generalization: 2, share_progress: 1 },
      twentyFourHourBlocks: 1,
      overrides: 0,
      // 3, 4, 7, 10 → (4 + 7) / 2
      medianResponseMinutes: 5.5,
      initiatedByClient: 4,
    });
  });

  it('a month without contacts has zeros, and nulls for the share and the median', async () => {
    const { client, therapist } = await coachedClinic();
    const { response } = await call(therapist.token, 'GET', summaryUrl(client.id, '2025-12'));
    expect(response.json()).toEqual({
      clientId: client.id,
      month: '2025-12',
      from: '2025-12-01T05:00:00.000Z',
      to: '2026-01-01T05:00:00.000Z',
      contacts: 0,
      minutes: 0,
      afterHours: 0,
      afterHoursShare: null,
      outsideLimits: 0,
      purposes: noPurposes,
      twentyFourHourBlocks: 0,
      overrides: 0,
      medianResponseMinutes: null,
      initiatedByClient: 0,
    });
  });

  it('defaults to the current month in the clinic’s time zone', async () => {
    const { clinic, client, therapist } = await coachedClinic();
    await query(sql`update clinics set time_zone = 'Pacific/Kiritimati' where id = ${clinic.id}`);
    const [expected] = await query<{ month: string; from: Date }>(
      sql`select to_char(now() at time zone 'Pacific/Kiritimati', 'YYYY-MM') as month,
        date_trunc('month', now() at time zone 'Pacific/Kiritimati') at time zone 'Pacific/Kiritimati' as from`,
    );
    const { response, requestId } = await call(therapist.token, 'GET', summaryUrl(client.id));
    expect(response.statusCode).toBe(200);
    const body = response.json() as { month: string; from: string; to: string; contacts: number };
    expect(body.month).toBe(expected?.month);
    expect(new Date(body.from).getTime()).toBe(new Date(expected?.from as Date).getTime());
    expect(body.contacts).toBe(0);
    expect(await auditRecord(requestId)).toMatchObject({ details: { month: expected?.month } });
  });

  it.each(['2026-13', '2026-3', '2026-03-01', 'March', '0999-01'])('400 naming month for %s', async (month) => {
    const { client, therapist } = await coachedClinic();
    const problem = expectProblem((await call(therapist.token, 'GET', summaryUrl(client.id, month))).response, 400);
    expect(problem.errors).toEqual([{ in: 'query', field: 'month', message: expect.any(String) }]);
  });

  it('refuses an unrelated therapist (403, audited), other roles, and another clinic’s client (404)', async () => {
    const { clinic, client, colleague, compliance } = await coachedClinic();
    const refused = await call(colleague.token, 'GET', summaryUrl(client.id, '2026-03'));
    expectProblem(refused.response, 403);
    expect(await auditRecord(refused.requestId)).toMatchObject({
      outcome: 'denied',
      http_status: 403,
      denial_reason: 'no-relationship',
      resource_type: 'coaching-summary',
      client_ids: [client.id],
    });
    const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
    for (const who of [compliance, trainer]) {
      const byRole = await call(who.token, 'GET', summaryUrl(client.id, '2026-03'));
      expectProblem(byRole.response, 403);
      expect(await auditRecord(byRole.requestId)).toMatchObject({
        denial_reason: 'role-not-permitted:coaching.contacts',
        client_ids: [],
      });
    }
    const other = await clientWithCareTeam(app);
    const hidden = await call(other.therapist.token, 'GET', summaryUrl(client.id, '2026-03'));
    expectProblem(hidden.response, 404);
    expect(await auditRecord(hidden.requestId)).toMatchObject({ http_status: 404, client_ids: [] });
  });
});

describe('a therapist’s coaching load', () => {
  it('totals the contacts the therapist took and lists each client, most contacts first, then by id', async () => {
    const { client, therapist, tied } = await coachedClinic();
    const { response, requestId } = await call(therapist.token, 'GET', loadUrl(therapist.id, '2026-03'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      staffId: therapist.id,
      month: '2026-03',
      from: '2026-03-01T05:00:00.000Z',
      to: '2026-04-01T04:00:00.000Z',
      // The colleague's blocked contact is not the therapist's.
      contacts: 5,
      minutes: 70,
      afterHours: 2,
      afterHoursShare: 0.4,
      outsideLimits: 1,
      purposes: { ...noPurposes, skills_generalization: 2, relationship_repair: 1, share_progress: 1, scheduling: 1 },
      twentyFourHourBlocks: 0,
      overrides: 0,
      // 4, 7, 10, 20 → (7 + 10) / 2
      medianResponseMinutes: 8.5,
      initiatedByClient: 4,
      clients: [{ clientId: client.id, contacts: 3, minutes: 55, afterHours: 2, twentyFourHourBlocks: 0 }, ...tied],
    });
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      action: 'R',
      outcome: 'success',
      resource_type: 'coaching-load',
      resource_id: therapist.id,
      data_category: 'coaching',
      result_count: 3,
      access_basis: { rule: 'coaching.load', relationship: 'own-load' },
      details: { month: '2026-03' },
    });
    expect([...(record.client_ids as string[])].sort()).toEqual([client.id, ...tied.map((row) => row.clientId)].sort());
  });

  it('a team lead reads anyone’s load in the clinic; an empty month lists no clients', async () => {
    const { clinic, client, colleague } = await coachedClinic();
    const lead = await memberWithToken(app, clinic.id, ['team_lead']);
    const { response, requestId } = await call(lead.token, 'GET', loadUrl(colleague.id, '2026-03'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      staffId: colleague.id,
      contacts: 1,
      minutes: 0,
      afterHoursShare: 0,
      twentyFourHourBlocks: 1,
      medianResponseMinutes: 3,
      purposes: { ...noPurposes, suicide_self_harm_crisis: 1 },
      clients: [{ clientId: client.id, contacts: 1, minutes: 0, afterHours: 0, twentyFourHourBlocks: 1 }],
    });
    expect(await auditRecord(requestId)).toMatchObject({
      client_ids: [client.id],
      result_count: 1,
      access_basis: { rule: 'coaching.load', role: 'team_lead' },
    });
    const empty = await call(lead.token, 'GET', loadUrl(colleague.id, '2026-02'));
    expect(empty.response.json()).toMatchObject({ contacts: 0, afterHoursShare: null, medianResponseMinutes: null, clients: [] });
    expect(await auditRecord(empty.requestId)).toMatchObject({ client_ids: [], result_count: 0 });
  });

  it('a therapist may not read another therapist’s load: 403 not-own-load, audited', async () => {
    const { therapist, colleague } = await coachedClinic();
    const { response, requestId } = await call(colleague.token, 'GET', loadUrl(therapist.id, '2026-03'));
    expectProblem(response, 403);
    expect(await auditRecord(requestId)).toMatchObject({
      outcome: 'denied',
      http_status: 403,
      denial_reason: 'not-own-load',
      resource_type: 'coaching-load',
      resource_id: therapist.id,
      client_ids: [],
    });
  });

  it('refuses compliance and skills trainers by role, and another clinic’s staff with 404', async () => {
    const { clinic, therapist, compliance } = await coachedClinic();
    const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
    for (const who of [compliance, trainer]) {
      const { response, requestId } = await call(who.token, 'GET', loadUrl(therapist.id, '2026-03'));
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ denial_reason: 'role-not-permitted:coaching.load' });
    }
    const other = await clientWithCareTeam(app);
    const lead = await memberWithToken(app, other.clinic.id, ['team_lead']);
    for (const who of [lead, other.therapist]) {
      const { response, requestId } = await call(who.token, 'GET', loadUrl(therapist.id, '2026-03'));
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ http_status: 404, client_ids: [] });
    }
    const bad = expectProblem((await call(therapist.token, 'GET', loadUrl(therapist.id, '2026-3'))).response, 400);
    expect(bad.errors).toEqual([{ in: 'query', field: 'month', message: expect.any(String) }]);
  });
});
