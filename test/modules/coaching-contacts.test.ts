import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, memberWithToken } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Contact = Record<string, unknown> & { id: string; version: number };

const PLAN = 'Synthetic plan: TIPP, then call back in 10 minutes';
const weekdays = (from: string, to: string) => [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from, to }));

async function insertLimits(
  clinicId: string,
  staffId: string,
  version: number,
  effectiveFrom: string,
  limits: { windows: object[]; channels?: string[]; maxMinutes?: number; backupStaffId?: string | null },
) {
  await query(sql`insert into coaching_limits (clinic_id, staff_id, version, effective_from, windows, channels, max_minutes, response_minutes, backup_staff_id, created_by)
    values (${clinicId}, ${staffId}, ${version}, ${effectiveFrom}, ${JSON.stringify(limits.windows)}::jsonb,
      string_to_array(${(limits.channels ?? ['phone', 'text']).join(',')}, ','), ${limits.maxMinutes ?? 10}, 60,
      ${limits.backupStaffId ?? null}, ${staffId})`);
}

const contactCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from coaching_contacts where clinic_id = ${clinicId}`))[0]?.n;

/** A contact on Monday 3 March 2025 (UTC clinic): requested 10:00, answered 10:07:30, 10:08 to 10:20:30. */
const monday = (day = '2025-03-03', hour = '10') => ({
  initiatedBy: 'client',
  channel: 'phone',
  requestedAt: `${day}T${hour}:00:00Z`,
  respondedAt: `${day}T${hour}:07:30Z`,
  startedAt: `${day}T${hour}:08:00Z`,
  endedAt: `${day}T${hour}:20:30Z`,
  purpose: 'skills_generalization',
});

async function setting() {
  const team = await clientWithCareTeam(app);
  const url = `/v1/clients/${team.client.id}/coaching-contacts`;
  const create = async (body: object, token = team.therapist.token) => {
    const { response, requestId } = await call(token, 'POST', url, body);
    expect(response.statusCode, response.body).toBe(201);
    return { contact: response.json() as Contact, response, requestId };
  };
  return { ...team, url, create };
}

describe('derived fields', () => {
  it('are judged by the limits version in force at the request, each contact by its own', async () => {
    const { clinic, client, therapist, create } = await setting();
    await insertLimits(clinic.id, therapist.id, 1, '2025-01-01T00:00:00Z', { windows: weekdays('09:00', '17:00'), maxMinutes: 10 });
    await insertLimits(clinic.id, therapist.id, 2, '2025-06-01T00:00:00Z', {
      windows: weekdays('17:00', '21:00'),
      channels: ['phone'],
      maxMinutes: 20,
    });

    const { contact: march, response, requestId } = await create({ ...monday(), plan: PLAN });
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers.location).toBe(`/v1/coaching-contacts/${march.id}`);
    expect(march).toMatchObject({
      clientId: client.id,
      staffId: therapist.id,
      requestedAt: '2025-03-03T10:00:00.000Z',
      responseMinutes: 7,
      durationMinutes: 13,
      afterHours: false,
      overMinuteLimit: true,
      outsideLimits: true,
      limitsVersion: 1,
      ruleStatus: 'not_applicable',
      escalation: 'none',
      riskAssessed: false,
      urges: [],
      skillIds: [],
      plan: PLAN,
      outcome: null,
      version: 1,
      createdBy: therapist.id,
    });
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      action: 'C',
      outcome: 'success',
      resource_type: 'coaching-contact',
      resource_id: march.id,
      data_category: 'coaching',
      client_ids: [client.id],
      access_basis: { rule: 'coaching.contacts', relationship: 'primary-therapist' },
      details: { staffId: therapist.id, limitsVersion: 1, twentyFourHourRule: { status: 'not_applicable' } },
    });
    expect(JSON.stringify(record)).not.toContain('Synthetic plan');

    // The same times in June: version 2's evening window and 20 minutes.
    const { contact: june } = await create(monday('2025-06-02'));
    expect(june).toMatchObject({ afterHours: true, overMinuteLimit: false, outsideLimits: true, limitsVersion: 2, durationMinutes: 13 });
    // In the window, within the minutes, but by text, which version 2 no longer offers.
    const { contact: text } = await create({ ...monday('2025-06-02', '18'), channel: 'text' });
    expect(text).toMatchObject({ afterHours: false, overMinuteLimit: false, outsideLimits: true, limitsVersion: 2 });
    const { contact: within } = await create(monday('2025-06-02', '18'));
    expect(within).toMatchObject({ afterHours: false, overMinuteLimit: false, outsideLimits: false, limitsVersion: 2 });
  });

  it('without limits stated: times still counted, flags false, limitsVersion null', async () => {
    const { create } = await setting();
    const { contact } = await create(monday());
    expect(contact).toMatchObject({
      responseMinutes: 7,
      durationMinutes: 13,
      afterHours: false,
      overMinuteLimit: false,
      outsideLimits: false,
      limitsVersion: null,
    });
    const { contact: open } = await create({
      initiatedBy: 'staff',
      channel: 'video',
      requestedAt: '2025-03-03T10:00:00Z',
      purpose: 'scheduling',
    });
    expect(open).toMatchObject({ respondedAt: null, startedAt: null, endedAt: null, responseMinutes: null, durationMinutes: null });
  });

  it('keeps urges on the client’s own targets and skills from the catalog', async () => {
    const { clinic, client, therapist, create } = await setting();
    const targetId = uuidv7();
    await query(sql`insert into targets (clinic_id, target_id, version, client_id, category, direction, measure, label, effective_from, created_by)
      values (${clinic.id}, ${targetId}, 1, ${client.id}, 'quality_of_life', 'decrease', 'urge_and_action', 'Synthetic target', now(), ${therapist.id})`);
    const skillId = uuidv7();
    await query(sql`insert into skills (clinic_id, id, module, name, sort_order, standard)
      values (${clinic.id}, ${skillId}, 'distress_tolerance', ${`Synthetic skill ${skillId}`}, 900, false)`);
    const { contact } = await create({ ...monday(), urges: [{ targetId, start: 4, end: 1 }], skillIds: [skillId, skillId] });
    expect(contact).toMatchObject({ urges: [{ targetId, start: 4, end: 1 }], skillIds: [skillId] });
  });
});

describe('invalid contacts', () => {
  const future = new Date(Date.now() + 5 * 60_000).toISOString();
  it.each([
    ['endedAt', { endedAt: '2025-03-03T10:07:00Z' }],
    ['endedAt', { endedAt: '2025-03-03T10:08:00Z' }],
    ['endedAt', { startedAt: null }],
    ['respondedAt', { respondedAt: '2025-03-03T09:59:59Z' }],
    ['startedAt', { startedAt: '2025-03-03T09:00:00Z' }],
    ['requestedAt', { requestedAt: future, respondedAt: undefined, startedAt: undefined, endedAt: undefined }],
    ['requestedAt', { requestedAt: '2025-03-03T10:00:00' }],
    ['endedAt', { endedAt: future }],
    ['channel', { channel: 'carrier_pigeon' }],
    ['purpose', { purpose: 'chat' }],
    ['initiatedBy', { initiatedBy: 'parent' }],
    ['escalation', { escalation: 'police' }],
    ['urges.0.targetId', { urges: [{ targetId: uuidv7(), start: 1, end: 0 }] }],
    ['urges.0.start', { urges: [{ targetId: uuidv7(), start: 6, end: 0 }] }],
    ['urges', { urges: Array.from({ length: 21 }, () => ({ targetId: uuidv7(), start: null, end: null })) }],
    ['skillIds', { skillIds: [uuidv7()] }],
    ['outcome', { outcome: 'o'.repeat(4001) }],
    ['plan', { plan: '  ' }],
    ['mood', { mood: 'fine' }],
  ])('400 naming %s (case %#), and nothing is written', async (field, override) => {
    const { clinic, therapist, url } = await setting();
    const problem = expectProblem((await call(therapist.token, 'POST', url, { ...monday(), ...override })).response, 400);
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(await contactCount(clinic.id)).toBe(0);
  });

  it('staffId must be the primary therapist or the backup covering for them', async () => {
    const { clinic, therapist, colleague, admin, url } = await setting();
    for (const staffId of [colleague.id, admin.id, uuidv7()]) {
      const problem = expectProblem((await call(therapist.token, 'POST', url, { ...monday(), staffId })).response, 400);
      expect(problem.errors).toEqual([{ in: 'body', field: 'staffId', message: expect.stringContaining('backup') }]);
    }
    expect(await contactCount(clinic.id)).toBe(0);
  });
});

describe('listing, reading and updating', () => {
  it('lists summaries newest request first, without free text, filtered and paginated', async () => {
    const { client, therapist, url, create } = await setting();
    const made: Contact[] = [];
    for (const day of ['2025-03-03', '2025-03-17', '2025-03-10'])
      made.push((await create({ ...monday(day), plan: PLAN, outcome: 'Calmer' })).contact);
    const { response, requestId } = await call(therapist.token, 'GET', url);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('Synthetic plan');
    const { items, nextCursor } = response.json() as { items: Contact[]; nextCursor: string | null };
    expect(items.map((c) => c.id)).toEqual([made[1]?.id, made[2]?.id, made[0]?.id]);
    expect(nextCursor).toBeNull();
    for (const item of items) for (const key of ['plan', 'outcome', 'overrideReason']) expect(item).not.toHaveProperty(key);
    expect(await auditRecord(requestId)).toMatchObject({
      subtype: 'search',
      data_category: 'coaching',
      client_ids: [client.id],
      result_count: 3,
    });

    const ranged = await call(therapist.token, 'GET', `${url}?from=2025-03-05T00:00:00Z&to=2025-03-15T00:00:00Z`);
    expect((ranged.response.json() as { items: Contact[] }).items.map((c) => c.id)).toEqual([made[2]?.id]);
    const first = (await call(therapist.token, 'GET', `${url}?limit=2`)).response.json() as { items: Contact[]; nextCursor: string };
    expect(first.items.map((c) => c.id)).toEqual([made[1]?.id, made[2]?.id]);
    const rest = (await call(therapist.token, 'GET', `${url}?limit=2&cursor=${first.nextCursor}`)).response.json();
    expect(rest).toEqual({ items: [expect.objectContaining({ id: made[0]?.id })], nextCursor: null });
    expectProblem((await call(therapist.token, 'GET', `${url}?from=2025-03-15T00:00:00Z&to=2025-03-05T00:00:00Z`)).response, 400);
  });

  it('reads one contact with an ETag; PATCH needs If-Match, recomputes the derived fields and audits field names', async () => {
    const { clinic, client, therapist, create } = await setting();
    await insertLimits(clinic.id, therapist.id, 1, '2025-01-01T00:00:00Z', { windows: weekdays('09:00', '17:00'), maxMinutes: 10 });
    const { contact } = await create({ ...monday(), endedAt: '2025-03-03T10:15:00Z' });
    expect(contact).toMatchObject({ durationMinutes: 7, overMinuteLimit: false, outsideLimits: false });
    const url = `/v1/coaching-contacts/${contact.id}`;
    const read = await call(therapist.token, 'GET', url);
    expect(read.response.headers.etag).toBe('"1"');
    expect(read.response.json()).toEqual(contact);
    expect(await auditRecord(read.requestId)).toMatchObject({
      action: 'R',
      resource_id: contact.id,
      data_category: 'coaching',
      client_ids: [client.id],
    });

    const change = { endedAt: '2025-03-03T10:30:00Z', outcome: 'Used TIPP; urge down to 1', riskAssessed: true };
    expectProblem((await call(therapist.token, 'PATCH', url, change)).response, 428);
    expectProblem((await call(therapist.token, 'PATCH', url, change, { 'if-match': '"7"' })).response, 412);
    const { response, requestId } = await call(therapist.token, 'PATCH', url, change, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.json()).toMatchObject({
      ...change,
      endedAt: '2025-03-03T10:30:00.000Z',
      durationMinutes: 22,
      overMinuteLimit: true,
      outsideLimits: true,
      version: 2,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      resource_id: contact.id,
      data_category: 'coaching',
      client_ids: [client.id],
      details: { fields: ['durationMinutes', 'endedAt', 'outcome', 'outsideLimits', 'overMinuteLimit', 'riskAssessed'] },
    });

    const patch = (body: object) => call(therapist.token, 'PATCH', url, body, { 'if-match': '"2"' });
    for (const [body, field] of [
      [{ endedAt: '2025-03-03T10:05:00Z' }, 'endedAt'],
      [{ startedAt: null }, 'endedAt'],
      [{ respondedAt: '2025-03-03T09:00:00Z' }, 'respondedAt'],
      [{ requestedAt: '2025-03-03T09:00:00Z' }, 'requestedAt'],
      [{ staffId: therapist.id }, 'staffId'],
      [{}, ''],
    ] as const) {
      const problem = expectProblem((await patch(body)).response, 400);
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    const cleared = await patch({ respondedAt: null, startedAt: null, endedAt: null, channel: 'text' });
    expect(cleared.response.json()).toMatchObject({
      responseMinutes: null,
      durationMinutes: null,
      overMinuteLimit: false,
      channel: 'text',
      version: 3,
    });
  });
});

describe('who may record and read coaching', () => {
  it('the covering backup may create (basis covering-for); an unrelated therapist, a skills trainer and compliance are refused', async () => {
    const { clinic, client, therapist, colleague, compliance, url, create } = await setting();
    await insertLimits(clinic.id, therapist.id, 1, '2025-01-01T00:00:00Z', { windows: [], backupStaffId: colleague.id });
    const { contact, requestId } = await create(monday(), colleague.token);
    expect(contact).toMatchObject({ staffId: colleague.id, createdBy: colleague.id, limitsVersion: null });
    expect(await auditRecord(requestId)).toMatchObject({
      access_basis: { rule: 'coaching.contacts', relationship: `covering-for:${therapist.id}` },
      client_ids: [client.id],
    });
    const onBehalf = await create({ ...monday('2025-03-04'), staffId: therapist.id }, colleague.token);
    expect(onBehalf.contact).toMatchObject({ staffId: therapist.id, createdBy: colleague.id, afterHours: true, limitsVersion: 1 });

    const stranger = await memberWithToken(app, clinic.id, ['therapist']);
    const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
    const routes = [
      ['POST', url, monday()],
      ['GET', url],
      ['GET', `/v1/coaching-contacts/${contact.id}`],
      ['PATCH', `/v1/coaching-contacts/${contact.id}`, { riskAssessed: true }],
      ['GET', `/v1/clients/${client.id}/coaching-status`],
    ] as const;
    for (const [method, path, body] of routes) {
      const refused = await call(stranger.token, method, path, body, { 'if-match': '"1"' });
      expectProblem(refused.response, 403);
      expect(await auditRecord(refused.requestId)).toMatchObject({
        outcome: 'denied',
        denial_reason: 'no-relationship',
        client_ids: [client.id],
      });
      for (const member of [trainer, compliance]) {
        const denied = await call(member.token, method, path, body, { 'if-match': '"1"' });
        expectProblem(denied.response, 403);
        expect((await auditRecord(denied.requestId)).denial_reason).toMatch(/^role-not-permitted/);
      }
    }
    expect(await contactCount(clinic.id)).toBe(2);
  });

  it("another clinic's contact and client answer 404", async () => {
    const home = await setting();
    const { contact } = await home.create(monday());
    const other = await clientWithCareTeam(app);
    const foreignClient = await createClientRecord(other.clinic.id, { primaryTherapistId: other.therapist.id });
    for (const [method, path, body] of [
      ['GET', `/v1/coaching-contacts/${contact.id}`],
      ['PATCH', `/v1/coaching-contacts/${contact.id}`, { riskAssessed: true }],
      ['GET', home.url],
      ['POST', home.url, monday()],
      ['GET', `/v1/clients/${home.client.id}/coaching-status`],
    ] as const) {
      const { response } = await call(other.therapist.token, method, path, body, { 'if-match': '"1"' });
      expectProblem(response, 404);
    }
    expectProblem((await call(home.therapist.token, 'GET', `/v1/clients/${foreignClient.id}/coaching-contacts`)).response, 404);
    const [stored] = await query(sql`select version, risk_assessed from coaching_contacts where id = ${contact.id}`);
    expect(stored).toEqual({ version: 1, risk_assessed: false });
  });
});
