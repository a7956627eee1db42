import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, createProgram } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

const HOUR = 3_600_000;
const EVENT_AT = '2025-05-10T12:00:00.000Z';
const at = (iso: string, offsetMs = 0) => new Date(new Date(iso).getTime() + offsetMs).toISOString();
const redirected = { redirection: 'crisis_line', safetyCheckDone: true };

type Contact = { id: string; ruleStatus: string; ruleEventId: string | null; redirection: string | null; overrideReason: string | null };

async function insertEvent(clinicId: string, clientId: string, occurredAt: string, kind = 'nssi', enteredInError = false) {
  const id = uuidv7();
  await query(sql`insert into clinical_events (clinic_id, id, client_id, kind, occurred_at, severity, source, entered_in_error_at, entered_in_error_reason)
    values (${clinicId}, ${id}, ${clientId}, ${kind}, ${occurredAt}, 'moderate', 'client_report',
      ${enteredInError ? new Date().toISOString() : null}, ${enteredInError ? 'Recorded against the wrong client' : null})`);
  return id;
}

/** A client of an adult program (24-hour rule on) with one self-harm event at EVENT_AT. */
async function setting() {
  const team = await clientWithCareTeam(app);
  const eventId = await insertEvent(team.clinic.id, team.client.id, EVENT_AT);
  const url = `/v1/clients/${team.client.id}/coaching-contacts`;
  const post = (requestedAt: string, body: object = {}, token = team.therapist.token) =>
    call(token, 'POST', url, { initiatedBy: 'client', channel: 'phone', requestedAt, purpose: 'suicide_self_harm_crisis', ...body });
  return { ...team, eventId, url, post };
}

async function created(result: { response: { statusCode: number; json: () => unknown; body: string } }) {
  expect(result.response.statusCode, result.response.body).toBe(201);
  return result.response.json() as Contact;
}

function expectField(result: { response: Parameters<typeof expectProblem>[0] }, field: string) {
  const problem = expectProblem(result.response, 400);
  expect(problem.errors?.map((error) => error.field)).toEqual([field]);
  return problem;
}

