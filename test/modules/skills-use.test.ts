import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { DiaryDayEntry } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { today } from '../../src/modules/programs/programs.queries.js';
import { addDays } from '../../src/modules/skills-groups/skills-groups.curriculum.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, memberWithToken } from '../helpers/factories.js';
import { createSkillsGroup, enrollClient } from '../helpers/groups.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

const PRIVATE_NOTE = 'Synthetic private diary note';

/** Writes one diary day straight to the database (set-up, not under test). */
async function diaryDay(clinicId: string, clientId: string, day: string, skillsOverall: number | null, skillIds: string[]) {
  const cardId = uuidv7();
  await query(sql`insert into diary_cards (clinic_id, id, client_id, week_start) values (${clinicId}, ${cardId}, ${clientId}, ${day})`);
  const entry: DiaryDayEntry = {
    targets: [{ targetId: uuidv7(), targetVersion: 1, urge: 4, action: true }],
    emotions: { sadness: 3 },
    substances: { alcoholDrinks: 2, drugs: [], prn: [], prescribedTaken: true },
    skillsOverall,
    skillIds,
    urgeToQuit: 3,
    notes: PRIVATE_NOTE,
  };
  await query(sql`insert into diary_days (clinic_id, card_id, day, entry, first_entered_at, last_entered_at, back_filled)
    values (${clinicId}, ${cardId}, ${day}, ${JSON.stringify(entry)}::jsonb, now(), now(), false)`);
}

async function setting() {
  const team = await clientWithCareTeam(app);
  const { clinic, client } = team;
  const trainer = await memberWithToken(app, clinic.id, ['skills_trainer']);
  const group = await createSkillsGroup(clinic.id, { programId: client.programId, leaderId: trainer.id, cycleStartDate: '2026-01-05' });
  const enrollment = await enrollClient(group, client.id, '2026-01-05');
  const skills = await query<{ id: string; name: string; module: string }>(
    sql`select id, name, module from skills where clinic_id = ${clinic.id} order by sort_order, name limit 2`,
  );
  const [first, second] = skills as [(typeof skills)[number], (typeof skills)[number]];
  await diaryDay(clinic.id, client.id, addDays(today(), -40), 2, [first.id]);
  await diaryDay(clinic.id, client.id, addDays(today(), -3), 5, [first.id, second.id]);
  await diaryDay(clinic.id, client.id, addDays(today(), -1), null, []);
  return { ...team, trainer, group, enrollment, skills: [first, second], url: `/v1/clients/${client.id}/skills-use` };
}

describe("a client's skills use", () => {
  it('the trainer of the client’s current group sees the skills of each day and nothing else of the card', async () => {
    const s = await setting();
    const { response, requestId } = await call(s.trainer.token, 'GET', s.url);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      clientId: s.client.id,
      from: addDays(today(), -27),
      to: today(),
      days: [
        { date: addDays(today(), -3), skillsOverall: 5, skills: s.skills },
        { date: addDays(today(), -1), skillsOverall: null, skills: [] },
      ],
    });
    for (const word of [PRIVATE_NOTE, 'urge', 'notes', 'emotions', 'sadness', 'substances', 'targets']) {
      expect(response.body).not.toContain(word);
    }
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      resource_type: 'diary-card',
      data_category: 'diary-card-skills',
      client_ids: [s.client.id],
      result_count: 2,
      access_basis: { rule: 'clients.group-view', role: 'skills_trainer', relationship: `group-trainer:${s.group.id}` },
    });
  });

  it('takes a range: from and to inclusive; to before from or more than 366 days is a 400', async () => {
    const s = await setting();
    const from = addDays(today(), -60);
    const ranged = await call(s.trainer.token, 'GET', `${s.url}?from=${from}&to=${addDays(today(), -2)}`);
    expect((ranged.response.json() as { days: Array<{ date: string }> }).days.map((day) => day.date)).toEqual([
      addDays(today(), -40),
      addDays(today(), -3),
    ]);
    for (const [search, field] of [
      [`from=${today()}&to=${addDays(today(), -1)}`, 'to'],
      [`from=${addDays(today(), 1)}`, 'from'],
      [`from=2020-01-01&to=2020-12-31`, null],
      [`from=2020-01-01&to=2021-01-01`, 'to'],
      ['from=yesterday', 'from'],
      ['week=1', 'week'],
    ] as const) {
      const { response } = await call(s.trainer.token, 'GET', `${s.url}?${search}`);
      if (field === null) {
        expect(response.statusCode).toBe(200);
        continue;
      }
      expect(expectProblem(response, 400).errors?.[0]).toMatchObject({ in: 'query', field });
    }
  });

  it('once the enrollment has ended, the trainer is refused', async () => {
    const s = await setting();
    const end = await call(
      s.trainer.token,
      'POST',
      `/v1/skills-groups/${s.group.id}/enrollments/${s.enrollment.id}/end`,
      { endDate: addDays(today(), -1), reason: 'client_choice' },
      { 'if-match': '"1"' },
    );
    expect(end.response.statusCode).toBe(200);
    const { response, requestId } = await call(s.trainer.token, 'GET', s.url);
    expectProblem(response, 403);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'no-relationship', client_ids: [s.client.id] });
  });

  it('the primary therapist may read it; an unrelated therapist, another trainer and an administrator may not', async () => {
    const s = await setting();
    const own = await call(s.therapist.token, 'GET', s.url);
    expect(own.response.statusCode).toBe(200);
    expect((await auditRecord(own.requestId)).access_basis).toMatchObject({ relationship: 'primary-therapist' });
    const otherTrainer = await memberWithToken(app, s.clinic.id, ['skills_trainer']);
    for (const token of [s.colleague.token, otherTrainer.token]) {
      const { response, requestId } = await call(token, 'GET', s.url);
      expectProblem(response, 403);
      expect((await auditRecord(requestId)).denial_reason).toBe('no-relationship');
    }
    const admin = await call(s.admin.token, 'GET', s.url);
    expectProblem(admin.response, 403);
    expect((await auditRecord(admin.requestId)).denial_reason).toBe('role-not-permitted:clients.group-view');
  });
});
