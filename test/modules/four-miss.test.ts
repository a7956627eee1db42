import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/modules/skills-groups/skills-groups.curriculum.js';
import { buildTestApp, query } from '../helpers/app.js';
import { activeClient, groupMark, monday, pastSession } from '../helpers/attendance.js';
import { createGroupSession, createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { auditRecord, caller } from '../helpers/http.js';

const app = await buildTestApp();
const call = caller(app);

interface Standing {
  modality: string;
  streak: number;
  status: string;
  metOn: string | null;
  unit: string;
  threshold: number;
  unrecorded: number;
  streakUnits: Array<{ start: string; last: string; occurrenceIds: string[] }>;
  occurrences: Array<{ id: string; date: string; outcome: string; reason: string; policyVersion: number; inStreak: boolean }>;
  override: unknown;
}
interface Report {
  episodeId: string | null;
  fourMissMetOn: string | null;
  proposedDischarge: { reason: string; on: string; reEntryEligibleOn: string | null } | null;
  modalities: Standing[];
}

async function report(token: string, clientId: string) {
  const { response, requestId } = await call(token, 'GET', `/v1/clients/${clientId}/attendance`);
  expect(response.statusCode).toBe(200);
  return { body: response.json() as Report, requestId };
}
const modality = (body: Report, name: string) => body.modalities.find((m) => m.modality === name) as Standing;

const episodeFlag = async (clientId: string) =>
  (
    await query<{ met: string | null; modalities: string[] }>(
      sql`select four_miss_met_on::text as met, four_miss_modalities as modalities from treatment_episodes where client_id = ${clientId} and status = 'active'`,
    )
  )[0];

describe('counting by consecutive scheduled weeks', () => {
  it('a week with two sessions where one was attended is attended; by sessions the later miss still counts', async () => {
    const setting = await activeClient(app);
    await pastSession(setting, monday(5), 'attended');
    await pastSession(setting, monday(4), 'no_show');
    await pastSession(setting, monday(3), 'attended');
    await pastSession(setting, addDays(monday(3), 3), 'no_show');
    await pastSession(setting, monday(2), 'no_show');
    await pastSession(setting, monday(1), 'no_show');
    const { body, requestId } = await report(setting.therapist.token, setting.client.id);
    const individual = modality(body, 'individual');
    expect(individual).toMatchObject({ unit: 'consecutive_scheduled_weeks', threshold: 4, streak: 2, status: 'ok', metOn: null });
    expect(individual.streakUnits.map((u) => u.start)).toEqual([monday(2), monday(1)]);
    expect(individual.occurrences.map((o) => o.outcome)).toEqual(['attended', 'miss', 'attended', 'miss', 'miss', 'miss']);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      resource_type: 'attendance-report',
      data_category: 'attendance',
      client_ids: [setting.client.id],
      outcome: 'success',
    });

    const bySessions = await activeClient(app, { missCountingUnit: 'consecutive_sessions' });
    for (const [date, kind] of [
      [monday(3), 'attended'],
      [addDays(monday(3), 3), 'no_show'],
      [monday(2), 'no_show'],
      [monday(1), 'no_show'],
    ] as const) {
      await pastSession(bySessions, date, kind);
    }
    const sessions = modality((await report(bySessions.therapist.token, bySessions.client.id)).body, 'individual');
    expect(sessions).toMatchObject({ unit: 'consecutive_sessions', streak: 3, status: 'warning' });
  });

  it('a clinic cancellation in the middle of a streak neither breaks nor extends it', async () => {
    const setting = await activeClient(app);
    await pastSession(setting, monday(5), 'attended');
    await pastSession(setting, monday(4), 'no_show');
    await pastSession(setting, monday(3), 'no_show');
    const cancelled = await pastSession(setting, monday(2), 'cancelled_by_clinic');
    await pastSession(setting, monday(1), 'no_show');
    const individual = modality((await report(setting.therapist.token, setting.client.id)).body, 'individual');
    expect(individual).toMatchObject({ streak: 3, status: 'warning' });
    expect(individual.streakUnits.map((u) => u.start)).toEqual([monday(4), monday(3), monday(1)]);
    expect(individual.occurrences.find((o) => o.id === cancelled)).toMatchObject({
      outcome: 'neutral',
      reason: 'clinic-cancelled',
      inStreak: false,
    });
  });

  it('lateness exactly at the threshold is a miss, a minute less is attended; late cancellations follow the notice hours', async () => {
    const setting = await activeClient(app, { latenessMissMinutes: 15, lateCancelMissHours: 24 });
    const atThreshold = await pastSession(setting, monday(4), 'late', { lateMinutes: 15 });
    const under = await pastSession(setting, monday(3), 'late', { lateMinutes: 14 });
    const lateCancel = await pastSession(setting, monday(2), 'cancelled_by_client', { noticeHours: 23 });
    const withNotice = await pastSession(setting, monday(1), 'cancelled_by_client', { noticeHours: 24 });
    const individual = modality((await report(setting.therapist.token, setting.client.id)).body, 'individual');
    const judged = Object.fromEntries(individual.occurrences.map((o) => [o.id, [o.outcome, o.reason]]));
    expect(judged).toEqual({
      [atThreshold]: ['miss', 'late-past-threshold'],
      [under]: ['attended', 'late-within-threshold'],
      [lateCancel]: ['miss', 'late-cancellation'],
      [withNotice]: ['neutral', 'cancelled-with-notice'],
    });
    expect(individual.streak).toBe(1);
  });

  it('a past session with nothing recorded is reported as unrecorded and leaves the streak as it was', async () => {
    const setting = await activeClient(app);
    await pastSession(setting, monday(3), 'no_show');
    await pastSession(setting, monday(2), 'scheduled');
    await pastSession(setting, monday(1), 'no_show');
    const individual = modality((await report(setting.therapist.token, setting.client.id)).body, 'individual');
    expect(individual).toMatchObject({ streak: 2, unrecorded: 1 });
  });
});

