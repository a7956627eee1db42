import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type ClinicalEvent = {
  id: string;
  clientId: string;
  kind: string;
  occurredAt: string;
  dischargedAt: string | null;
  daysInHospital: number | null;
  severity: string;
  source: string;
  description: string | null;
  enteredInError: { at: string; reason: string } | null;
  version: number;
  recordedBy: string | null;
};
type EventPage = { items: ClinicalEvent[]; nextCursor: string | null };

const HOUR = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();
const selfHarm = { kind: 'nssi', occurredAt: ago(30), severity: 'moderate', source: 'client_report' };
const REASON = 'Recorded against the wrong client by mistake';

async function setting() {
  const team = await clientWithCareTeam(app);
  return { ...team, url: `/v1/clients/${team.client.id}/events` };
}

async function record(token: string, url: string, body: object = selfHarm) {
  const { response } = await call(token, 'POST', url, body);
  expect(response.statusCode).toBe(201);
  return response.json() as ClinicalEvent;
}

const list = async (token: string, url: string) => (await call(token, 'GET', url)).response.json() as EventPage;
const eventCount = async (clientId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from clinical_events where client_id = ${clientId}`))[0]?.n;

describe('recording an event', () => {
  it('the primary therapist records one: 201, ETag "1", recordedBy, audited as a clinical event', async () => {
    const { client, therapist, url } = await setting();
    const { response, requestId } = await call(therapist.token, 'POST', url, { ...selfHarm, description: ' Scratches on forearm ' });
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('"1"');
    const event = response.json() as ClinicalEvent;
    expect(event).toMatchObject({
      clientId: client.id,
      kind: 'nssi',
      occurredAt: selfHarm.occurredAt,
      dischargedAt: null,
      daysInHospital: null,
      severity: 'moderate',
      source: 'client_report',
      description: 'Scratches on forearm',
      enteredInError: null,
      version: 1,
      recordedBy: therapist.id,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      subtype: 'create',
      http_status: 201,
      resource_type: 'clinical-event',
      resource_id: event.id,
      data_category: 'clinical-event',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
    });
    const read = await call(therapist.token, 'GET', `${url}/${event.id}`);
    expect(read.response.headers.etag).toBe('"1"');
    expect(read.response.json()).toEqual(event);
    expect(await auditRecord(read.requestId)).toMatchObject({
      action: 'R',
      subtype: 'read',
      resource_id: event.id,
      client_ids: [client.id],
    });
  });

  it('an admission with a discharge counts whole days in hospital, a part day as a day', async () => {
    const { therapist, url } = await setting();
    const admission = { kind: 'psychiatric_admission', severity: 'high', source: 'records', occurredAt: '2024-03-01T18:00:00Z' };
    const exact = await record(therapist.token, url, { ...admission, dischargedAt: '2024-03-04T18:00:00Z' });
    expect(exact.daysInHospital).toBe(3);
    const partial = await record(therapist.token, url, { ...admission, dischargedAt: '2024-03-04T18:01:00Z' });
    expect(partial.daysInHospital).toBe(4);
    const overnight = await record(therapist.token, url, { ...admission, dischargedAt: '2024-03-02T09:00:00Z' });
    expect(overnight.daysInHospital).toBe(1);
    const ongoing = await record(therapist.token, url, admission);
    expect(ongoing).toMatchObject({ dischargedAt: null, daysInHospital: null });
  });

  it.each([
    ['kind', { ...selfHarm, kind: 'overdose' }],
    ['occurredAt', { ...selfHarm, occurredAt: new Date(Date.now() + 10 * 60_000).toISOString() }],
    ['occurredAt', { ...selfHarm, occurredAt: '2024-03-01' }],
    ['dischargedAt', { ...selfHarm, dischargedAt: ago(1) }],
    ['dischargedAt', { ...selfHarm, kind: 'psychiatric_admission', dischargedAt: selfHarm.occurredAt }],
    ['severity', { ...selfHarm, severity: 'extreme' }],
    ['source', { ...selfHarm, source: 'diary_card' }],
    ['description', { ...selfHarm, description: 'x'.repeat(4001) }],
    ['diaryCardId', { ...selfHarm, diaryCardId: uuidv7() }],
  ])('400 naming %s, and nothing is written', async (field, body) => {
    const { client, therapist, url } = await setting();
    const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect(await eventCount(client.id)).toBe(0);
  });

  it('a clock up to 5 minutes ahead is not the future', async () => {
    const { therapist, url } = await setting();
    await record(therapist.token, url, { ...selfHarm, occurredAt: new Date(Date.now() + 2 * 60_000).toISOString() });
  });
});

describe('who may see events', () => {
  it('an unrelated therapist is refused (403 no-relationship), audited with the client and data category', async () => {
    const { client, colleague, therapist, url } = await setting();
    const event = await record(therapist.token, url);
    for (const [method, path, body] of [
      ['GET', url, undefined],
      ['POST', url, selfHarm],
      ['GET', `${url}/${event.id}`, undefined],
    ] as const) {
      const { response, requestId } = await call(colleague.token, method, path, body);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({
        outcome: 'denied',
        denial_reason: 'no-relationship',
        client_ids: [client.id],
        data_category: 'clinical-event',
      });
    }
    expect(await eventCount(client.id)).toBe(1);
  });

  it('a break-glass grant admits a colleague; the basis names the grant', async () => {
    const { clinic, client, colleague, url } = await setting();
    const grantId = uuidv7();
    await query(
      sql`insert into break_glass_grants (clinic_id, id, staff_id, client_id, reason, minutes, starts_at, expires_at)
          values (${clinic.id}, ${grantId}, ${colleague.id}, ${client.id}, 'Synthetic crisis, therapist unreachable', 30, now(), now() + interval '30 minutes')`,
    );
    const { response, requestId } = await call(colleague.token, 'POST', url, selfHarm);
    expect(response.statusCode).toBe(201);
    expect(await auditRecord(requestId)).toMatchObject({
      outcome: 'success',
      access_basis: { rule: 'clients.clinical', relationship: 'break-glass', grantId },
    });
  });

  it('administrators and compliance are refused by role; another clinic’s client or event is 404', async () => {
    const { admin, compliance, client, therapist, url } = await setting();
    const event = await record(therapist.token, url);
    for (const member of [admin, compliance]) {
      const { response, requestId } = await call(member.token, 'GET', url);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ denial_reason: expect.stringMatching(/^role-not-permitted/) });
    }
    const other = await setting();
    expectProblem((await call(other.therapist.token, 'GET', url)).response, 404);
    const { response, requestId } = await call(other.therapist.token, 'GET', `${other.url}/${event.id}`);
    expectProblem(response, 404);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [other.client.id] });
    // The same therapist's other client does not reach this event either.
    const second = await createClientRecord(client.clinicId, { primaryTherapistId: therapist.id });
    expectProblem((await call(therapist.token, 'GET', `/v1/clients/${second.id}/events/${event.id}`)).response, 404);
  });
});

describe('listing events', () => {
  it('newest first, filtered by kind and time, paginated; audited with the count', async () => {
    const { client, therapist, url } = await setting();
    const old = await record(therapist.token, url, { ...selfHarm, occurredAt: ago(72) });
    const visit = await record(therapist.token, url, { ...selfHarm, kind: 'ed_visit', occurredAt: ago(48) });
    const recent = await record(therapist.token, url, { ...selfHarm, occurredAt: ago(2) });
    const { response, requestId } = await call(therapist.token, 'GET', url);
    expect((response.json() as EventPage).items.map((e) => e.id)).toEqual([recent.id, visit.id, old.id]);
    expect(await auditRecord(requestId)).toMatchObject({ action: 'R', subtype: 'search', result_count: 3, client_ids: [client.id] });

    expect((await list(therapist.token, `${url}?kind=nssi`)).items.map((e) => e.id)).toEqual([recent.id, old.id]);
    const window = `${url}?from=${encodeURIComponent(ago(60))}&to=${encodeURIComponent(ago(24))}`;
    expect((await list(therapist.token, window)).items.map((e) => e.id)).toEqual([visit.id]);
    const first = await list(therapist.token, `${url}?limit=2`);
    expect(first.items.map((e) => e.id)).toEqual([recent.id, visit.id]);
    const second = await list(therapist.token, `${url}?limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({ items: [old], nextCursor: null });
    const bad = expectProblem((await call(therapist.token, 'GET', `${url}?from=${ago(1)}&to=${ago(5)}`)).response, 400);
    expect(bad.errors?.map((e) => e.field)).toEqual(['to']);
  });
});

