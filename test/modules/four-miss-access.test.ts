import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { addDays } from '../../src/modules/skills-groups/skills-groups.curriculum.js';
import { buildTestApp, query, target, testDatabase } from '../helpers/app.js';
import { activeClient, groupMark, monday, pastSession } from '../helpers/attendance.js';
import { createClientRecord, createClinic, memberWithToken, tokenFor } from '../helpers/factories.js';
import { activateClient, createGroupSession, createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Standing = { modality: string; streak: number; status: string; metOn: string | null; override: { reason: string } | null };

/** Four no-shows in a row after an attended session: the individual modality is met. */
async function metClient(policy: { overrideAllowed?: boolean } = {}) {
  const setting = await activeClient(app, policy);
  await pastSession(setting, monday(5), 'attended');
  for (const weeksAgo of [4, 3, 2]) await pastSession(setting, monday(weeksAgo), 'no_show');
  // Set-up wrote straight to the table; the last no-show goes through the API, whose attendance write re-evaluates.
  const last = await pastSession(setting, monday(1), 'scheduled');
  const patched = await call(setting.therapist.token, 'PATCH', `/v1/sessions/${last}`, { attendance: 'no_show' }, { 'if-match': '"1"' });
  expect(patched.response.statusCode).toBe(200);
  return setting;
}

const overrides = async (clientId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from four_miss_overrides where client_id = ${clientId}`))[0]?.n;

describe('overriding a met streak', () => {
  it('is refused (409) when the policy does not allow it, and changes nothing', async () => {
    const setting = await metClient();
    const { response, requestId } = await call(setting.therapist.token, 'POST', `/v1/clients/${setting.client.id}/attendance/override`, {
      modality: 'individual',
      reason: 'Hospitalised for three weeks, documented by the ward',
    });
    expect(expectProblem(response, 409).detail).toMatch(/does not allow overriding/);
    expect(await overrides(setting.client.id)).toBe(0);
    expect(await auditRecord(requestId)).toMatchObject({ subtype: 'four-miss-override', outcome: 'failure', http_status: 409 });
  });

  it('where allowed: needs a reason, is recorded with its basis, clears the episode mark, and cannot be repeated', async () => {
    const setting = await metClient({ overrideAllowed: true });
    const url = `/v1/clients/${setting.client.id}/attendance/override`;
    const { token } = setting.therapist;
    const short = await call(token, 'POST', url, { modality: 'individual', reason: 'too short' });
    expect(expectProblem(short.response, 400).errors?.map((e) => e.field)).toEqual(['reason']);
    const notMet = await call(token, 'POST', url, {
      modality: 'skills_group',
      reason: 'Hospitalised for three weeks, documented by the ward',
    });
    expect(expectProblem(notMet.response, 409).detail).toMatch(/streak is 0 of 4/);

    const [before] = await query<{ met: string | null }>(
      sql`select four_miss_met_on::text as met from treatment_episodes where client_id = ${setting.client.id} and status = 'active'`,
    );
    expect(before?.met).toBe(monday(1));
    const reason = 'Hospitalised for three weeks, documented by the ward';
    const { response, requestId } = await call(token, 'POST', url, { modality: 'individual', reason });
    expect(response.statusCode).toBe(201);
    const individual = response.json().modalities.find((m: Standing) => m.modality === 'individual') as Standing;
    expect(individual).toMatchObject({ status: 'met', metOn: monday(1), override: { reason } });
    expect(response.json()).toMatchObject({ fourMissMetOn: null, proposedDischarge: null });
    const [after] = await query<{ met: string | null }>(
      sql`select four_miss_met_on::text as met from treatment_episodes where client_id = ${setting.client.id} and status = 'active'`,
    );
    expect(after?.met).toBeNull();
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      subtype: 'four-miss-override',
      outcome: 'success',
      client_ids: [setting.client.id],
      details: {
        modality: 'individual',
        metOn: monday(1),
        streak: 4,
        basis: { policyVersion: 1, overrideAllowed: true },
        fourMiss: [{ clientId: setting.client.id, metOn: null, modalities: [] }],
      },
    });
    expectProblem((await call(token, 'POST', url, { modality: 'individual', reason })).response, 409);
    expect(await overrides(setting.client.id)).toBe(1);
  });

  it('is the primary therapist’s: an unrelated therapist and an administrator are refused', async () => {
    const setting = await metClient({ overrideAllowed: true });
    const url = `/v1/clients/${setting.client.id}/attendance/override`;
    const body = { modality: 'individual', reason: 'Hospitalised for three weeks, documented by the ward' };
    const colleague = await memberWithToken(app, setting.clinic.id, ['therapist']);
    expectProblem((await call(colleague.token, 'POST', url, body)).response, 403);
    expectProblem((await call(setting.admin.token, 'POST', url, body)).response, 403);
    expect(await overrides(setting.client.id)).toBe(0);
  });
});

describe('who sees streaks', () => {
  it('a skills trainer of the client’s group sees the group modality only; an unrelated therapist and compliance are refused', async () => {
    const setting = await activeClient(app);
    const group = await createSkillsGroup(setting.clinic.id, { programId: setting.program.id, weekday: 3 });
    await enrollClient(group, setting.client.id, addDays(monday(3), 2));
    const trainer = { id: group.leaderId, clinicId: setting.clinic.id, roles: ['skills_trainer'] };
    const { response, requestId } = await call(tokenFor(app, trainer), 'GET', `/v1/clients/${setting.client.id}/attendance`);
    expect(response.statusCode).toBe(200);
    expect(response.json().modalities.map((m: Standing) => m.modality)).toEqual(['skills_group']);
    expect(await auditRecord(requestId)).toMatchObject({
      access_basis: expect.objectContaining({ relationship: `group-trainer:${group.id}` }),
    });
    for (const roles of [['therapist'], ['compliance']] as const) {
      const other = await memberWithToken(app, setting.clinic.id, [...roles]);
      expectProblem((await call(other.token, 'GET', `/v1/clients/${setting.client.id}/attendance`)).response, 403);
    }
  });

  it('the at-risk list shows a therapist’s own clients and a trainer’s group members, met first, with the report’s streaks', async () => {
    const { clinic, admin } = await createClinic();
    const therapist = await memberWithToken(app, clinic.id, ['therapist']);
    const other = await memberWithToken(app, clinic.id, ['therapist']);
    const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
    const make = async (owner: { id: string }, misses: number) => {
      const client = await createClientRecord(clinic.id, { primaryTherapistId: owner.id });
      await activateClient(clinic.id, client.id, monday(12));
      const setting = { clinic, client, therapist: owner };
      await pastSession(setting, monday(misses + 1), 'attended');
      for (let weeksAgo = misses; weeksAgo >= 1; weeksAgo--) await pastSession(setting, monday(weeksAgo), 'no_show');
      return client;
    };
    const warning = await make(therapist, 3);
    const met = await make(therapist, 5);
    await make(therapist, 1);
    const notMine = await make(other, 4);
    const group = await createSkillsGroup(clinic.id, { leaderId: trainer.id, weekday: 3, programId: notMine.programId });
    await enrollClient(group, notMine.id, addDays(monday(4), 2));
    for (const weeksAgo of [4, 3, 2, 1]) {
      const session = await createGroupSession(group, addDays(monday(weeksAgo), 2));
      await groupMark(clinic.id, session.id, notMine.id, 'absent', trainer.id);
    }

    const mine = await call(therapist.token, 'GET', '/v1/attendance/at-risk');
    expect(mine.response.statusCode).toBe(200);
    const items = mine.response.json().items as Array<{ client: { id: string }; modalities: Standing[] }>;
    expect(items.map((i) => [i.client.id, i.modalities.map((m) => [m.modality, m.status, m.streak])])).toEqual([
      [met.id, [['individual', 'met', 5]]],
      [warning.id, [['individual', 'warning', 3]]],
    ]);
    const full = (await call(therapist.token, 'GET', `/v1/clients/${met.id}/attendance`)).response.json();
    expect(full.modalities.find((m: Standing) => m.modality === 'individual')).toMatchObject({ streak: 5, metOn: monday(2) });
    expect(await auditRecord(mine.requestId)).toMatchObject({ subtype: 'search', result_count: 2, client_ids: [met.id, warning.id] });

    const onlyMet = (await call(therapist.token, 'GET', '/v1/attendance/at-risk?status=met')).response.json();
    expect(onlyMet.items.map((i: { client: { id: string } }) => i.client.id)).toEqual([met.id]);
    const trainers = (await call(trainer.token, 'GET', '/v1/attendance/at-risk')).response.json();
    expect(trainers.items).toHaveLength(1);
    expect(trainers.items[0]).toMatchObject({
      client: { id: notMine.id },
      modalities: [{ modality: 'skills_group', status: 'met', streak: 4 }],
    });
    expectProblem((await call(tokenFor(app, admin), 'GET', '/v1/attendance/at-risk')).response, 403);
  });
});

/** The same history through the API on another database: the classification and streaks must come out identical. */
async function scenario(application: App, database: Database) {
  const { clinic, admin } = await createClinic(database);
  const asAdmin = tokenFor(application, admin);
  const talk = caller(application);
  const staff = await talk(asAdmin, 'POST', '/v1/staff', {
    email: 'parity-therapist@example.test',
    displayName: 'Parity Therapist',
    roles: ['therapist'],
    password: 'a long enough password',
  });
  const therapist = { id: staff.response.json().id as string, clinicId: clinic.id, roles: ['therapist'] };
  const token = tokenFor(application, therapist);
  const program = await talk(asAdmin, 'POST', '/v1/programs', { name: 'Parity adult', kind: 'adult', policy: { latenessMissMinutes: 10 } });
  const registered = await talk(token, 'POST', '/v1/clients', {
    givenName: 'Parity',
    familyName: 'Synthetic',
    dateOfBirth: '1991-02-03',
    programId: program.response.json().id,
  });
  const clientId = registered.response.json().id as string;
  await database.db.execute(sql`update treatment_episodes set status = 'active', contract_start = ${monday(9)}, contract_end = ${monday(-20)}
    where clinic_id = ${clinic.id} and client_id = ${clientId}`);
  const history: Array<[string, object]> = [
    [monday(8), { attendance: 'attended' }],
    [monday(7), { attendance: 'late', lateMinutes: 10 }],
    [monday(6), { attendance: 'cancelled_by_clinic' }],
    [monday(5), { attendance: 'late', lateMinutes: 9 }],
    [monday(4), { attendance: 'no_show' }],
    [addDays(monday(4), 2), { attendance: 'cancelled_by_client', noticeHours: 48 }],
    [monday(3), { attendance: 'rescheduled' }],
    [addDays(monday(3), 1), { attendance: 'no_show' }],
    [monday(2), { attendance: 'no_show' }],
    [monday(1), {}],
  ];
  for (const [day, fields] of history) {
    const created = await talk(token, 'POST', `/v1/clients/${clientId}/sessions`, {
      scheduledStart: `${day}T09:30:00+00:00`,
      durationMinutes: 50,
      type: 'regular',
      ...fields,
    });
    expect(created.response.statusCode).toBe(201);
  }
  const report = (await talk(token, 'GET', `/v1/clients/${clientId}/attendance`)).response.json();
  return report.modalities.map((m: Standing & { occurrences: Array<Record<string, unknown>>; unrecorded: number }) => ({
    modality: m.modality,
    streak: m.streak,
    status: m.status,
    metOn: m.metOn,
    unrecorded: m.unrecorded,
    occurrences: m.occurrences.map((o) => [o.date, o.outcome, o.reason, o.policyVersion, o.inStreak]),
  }));
}

describe('the same on PGlite and PostgreSQL', () => {
  it(`streaks over one history agree between this run's ${target.kind} database and a fresh embedded PGlite`, async () => {
    const here = await scenario(app, await testDatabase());
    const embedded = await openDatabase({ pglite: await PGlite.create() });
    await migrate(embedded);
    const other = await buildTestApp({}, embedded);
    const there = await scenario(other, embedded);
    expect(there).toEqual(here);
    expect(here[0]).toEqual({
      modality: 'individual',
      streak: 3,
      status: 'warning',
      metOn: null,
      unrecorded: 1,
      occurrences: [
        [monday(8), 'attended', 'attended', 1, false],
        [monday(7), 'miss', 'late-past-threshold', 1, false],
        [monday(6), 'neutral', 'clinic-cancelled', 1, false],
        [monday(5), 'attended', 'late-within-threshold', 1, false],
        [monday(4), 'miss', 'no-show', 1, true],
        [addDays(monday(4), 2), 'neutral', 'cancelled-with-notice', 1, false],
        [monday(3), 'neutral', 'rescheduled', 1, false],
        [addDays(monday(3), 1), 'miss', 'no-show', 1, true],
        [monday(2), 'miss', 'no-show', 1, true],
        [monday(1), 'unrecorded', 'not-recorded', 1, false],
      ],
    });
    expect(here[1]).toMatchObject({ modality: 'skills_group', streak: 0, status: 'ok', occurrences: [] });
    await other.close();
    await embedded.close();
  }, 60_000);
});