describe('policy over time', () => {
  it('each occurrence is judged by the version in force on its date; a policy change re-evaluates the episode', async () => {
    const setting = await activeClient(app, { latenessMissMinutes: null });
    const { clinic, program, client, admin } = setting;
    await query(sql`insert into program_policies (clinic_id, program_id, version, effective_from, four_miss_threshold, miss_counting_unit,
        counted_modalities, lateness_miss_minutes, late_cancel_miss_hours, override_allowed, twenty_four_hour_rule,
        twenty_four_hour_triggers, contract_weeks, skills_cycle_weeks, group_size_limit, entry_at_module_start_only,
        group_requires_individual, week_starts_on)
      select clinic_id, program_id, 2, ${monday(2)}, four_miss_threshold, miss_counting_unit, counted_modalities, 15,
        late_cancel_miss_hours, override_allowed, twenty_four_hour_rule, twenty_four_hour_triggers, contract_weeks,
        skills_cycle_weeks, group_size_limit, entry_at_module_start_only, group_requires_individual, week_starts_on
      from program_policies where clinic_id = ${clinic.id} and program_id = ${program.id} and version = 1`);
    for (const weeksAgo of [4, 3, 2, 1]) await pastSession(setting, monday(weeksAgo), 'late', { lateMinutes: 30 });
    const before = modality((await report(setting.therapist.token, client.id)).body, 'individual');
    expect(before.occurrences.map((o) => [o.outcome, o.policyVersion])).toEqual([
      ['attended', 1],
      ['attended', 1],
      ['miss', 2],
      ['miss', 2],
    ]);
    expect(before).toMatchObject({ streak: 2, status: 'ok' });
    expect(await episodeFlag(client.id)).toEqual({ met: null, modalities: [] });

    const programUrl = `/v1/programs/${program.id}`;
    const etag = (await call(admin.token, 'GET', programUrl)).response.headers.etag as string;
    const policy = (await call(admin.token, 'GET', programUrl)).response.json().policy;
    const { version: _v, effectiveFrom: _e, createdBy: _c, createdAt: _a, ...settings } = policy;
    const changed = await call(admin.token, 'PUT', `${programUrl}/policy`, { ...settings, fourMissThreshold: 2 }, { 'if-match': etag });
    expect(changed.response.statusCode).toBe(200);
    expect(await episodeFlag(client.id)).toEqual({ met: monday(1), modalities: ['individual'] });
    const after = (await report(setting.therapist.token, client.id)).body;
    expect(modality(after, 'individual')).toMatchObject({ threshold: 2, streak: 2, status: 'met', metOn: monday(1) });
  });
});