describe('correcting an event', () => {
  it('If-Match: 428 missing, 412 stale; a change increments the version and is audited with its fields', async () => {
    const { client, therapist, url } = await setting();
    const event = await record(therapist.token, url);
    const path = `${url}/${event.id}`;
    expectProblem((await call(therapist.token, 'PATCH', path, { severity: 'high' })).response, 428);
    expectProblem((await call(therapist.token, 'PATCH', path, { severity: 'high' }, { 'if-match': '"2"' })).response, 412);
    const { response, requestId } = await call(
      therapist.token,
      'PATCH',
      path,
      { severity: 'high', description: 'Deeper' },
      { 'if-match': '"1"' },
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.json()).toMatchObject({ severity: 'high', description: 'Deeper', version: 2, kind: 'nssi', source: 'client_report' });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      resource_id: event.id,
      client_ids: [client.id],
      data_category: 'clinical-event',
      details: { fields: ['severity', 'description'], fromVersion: 1 },
    });
    expectProblem((await call(therapist.token, 'PATCH', path, { severity: 'low' }, { 'if-match': '"1"' })).response, 412);
  });

  it('kind and source are fixed; a discharge is checked against the stored event; nothing changes on 400', async () => {
    const { therapist, url } = await setting();
    const admission = await record(therapist.token, url, {
      kind: 'psychiatric_admission',
      occurredAt: '2024-05-01T10:00:00Z',
      severity: 'high',
      source: 'records',
    });
    const path = `${url}/${admission.id}`;
    const cases = [
      ['kind', { kind: 'ed_visit' }],
      ['source', { source: 'records' }],
      ['dischargedAt', { dischargedAt: '2024-04-30T10:00:00Z' }],
      ['severity', { severity: 'none' }],
    ] as const;
    for (const [field, body] of cases) {
      const problem = expectProblem((await call(therapist.token, 'PATCH', path, body, { 'if-match': '"1"' })).response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    }
    const discharged = await call(therapist.token, 'PATCH', path, { dischargedAt: '2024-05-08T09:00:00Z' }, { 'if-match': '"1"' });
    expect(discharged.response.json()).toMatchObject({ daysInHospital: 7, version: 2 });
    const late = expectProblem(
      (await call(therapist.token, 'PATCH', path, { occurredAt: '2024-05-09T10:00:00Z' }, { 'if-match': '"2"' })).response,
      400,
    );
    expect(late.errors?.map((error) => error.field)).toEqual(['occurredAt']);
    const visit = await record(therapist.token, url, { ...selfHarm, kind: 'ed_visit' });
    const notAdmission = expectProblem(
      (await call(therapist.token, 'PATCH', `${url}/${visit.id}`, { dischargedAt: ago(1) }, { 'if-match': '"1"' })).response,
      400,
    );
    expect(notAdmission.errors?.map((error) => error.field)).toEqual(['dischargedAt']);
    expect((await call(therapist.token, 'GET', path)).response.json()).toMatchObject({
      version: 2,
      occurredAt: '2024-05-01T10:00:00.000Z',
    });
  });
});

describe('entered in error', () => {
  it('hides the event from lists unless asked; a second mark is 409; a marked event no longer changes', async () => {
    const { client, therapist, url } = await setting();
    const event = await record(therapist.token, url);
    const path = `${url}/${event.id}/entered-in-error`;
    expectProblem((await call(therapist.token, 'POST', path, { reason: 'too short' })).response, 400);
    const { response, requestId } = await call(therapist.token, 'POST', path, { reason: REASON });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 2, enteredInError: { at: expect.any(String), reason: REASON } });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'D',
      subtype: 'entered-in-error',
      resource_id: event.id,
      client_ids: [client.id],
      data_category: 'clinical-event',
    });
    expect((await list(therapist.token, url)).items).toEqual([]);
    expect((await list(therapist.token, `${url}?includeEnteredInError=true`)).items.map((e) => e.id)).toEqual([event.id]);
    expectProblem((await call(therapist.token, 'POST', path, { reason: REASON })).response, 409);
    expectProblem((await call(therapist.token, 'PATCH', `${url}/${event.id}`, { severity: 'low' }, { 'if-match': '"2"' })).response, 409);
    expect(await eventCount(client.id)).toBe(1);
  });
});
