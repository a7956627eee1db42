import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  type CoachingLimitsRow,
  judgeContact,
  localTime,
  withinWindows,
} from '../../src/modules/coaching-limits/coaching-limits.queries.js';
import { buildTestApp, query } from '../helpers/app.js';
import { sampleLimits } from '../helpers/contract/coaching-limits.js';
import { createClinic, createStaffMember, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Reply = Awaited<ReturnType<typeof app.inject>>;
type Limits = typeof sampleLimits & { staffId: string; version: number; effectiveFrom: string; createdBy: string; createdAt: string };

const urlOf = (staffId: string) => `/v1/staff/${staffId}/coaching-limits`;
const fieldsOf = (response: Reply) => (expectProblem(response, 400).errors ?? []).map((error) => `${error.in}.${error.field}`);
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

async function versionCount(staffId: string) {
  const [row] = await query<{ count: number }>(sql`select count(*)::int as count from coaching_limits where staff_id = ${staffId}`);
  return row?.count;
}

/** A clinic with its admin, a therapist and a colleague, each with a token. */
async function team() {
  const { clinic, admin } = await createClinic();
  return {
    clinic,
    admin: { ...admin, token: tokenFor(app, admin) },
    therapist: await memberWithToken(app, clinic.id, ['therapist']),
    colleague: await memberWithToken(app, clinic.id, ['therapist']),
  };
}

describe('stating coaching limits', () => {
  it('a first version is 201 without If-Match; later ones need the latest ETag (428 missing, 412 stale), then 200', async () => {
    const { clinic, therapist } = await team();
    const url = urlOf(therapist.id);
    const first = await call(therapist.token, 'PUT', url, {
      ...sampleLimits,
      windows: [
        { weekday: 3, from: '17:00', to: '21:00' },
        { weekday: 1, from: '17:00', to: '21:00' },
      ],
      channels: ['text', 'phone'],
    });
    expect(first.response.statusCode).toBe(201);
    const created = first.response.json() as Limits;
    expect(created).toEqual({
      staffId: therapist.id,
      version: 1,
      effectiveFrom: expect.any(String),
      // Stored in one order, so reordering is never a change of limits.
      windows: [
        { weekday: 1, from: '17:00', to: '21:00' },
        { weekday: 3, from: '17:00', to: '21:00' },
      ],
      channels: ['phone', 'text'],
      maxMinutes: 10,
      responseMinutes: 60,
      backupStaffId: null,
      createdBy: therapist.id,
      createdAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(created.effectiveFrom) - Date.now())).toBeLessThan(10_000);
    expect(first.response.headers.etag).toBe('"1"');
    expect(await auditRecord(first.requestId)).toMatchObject({
      clinic_id: clinic.id,
      actor_id: therapist.id,
      action: 'U',
      subtype: 'new-version',
      outcome: 'success',
      http_status: 201,
      resource_type: 'coaching-limits',
      resource_id: therapist.id,
      data_category: 'coaching-limits',
      access_basis: { rule: 'coaching-limits.manage', role: 'therapist' },
      details: {
        version: 1,
        changes: {
          effectiveFrom: { from: null, to: created.effectiveFrom },
          maxMinutes: { from: null, to: 10 },
          channels: { from: null, to: ['phone', 'text'] },
        },
      },
    });

    const read = await call(therapist.token, 'GET', url);
    expect(read.response.statusCode).toBe(200);
    expect(read.response.json()).toEqual(created);
    expect(read.response.headers.etag).toBe('"1"');
    expect(await auditRecord(read.requestId)).toMatchObject({ subtype: 'read', outcome: 'success', resource_id: therapist.id });

    const changed = { ...sampleLimits, maxMinutes: 15, windows: created.windows };
    const missing = await call(therapist.token, 'PUT', url, changed);
    expectProblem(missing.response, 428);
    expect(await auditRecord(missing.requestId)).toMatchObject({ outcome: 'failure', http_status: 428 });
    expectProblem((await call(therapist.token, 'PUT', url, changed, { 'if-match': '"7"' })).response, 412);
    expect(await versionCount(therapist.id)).toBe(1);

    const second = await call(therapist.token, 'PUT', url, changed, { 'if-match': '"1"' });
    expect(second.response.statusCode).toBe(200);
    expect(second.response.json()).toMatchObject({ version: 2, maxMinutes: 15, windows: created.windows });
    expect(second.response.headers.etag).toBe('"2"');
    const audit = await auditRecord(second.requestId);
    expect(audit).toMatchObject({ http_status: 200, details: { version: 2 } });
    expect(Object.keys((audit.details as { changes: object }).changes).sort()).toEqual(['effectiveFrom', 'maxMinutes']);
    expectProblem((await call(therapist.token, 'PUT', url, changed, { 'if-match': '"1"' })).response, 412);

    const history = await call(therapist.token, 'GET', `${url}/versions`);
    expect(history.response.statusCode).toBe(200);
    expect(history.response.headers.etag).toBe('"2"');
    expect((history.response.json() as { items: Limits[] }).items.map((item) => [item.version, item.maxMinutes])).toEqual([
      [2, 15],
      [1, 10],
    ]);
    expect(await auditRecord(history.requestId)).toMatchObject({ subtype: 'history', result_count: 2 });
  });

  it('with none stated: GET is a 404 saying so, versions are empty, and If-Match on a first PUT is a 412', async () => {
    const { therapist } = await team();
    const url = urlOf(therapist.id);
    const none = await call(therapist.token, 'GET', url);
    expect(expectProblem(none.response, 404).detail).toMatch(/no coaching limits stated/);
    expect(await auditRecord(none.requestId)).toMatchObject({ subtype: 'read', outcome: 'failure', http_status: 404 });
    const history = await call(therapist.token, 'GET', `${url}/versions`);
    expect(history.response.json()).toEqual({ items: [] });
    expect(history.response.headers.etag).toBeUndefined();
    expectProblem((await call(therapist.token, 'PUT', url, sampleLimits, { 'if-match': '"1"' })).response, 412);
    expect(await versionCount(therapist.id)).toBe(0);
  });

  it('a version effective later is not in force until then; `at` reads the version in force at an instant', async () => {
    const { therapist } = await team();
    const url = urlOf(therapist.id);
    const first = (await call(therapist.token, 'PUT', url, sampleLimits)).response.json() as Limits;
    const later = inMinutes(24 * 60);
    const future = await call(
      therapist.token,
      'PUT',
      url,
      { ...sampleLimits, maxMinutes: 20, effectiveFrom: later },
      { 'if-match': '"1"' },
    );
    expect(future.response.statusCode).toBe(200);
    expect(future.response.json()).toMatchObject({ version: 2, effectiveFrom: later, maxMinutes: 20 });

    const now = await call(therapist.token, 'GET', url);
    expect(now.response.json()).toMatchObject({ version: 1, maxMinutes: 10 });
    expect(now.response.headers.etag).toBe('"2"');
    const versionAt = async (at: string) =>
      ((await call(therapist.token, 'GET', `${url}?at=${encodeURIComponent(at)}`)).response.json() as Limits).version;
    expect(await versionAt(new Date(Date.parse(later) - 1).toISOString())).toBe(1);
    expect(await versionAt(later)).toBe(2);
    expect(await versionAt('2999-01-01T00:00:00+02:00')).toBe(2);
    const before = await call(
      therapist.token,
      'GET',
      `${url}?at=${encodeURIComponent(new Date(Date.parse(first.effectiveFrom) - 1000).toISOString())}`,
    );
    expect(expectProblem(before.response, 404).detail).toContain(first.effectiveFrom);
    expect(fieldsOf((await call(therapist.token, 'GET', `${url}?at=tomorrow`)).response)).toEqual(['query.at']);
  });

  it('two changes from the same version: one succeeds, the other is a 412', async () => {
    const { therapist } = await team();
    const url = urlOf(therapist.id);
    await call(therapist.token, 'PUT', url, sampleLimits);
    const attempts = await Promise.all(
      [11, 12].map((maxMinutes) => call(therapist.token, 'PUT', url, { ...sampleLimits, maxMinutes }, { 'if-match': '"1"' })),
    );
    expect(attempts.map(({ response }) => response.statusCode).sort()).toEqual([200, 412]);
    expect(await versionCount(therapist.id)).toBe(2);
  });
});

describe('validating limits', () => {
  it('bad window times, repeated channels, out-of-range minutes and a past effectiveFrom are 400s naming the field', async () => {
    const { therapist } = await team();
    const put = async (changes: Record<string, unknown>) =>
      fieldsOf((await call(therapist.token, 'PUT', urlOf(therapist.id), { ...sampleLimits, ...changes })).response);
    expect(await put({ windows: [{ weekday: 1, from: '24:00', to: '02:00' }] })).toEqual(['body.windows.0.from']);
    expect(await put({ windows: [{ weekday: 8, from: '09:00', to: '9:30' }] })).toEqual(['body.windows.0.weekday', 'body.windows.0.to']);
    expect(await put({ windows: [{ weekday: 2, from: '09:00', to: '09:00' }] })).toEqual(['body.windows.0.to']);
    expect(await put({ channels: ['phone', 'phone'] })).toEqual(['body.channels']);
    expect(await put({ channels: [] })).toEqual(['body.channels']);
    expect(await put({ channels: ['pager'] })).toEqual(['body.channels.0']);
    expect(await put({ maxMinutes: 241, responseMinutes: 0 })).toEqual(['body.maxMinutes', 'body.responseMinutes']);
    expect(await put({ effectiveFrom: inMinutes(-5) })).toEqual(['body.effectiveFrom']);
    expect(await put({ effectiveFrom: '2030-01-01' })).toEqual(['body.effectiveFrom']);
    expect(await put({ role: 'admin' })).toEqual(['body.role']);
    expect(await versionCount(therapist.id)).toBe(0);
  });

  it('the backup must be an active therapist of the clinic other than the staff member: 400 naming backupStaffId', async () => {
    const { clinic, therapist, colleague } = await team();
    const trainer = await createStaffMember(clinic.id, ['skills_trainer']);
    const inactive = await createStaffMember(clinic.id, ['therapist']);
    await query(sql`update staff set active = false where id = ${inactive.id}`);
    const foreign = await createStaffMember((await createClinic()).clinic.id, ['therapist']);
    for (const backupStaffId of [therapist.id, trainer.id, inactive.id, foreign.id]) {
      const { response } = await call(therapist.token, 'PUT', urlOf(therapist.id), { ...sampleLimits, backupStaffId });
      expect(fieldsOf(response)).toEqual(['body.backupStaffId']);
    }
    expect(await versionCount(therapist.id)).toBe(0);
    const ok = await call(therapist.token, 'PUT', urlOf(therapist.id), { ...sampleLimits, backupStaffId: colleague.id });
    expect(ok.response.json()).toMatchObject({ backupStaffId: colleague.id });
  });

  it('limits are stated only for an active therapist: 409 otherwise', async () => {
    const { clinic, admin } = await team();
    const trainer = await createStaffMember(clinic.id, ['skills_trainer']);
    const left = await createStaffMember(clinic.id, ['therapist']);
    await query(sql`update staff set active = false where id = ${left.id}`);
    for (const id of [trainer.id, left.id]) {
      const { response, requestId } = await call(admin.token, 'PUT', urlOf(id), sampleLimits);
      expect(expectProblem(response, 409).detail).toMatch(/active therapist/);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    }
  });
});

describe('who may state and read limits', () => {
  it("a therapist cannot state a colleague's limits (403, audited as not-own-limits); an administrator can", async () => {
    const { admin, therapist, colleague } = await team();
    const refused = await call(colleague.token, 'PUT', urlOf(therapist.id), sampleLimits);
    expectProblem(refused.response, 403);
    expect(await auditRecord(refused.requestId)).toMatchObject({
      actor_id: colleague.id,
      outcome: 'denied',
      http_status: 403,
      resource_id: therapist.id,
      denial_reason: 'not-own-limits',
    });
    expect(await versionCount(therapist.id)).toBe(0);

    const byAdmin = await call(admin.token, 'PUT', urlOf(therapist.id), sampleLimits);
    expect(byAdmin.response.statusCode).toBe(201);
    expect(byAdmin.response.json()).toMatchObject({ staffId: therapist.id, createdBy: admin.id });
    expect(await auditRecord(byAdmin.requestId)).toMatchObject({ access_basis: { rule: 'coaching-limits.manage', role: 'admin' } });
    // Reading is open to clinicians: the colleague may see who covers when.
    expect((await call(colleague.token, 'GET', urlOf(therapist.id))).response.statusCode).toBe(200);
  });

  it('compliance may neither read nor state limits; staff of another clinic answer 404', async () => {
    const { clinic, admin, therapist } = await team();
    await call(therapist.token, 'PUT', urlOf(therapist.id), sampleLimits);
    const compliance = await memberWithToken(app, clinic.id, ['compliance']);
    for (const [method, payload] of [
      ['GET', undefined],
      ['PUT', sampleLimits],
    ] as const) {
      const { response, requestId } = await call(compliance.token, method, urlOf(therapist.id), payload);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({
        denial_reason: `role-not-permitted:coaching-limits.${method === 'GET' ? 'read' : 'manage'}`,
      });
    }
    const other = await team();
    await call(other.therapist.token, 'PUT', urlOf(other.therapist.id), sampleLimits);
    for (const url of [urlOf(other.therapist.id), `${urlOf(other.therapist.id)}/versions`]) {
      expectProblem((await call(admin.token, 'GET', url)).response, 404);
    }
    const put = await call(admin.token, 'PUT', urlOf(other.therapist.id), sampleLimits, { 'if-match': '"1"' });
    expectProblem(put.response, 404);
    expect(await auditRecord(put.requestId)).toMatchObject({ clinic_id: clinic.id, outcome: 'failure', http_status: 404 });
    expect(await versionCount(other.therapist.id)).toBe(1);
  });
});

describe('judging contacts by limits (clinic time, DST, midnight, minutes, channel)', () => {
  const newYork = 'America/New_York';
  const limits = (changes: Partial<CoachingLimitsRow> = {}): CoachingLimitsRow => ({
    clinicId: 'c',
    staffId: 's',
    version: 3,
    effectiveFrom: new Date('2026-01-01T00:00:00Z'),
    windows: [{ weekday: 1, from: '09:00', to: '17:00' }],
    channels: ['phone', 'text'],
    maxMinutes: 10,
    responseMinutes: 60,
    backupStaffId: null,
    createdBy: 's',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...changes,
  });
  const at = (iso: string) => new Date(iso);

  it('reads local weekday and time in the clinic zone across the DST change', () => {
    expect(localTime(at('2026-03-09T13:59:00Z'), newYork)).toEqual({ weekday: 1, minutes: 9 * 60 + 59, date: '2026-03-09' });
    expect(localTime(at('2026-03-02T13:59:00Z'), newYork)).toEqual({ weekday: 1, minutes: 8 * 60 + 59, date: '2026-03-02' });
    expect(localTime(at('2026-03-09T03:30:00Z'), newYork)).toEqual({ weekday: 7, minutes: 23 * 60 + 30, date: '2026-03-08' });
    expect(localTime(at('2026-03-08T00:00:00Z'), 'UTC')).toMatchObject({ weekday: 7, minutes: 0 });
  });

  it('a Monday 09:00–17:00 window: 09:59 EDT is inside, 08:59 EST is outside; the end is exclusive', () => {
    const windows = limits().windows;
    expect(withinWindows(windows, at('2026-03-09T13:59:00Z'), newYork)).toBe(true);
    expect(withinWindows(windows, at('2026-03-02T13:59:00Z'), newYork)).toBe(false);
    expect(withinWindows(windows, at('2026-03-09T13:00:00Z'), newYork)).toBe(true); // 09:00 EDT
    expect(withinWindows(windows, at('2026-03-09T21:00:00Z'), newYork)).toBe(false); // 17:00 EDT
    expect(withinWindows(windows, at('2026-03-10T14:00:00Z'), newYork)).toBe(false); // Tuesday
    expect(withinWindows([], at('2026-03-09T14:00:00Z'), newYork)).toBe(false);
  });

  it('a Friday 22:00–02:00 window runs past midnight into Saturday', () => {
    const windows = [{ weekday: 5, from: '22:00', to: '02:00' }];
    expect(withinWindows(windows, at('2026-03-14T02:30:00Z'), newYork)).toBe(true); // Fri 22:30 EDT
    expect(withinWindows(windows, at('2026-03-14T05:59:00Z'), newYork)).toBe(true); // Sat 01:59
    expect(withinWindows(windows, at('2026-03-14T06:00:00Z'), newYork)).toBe(false); // Sat 02:00
    expect(withinWindows(windows, at('2026-03-13T05:00:00Z'), newYork)).toBe(false); // Fri 01:00: Thursday's night
    expect(withinWindows(windows, at('2026-03-14T01:59:00Z'), newYork)).toBe(false); // Fri 21:59
  });

  it('derives response and duration minutes, after-hours, over the minute limit and outside limits', () => {
    const contact = {
      channel: 'phone',
      requestedAt: at('2026-03-09T13:30:00Z'), // 09:30 EDT Monday
      respondedAt: at('2026-03-09T13:44:59Z'),
      startedAt: at('2026-03-09T13:45:00Z'),
      endedAt: at('2026-03-09T13:55:01Z'),
    };
    expect(judgeContact(limits(), contact, newYork)).toEqual({
      responseMinutes: 14,
      durationMinutes: 11,
      afterHours: false,
      overMinuteLimit: true,
      outsideLimits: true,
      limitsVersion: 3,
    });
    const exactTen = { ...contact, endedAt: at('2026-03-09T13:55:00Z') };
    expect(judgeContact(limits(), exactTen, newYork)).toMatchObject({ durationMinutes: 10, overMinuteLimit: false, outsideLimits: false });
    expect(judgeContact(limits(), { ...exactTen, channel: 'video' }, newYork)).toMatchObject({ afterHours: false, outsideLimits: true });
    // Judged by when it started: a request in hours answered and held after hours is after hours.
    const late = { ...exactTen, startedAt: at('2026-03-09T21:30:00Z'), endedAt: at('2026-03-09T21:35:00Z') };
    expect(judgeContact(limits(), late, newYork)).toMatchObject({ afterHours: true, outsideLimits: true });
    // Without a start, the response (then the request) stands in for it; a slow reply is not the client's doing.
    const unanswered = { channel: 'text', requestedAt: at('2026-03-02T13:59:00Z'), respondedAt: null, startedAt: null, endedAt: null };
    expect(judgeContact(limits({ responseMinutes: 1 }), unanswered, newYork)).toEqual({
      responseMinutes: null,
      durationMinutes: null,
      afterHours: true,
      overMinuteLimit: false,
      outsideLimits: true,
      limitsVersion: 3,
    });
    expect(judgeContact(undefined, { ...contact, channel: 'video' }, newYork)).toEqual({
      responseMinutes: 14,
      durationMinutes: 11,
      afterHours: false,
      overMinuteLimit: false,
      outsideLimits: false,
      limitsVersion: null,
    });
  });
});