describe('skills group occurrences', () => {
  it('count only while the enrollment covers them; clinic-cancelled sessions are neutral', async () => {
    const setting = await activeClient(app);
    const group = await createSkillsGroup(setting.clinic.id, {
      programId: setting.program.id,
      weekday: 3,
      cycleStartDate: addDays(monday(12), 2),
    });
    const dates = [6, 5, 4, 3, 2, 1].map((weeksAgo) => addDays(monday(weeksAgo), 2));
    const sessions = [];
    for (const date of dates)
      sessions.push(await createGroupSession(group, date, { status: date === dates[2] ? 'cancelled_by_clinic' : 'scheduled' }));
    await enrollClient(group, setting.client.id, dates[0] as string, dates[3] as string);
    await groupMark(setting.clinic.id, (sessions[0] as { id: string }).id, setting.client.id, 'present', group.leaderId);
    await groupMark(setting.clinic.id, (sessions[1] as { id: string }).id, setting.client.id, 'absent', group.leaderId);
    await groupMark(setting.clinic.id, (sessions[3] as { id: string }).id, setting.client.id, 'absent', group.leaderId);
    const skills = modality((await report(setting.therapist.token, setting.client.id)).body, 'skills_group');
    expect(skills.occurrences.map((o) => [o.date, o.outcome])).toEqual([
      [dates[0], 'attended'],
      [dates[1], 'miss'],
      [dates[2], 'neutral'],
      [dates[3], 'miss'],
    ]);
    expect(skills).toMatchObject({ streak: 2, status: 'ok' });
  });

  it('three misses in one modality and four in the other: warning and met, the episode marked and a four_miss discharge proposed', async () => {
    const setting = await activeClient(app);
    const { clinic, client, therapist } = setting;
    const group = await createSkillsGroup(clinic.id, { programId: setting.program.id, weekday: 3, cycleStartDate: addDays(monday(12), 2) });
    await enrollClient(group, client.id, addDays(monday(6), 2));
    for (const weeksAgo of [5, 4, 3, 2]) {
      const session = await createGroupSession(group, addDays(monday(weeksAgo), 2));
      await groupMark(clinic.id, session.id, client.id, weeksAgo === 3 ? 'absent_with_notice' : 'absent', group.leaderId);
    }
    const last = await createGroupSession(group, addDays(monday(1), 2));
    await groupMark(clinic.id, last.id, client.id, 'absent', group.leaderId);
    await pastSession(setting, monday(4), 'attended');
    await pastSession(setting, monday(3), 'no_show');
    await pastSession(setting, monday(2), 'no_show');
    const lastIndividual = await pastSession(setting, monday(1), 'scheduled');

    // An attendance write re-evaluates: recording the last individual session as a no-show.
    const patched = await call(
      therapist.token,
      'PATCH',
      `/v1/sessions/${lastIndividual}`,
      { attendance: 'no_show' },
      { 'if-match': '"1"' },
    );
    expect(patched.response.statusCode).toBe(200);
    const metOn = addDays(monday(1), 2);
    expect(await episodeFlag(client.id)).toEqual({ met: metOn, modalities: ['skills_group'] });
    // The write that set the mark says so in its own audit record.
    expect((await auditRecord(patched.requestId)).details).toMatchObject({
      fourMiss: [{ clientId: client.id, metOn, modalities: ['skills_group'], episodeId: expect.any(String) }],
    });

    const body = (await report(therapist.token, client.id)).body;
    expect(modality(body, 'individual')).toMatchObject({ streak: 3, status: 'warning', metOn: null });
    expect(modality(body, 'skills_group')).toMatchObject({ streak: 4, status: 'met', metOn });
    expect(body.fourMissMetOn).toBe(metOn);
    const [episode] = (await call(therapist.token, 'GET', `/v1/clients/${client.id}/episodes`)).response.json().items;
    expect(body.proposedDischarge).toEqual({ reason: 'four_miss', on: metOn, reEntryEligibleOn: episode.contractEnd });
    expect(episode).toMatchObject({ fourMissMetOn: metOn, fourMissModalities: ['skills_group'] });

    const discharged = await call(
      therapist.token,
      'POST',
      `/v1/clients/${client.id}/episodes/${episode.id}/transitions`,
      { to: 'discharged', reason: 'four_miss' },
      { 'if-match': `"${episode.version}"` },
    );
    expect(discharged.response.statusCode).toBe(200);
    expect(discharged.response.json()).toMatchObject({ dischargeReason: 'four_miss', reEntryEligibleOn: episode.contractEnd });
  });
});