describe('the 24-hour window', () => {
  it('is half-open [occurredAt, occurredAt + 24 h): blocked at the event and 1 ms before the end, not at the end', async () => {
    const { client, eventId, post } = await setting();
    const atEvent = await post(EVENT_AT, redirected);
    const blocked = await created(atEvent);
    expect(blocked).toMatchObject({
      ruleStatus: 'blocked_redirected',
      ruleEventId: eventId,
      redirection: 'crisis_line',
      safetyCheckDone: true,
    });
    expect(await auditRecord(atEvent.requestId)).toMatchObject({
      data_category: 'coaching',
      client_ids: [client.id],
      details: { twentyFourHourRule: { status: 'blocked_redirected', eventId, until: '2025-05-11T12:00:00.000Z', policyVersion: 1 } },
    });

    const lastMs = await created(await post(at(EVENT_AT, 24 * HOUR - 1), redirected));
    expect(lastMs).toMatchObject({ ruleStatus: 'blocked_redirected', ruleEventId: eventId });

    const atEnd = await created(await post(at(EVENT_AT, 24 * HOUR)));
    expect(atEnd).toMatchObject({ ruleStatus: 'not_applicable', ruleEventId: null, redirection: null, safetyCheckDone: null });
    const before = await created(await post(at(EVENT_AT, -1)));
    expect(before.ruleStatus).toBe('not_applicable');

    const late = expectField(await post(at(EVENT_AT, 24 * HOUR), redirected), 'redirection');
    expect(late.errors?.[0]?.message).toBe('the 24-hour rule does not apply to this contact');
  });

  it('lasts 24 real hours across a DST change (New York, 1 November 2026): it ends at 23:00 local, not at midnight', async () => {
    const { clinic, client, therapist } = await clientWithCareTeam(app);
    await query(sql`update clinics set time_zone = 'America/New_York' where id = ${clinic.id}`);
    // Midnight EDT, two hours before the clocks go back.
    const eventAt = '2026-11-01T04:00:00.000Z';
    const eventId = await insertEvent(clinic.id, client.id, eventAt);
    const post = (requestedAt: string, body: object = {}) =>
      call(therapist.token, 'POST', `/v1/clients/${client.id}/coaching-contacts`, {
        initiatedBy: 'client',
        channel: 'text',
        requestedAt,
        purpose: 'skills_generalization',
        ...body,
      });
    // 22:59:59.999 EST on 1 November: still inside.
    const inside = await post('2026-11-02T03:59:59.999Z', redirected);
    expect((await created(inside)).ruleStatus).toBe('blocked_redirected');
    expect((await auditRecord(inside.requestId)).details).toMatchObject({
      twentyFourHourRule: { eventId, until: '2026-11-02T04:00:00.000Z' },
    });
    // 23:00 EST: 24 hours have passed, though the wall clock shows only 23.
    expect((await created(await post('2026-11-02T04:00:00.000Z'))).ruleStatus).toBe('not_applicable');
    // 23:30 EST, before local midnight: a window of "the same local time tomorrow" would still be open.
    expect((await created(await post('2026-11-02T04:30:00.000Z'))).ruleStatus).toBe('not_applicable');
  });

  it('does not apply where the program turns the rule off (adolescent_family), even inside the window', async () => {
    const team = await clientWithCareTeam(app);
    const { program } = await createProgram(team.clinic.id, 'adolescent_family');
    const teen = await createClientRecord(team.clinic.id, { primaryTherapistId: team.therapist.id, programId: program.id });
    await insertEvent(team.clinic.id, teen.id, EVENT_AT, 'suicide_attempt');
    const url = `/v1/clients/${teen.id}/coaching-contacts`;
    const body = { initiatedBy: 'client', channel: 'phone', requestedAt: at(EVENT_AT, HOUR), purpose: 'suicide_self_harm_crisis' };
    const { response, requestId } = await call(team.therapist.token, 'POST', url, body);
    expect((await created({ response })).ruleStatus).toBe('not_applicable');
    expect((await auditRecord(requestId)).details).toMatchObject({ twentyFourHourRule: { status: 'not_applicable', policyVersion: 1 } });
    expectField(await call(team.therapist.token, 'POST', url, { ...body, ...redirected }), 'redirection');
  });

  it('opens only on the triggers the policy names, and not on events entered in error', async () => {
    const team = await clientWithCareTeam(app);
    const { program } = await createProgram(team.clinic.id, 'adult', { twentyFourHourTriggers: ['suicide_attempt'] });
    const client = await createClientRecord(team.clinic.id, { primaryTherapistId: team.therapist.id, programId: program.id });
    await insertEvent(team.clinic.id, client.id, EVENT_AT, 'nssi');
    await insertEvent(team.clinic.id, client.id, at(EVENT_AT, HOUR), 'suicide_attempt', true);
    await insertEvent(team.clinic.id, client.id, at(EVENT_AT, 2 * HOUR), 'ed_visit');
    const { response } = await call(team.therapist.token, 'POST', `/v1/clients/${client.id}/coaching-contacts`, {
      initiatedBy: 'client',
      channel: 'phone',
      requestedAt: at(EVENT_AT, 3 * HOUR),
      purpose: 'suicide_self_harm_crisis',
    });
    expect((await created({ response })).ruleStatus).toBe('not_applicable');
  });

  it('with several events, the window that ends latest counts', async () => {
    const { clinic, client, post } = await setting();
    const later = await insertEvent(clinic.id, client.id, at(EVENT_AT, 20 * HOUR), 'suicide_attempt');
    const contact = await created(await post(at(EVENT_AT, 30 * HOUR), redirected));
    expect(contact).toMatchObject({ ruleStatus: 'blocked_redirected', ruleEventId: later });
    const problem = expectField(await post(at(EVENT_AT, 21 * HOUR)), 'redirection');
    expect(problem.detail).toContain('2025-05-12T08:00:00.000Z');
    expect(problem.detail).toContain(later);
  });
});

describe('client-initiated contacts inside the window', () => {
  it('need a redirection and a safety check, and say until when and why', async () => {
    const { clinic, eventId, post } = await setting();
    const inside = at(EVENT_AT, 2 * HOUR);
    const missing = expectField(await post(inside, { safetyCheckDone: true }), 'redirection');
    expect(missing.errors?.[0]?.message).toContain('open until 2025-05-11T12:00:00.000Z because of event');
    expect(missing.errors?.[0]?.message).toContain(eventId);
    expectField(await post(inside, { redirection: 'ed' }), 'safetyCheckDone');
    expectField(await post(inside, { redirection: 'ed', safetyCheckDone: false }), 'safetyCheckDone');
    expectField(await post(inside, { redirection: 'hotline', safetyCheckDone: true }), 'redirection');
    const [{ n }] = (await query<{ n: number }>(sql`select count(*)::int as n from coaching_contacts where clinic_id = ${clinic.id}`)) as [
      { n: number },
    ];
    expect(n).toBe(0);
  });

  it('may be overridden with a reason, stored and audited; an override needs a reason of 20 characters or more', async () => {
    const { client, eventId, post } = await setting();
    const inside = at(EVENT_AT, 5 * HOUR);
    expectField(await post(inside, { override: {} }), 'override.reason');
    expectField(await post(inside, { override: { reason: 'too short' } }), 'override.reason');
    const reason = 'Client reports no injury since; coaching agreed with the team lead';
    const result = await post(inside, { override: { reason } });
    const contact = await created(result);
    expect(contact).toMatchObject({ ruleStatus: 'overridden', ruleEventId: eventId, overrideReason: reason, redirection: null });
    const [stored] = await query(sql`select rule_status, override_reason, rule_event_id from coaching_contacts where id = ${contact.id}`);
    expect(stored).toEqual({ rule_status: 'overridden', override_reason: reason, rule_event_id: eventId });
    expect(await auditRecord(result.requestId)).toMatchObject({
      action: 'C',
      client_ids: [client.id],
      resource_id: contact.id,
      details: {
        twentyFourHourRule: { status: 'overridden', eventId, until: '2025-05-11T12:00:00.000Z', policyVersion: 1, reason },
      },
    });
  });

  it('staff-initiated contacts inside the window are not_applicable, and the rule fields are refused', async () => {
    const { post } = await setting();
    const inside = at(EVENT_AT, HOUR);
    const staff = await created(await post(inside, { initiatedBy: 'staff' }));
    expect(staff).toMatchObject({ ruleStatus: 'not_applicable', ruleEventId: null });
    expectField(await post(inside, { initiatedBy: 'staff', override: { reason: 'Checking in after the event, as agreed' } }), 'override');
    expectField(await post(inside, { initiatedBy: 'staff', safetyCheckDone: true }), 'safetyCheckDone');
  });

  it('a PATCH leaves the 24-hour outcome as it was recorded', async () => {
    const { therapist, post } = await setting();
    const contact = await created(await post(at(EVENT_AT, HOUR), redirected));
    const url = `/v1/coaching-contacts/${contact.id}`;
    for (const body of [{ redirection: 'ed' }, { override: { reason: 'Changed our mind about this contact' } }, { initiatedBy: 'staff' }]) {
      const field = Object.keys(body)[0] as string;
      const problem = expectProblem((await call(therapist.token, 'PATCH', url, body, { 'if-match': '"1"' })).response, 400);
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    const { response } = await call(therapist.token, 'PATCH', url, { outcome: 'Went to the ED' }, { 'if-match': '"1"' });
    expect(response.json()).toMatchObject({ ruleStatus: 'blocked_redirected', redirection: 'crisis_line', outcome: 'Went to the ED' });
  });
});

describe('GET /v1/clients/:id/coaching-status', () => {
  it('shows an open window with its end and event, then a closed one; audited as coaching', async () => {
    const { clinic, client, therapist } = await clientWithCareTeam(app);
    const url = `/v1/clients/${client.id}/coaching-status`;
    const closed = await call(therapist.token, 'GET', url);
    expect(closed.response.statusCode).toBe(200);
    expect(closed.response.json()).toMatchObject({
      twentyFourHourRule: { enabled: true, policyVersion: 1, open: false, until: null, eventId: null, eventKind: null },
      primaryTherapist: { staffId: therapist.id, limitsVersion: null, availableNow: null, channels: [], backupStaffId: null },
    });
    expect(await auditRecord(closed.requestId)).toMatchObject({
      action: 'R',
      resource_type: 'coaching-status',
      data_category: 'coaching',
      client_ids: [client.id],
    });

    await insertEvent(clinic.id, client.id, new Date(Date.now() - 25 * HOUR).toISOString());
    expect((await call(therapist.token, 'GET', url)).response.json()).toMatchObject({ twentyFourHourRule: { open: false } });

    const occurredAt = new Date(Date.now() - HOUR);
    occurredAt.setMilliseconds(0);
    const eventId = await insertEvent(clinic.id, client.id, occurredAt.toISOString(), 'suicide_attempt');
    const open = (await call(therapist.token, 'GET', url)).response.json() as { now: string; twentyFourHourRule: object };
    expect(open.twentyFourHourRule).toEqual({
      enabled: true,
      policyVersion: 1,
      open: true,
      until: new Date(occurredAt.getTime() + 24 * HOUR).toISOString(),
      eventId,
      eventKind: 'suicide_attempt',
    });
    expect(Math.abs(new Date(open.now).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it("reports the primary therapist's limits in force and whether they are available now", async () => {
    const { clinic, client, therapist, colleague } = await clientWithCareTeam(app);
    const allWeek = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, from: '00:00', to: '00:00' }));
    const limits = async (version: number, windows: object[]) =>
      query(sql`insert into coaching_limits (clinic_id, staff_id, version, effective_from, windows, channels, max_minutes, response_minutes, backup_staff_id, created_by)
        values (${clinic.id}, ${therapist.id}, ${version}, now() - make_interval(days => ${3 - version}), ${JSON.stringify(windows)}::jsonb,
          string_to_array('phone,text', ','), 15, 30, ${colleague.id}, ${therapist.id})`);
    await limits(1, allWeek);
    const url = `/v1/clients/${client.id}/coaching-status`;
    const expected = {
      staffId: therapist.id,
      channels: ['phone', 'text'],
      maxMinutes: 15,
      responseMinutes: 30,
      backupStaffId: colleague.id,
    };
    expect((await call(therapist.token, 'GET', url)).response.json()).toMatchObject({
      primaryTherapist: { ...expected, limitsVersion: 1, availableNow: true },
    });
    await limits(2, []);
    expect((await call(colleague.token, 'GET', url)).response.json()).toMatchObject({
      primaryTherapist: { ...expected, limitsVersion: 2, availableNow: false },
    });
  });

  it('is off for an adolescent_family client', async () => {
    const team = await clientWithCareTeam(app);
    const { program } = await createProgram(team.clinic.id, 'adolescent_family');
    const teen = await createClientRecord(team.clinic.id, { primaryTherapistId: team.therapist.id, programId: program.id });
    await insertEvent(team.clinic.id, teen.id, new Date(Date.now() - HOUR).toISOString());
    const { response } = await call(team.therapist.token, 'GET', `/v1/clients/${teen.id}/coaching-status`);
    expect(response.json()).toMatchObject({ twentyFourHourRule: { enabled: false, open: false, until: null, eventId: null } });
  });
});
