import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { StaffRole } from '../../src/db/schema/index.js';
import { standardSkills } from '../../src/modules/skills/skills.catalog.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClinic, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type Skill = {
  id: string;
  module: string;
  name: string;
  acronym: string | null;
  sortOrder: number;
  standard: boolean;
  active: boolean;
  createdAt: string;
};

const modules = ['mindfulness', 'distress_tolerance', 'emotion_regulation', 'interpersonal_effectiveness', 'walking_the_middle_path'];

/** A fresh clinic with one member per role, each with a token. */
async function clinicWithStaff() {
  const { clinic, admin } = await createClinic();
  const member = (roles: StaffRole[]) => memberWithToken(app, clinic.id, roles);
  return {
    clinic,
    admin: { ...admin, token: tokenFor(app, admin) },
    trainer: await member(['skills_trainer']),
    therapist: await member(['therapist']),
    teamLead: await member(['team_lead']),
    compliance: await member(['compliance']),
  };
}

const list = async (token: string, search = '') =>
  ((await call(token, 'GET', `/v1/skills${search}`)).response.json() as { items: Skill[] }).items;

async function addSkill(token: string, body: object) {
  const { response } = await call(token, 'POST', '/v1/skills', body);
  expect(response.statusCode).toBe(201);
  return response.json() as Skill;
}

const skillCount = async (clinicId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from skills where clinic_id = ${clinicId}`))[0]?.n;

describe('the standard catalog', () => {
  it('a new clinic has every standard skill, in module order then diary-card order; audited as a search', async () => {
    const { clinic, therapist } = await clinicWithStaff();
    const { response, requestId } = await call(therapist.token, 'GET', '/v1/skills');
    expect(response.statusCode).toBe(200);
    const items = (response.json() as { items: Skill[] }).items;
    expect(items).toHaveLength(standardSkills.length);
    expect(items.every((skill) => skill.standard && skill.active)).toBe(true);
    const order = items.map((skill) => [modules.indexOf(skill.module), skill.sortOrder]);
    expect(order).toEqual([...order].sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number)));
    expect(items[0]).toMatchObject({ module: 'mindfulness', name: 'Wise Mind', acronym: null });
    const names = items.map((skill) => skill.name);
    for (const name of ['Observe', 'Describe', 'Participate', 'Pros and Cons', 'Self-soothe', 'Radical Acceptance', 'Turning the Mind']) {
      expect(names).toContain(name);
    }
    for (const name of ['Willingness', 'Check the Facts', 'Opposite Action', 'Problem Solving', 'Validation', 'Dialectics']) {
      expect(names).toContain(name);
    }
    const acronyms = items.map((skill) => skill.acronym).filter(Boolean);
    expect(acronyms).toEqual(expect.arrayContaining(['STOP', 'TIPP', 'ACCEPTS', 'IMPROVE', 'ABC PLEASE', 'DEAR MAN', 'GIVE', 'FAST']));
    expect(new Set(items.map((skill) => skill.module))).toEqual(new Set(modules));
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'R',
      subtype: 'search',
      outcome: 'success',
      result_count: standardSkills.length,
      data_category: 'skills-catalog',
      clinic_id: clinic.id,
    });
  });

  it('every role reads the catalog; the module filter narrows it', async () => {
    const team = await clinicWithStaff();
    for (const member of [team.admin, team.trainer, team.therapist, team.teamLead, team.compliance]) {
      const { response } = await call(member.token, 'GET', '/v1/skills');
      expect(response.statusCode).toBe(200);
    }
    const interpersonal = await list(team.therapist.token, '?module=interpersonal_effectiveness');
    expect(interpersonal.map((skill) => skill.acronym ?? skill.name)).toEqual(['DEAR MAN', 'GIVE', 'FAST', 'Validation']);
    expectProblem((await call(team.therapist.token, 'GET', '/v1/skills?module=grounding')).response, 400);
  });
});

describe("a clinic's own skills", () => {
  it('a skills trainer adds one: 201, standard=false, placed after the module’s last skill; audited; only in this clinic', async () => {
    const { trainer, therapist } = await clinicWithStaff();
    const { response, requestId } = await call(trainer.token, 'POST', '/v1/skills', {
      module: 'distress_tolerance',
      name: '  Paced breathing ',
      acronym: 'PB',
    });
    expect(response.statusCode).toBe(201);
    const skill = response.json() as Skill;
    expect(skill).toMatchObject({ module: 'distress_tolerance', name: 'Paced breathing', acronym: 'PB', standard: false, active: true });
    const module = await list(therapist.token, '?module=distress_tolerance');
    expect(module.at(-1)).toEqual(skill);
    expect(skill.sortOrder).toBeGreaterThan(module.at(-2)?.sortOrder as number);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      subtype: 'create',
      http_status: 201,
      resource_type: 'skill',
      resource_id: skill.id,
      data_category: 'skills-catalog',
      actor_id: trainer.id,
    });
    const other = await clinicWithStaff();
    expect((await list(other.therapist.token)).map((s) => s.id)).not.toContain(skill.id);
  });

  it('an explicit sort order places it; an admin may add too', async () => {
    const { admin, therapist } = await clinicWithStaff();
    const skill = await addSkill(admin.token, { module: 'mindfulness', name: 'Loving kindness', sortOrder: 15 });
    const names = (await list(therapist.token, '?module=mindfulness')).map((s) => s.name);
    expect(names.slice(0, 3)).toEqual(['Wise Mind', 'Loving kindness', 'Observe']);
    expect(skill.acronym).toBeNull();
  });

  it('409 for a name already in the module (standard or added); the same name in another module is fine', async () => {
    const { clinic, trainer } = await clinicWithStaff();
    const before = await skillCount(clinic.id);
    expectProblem((await call(trainer.token, 'POST', '/v1/skills', { module: 'mindfulness', name: 'Observe' })).response, 409);
    await addSkill(trainer.token, { module: 'emotion_regulation', name: 'Observe' });
    const { response, requestId } = await call(trainer.token, 'POST', '/v1/skills', { module: 'emotion_regulation', name: 'Observe' });
    expectProblem(response, 409);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    expect(await skillCount(clinic.id)).toBe((before as number) + 1);
  });

  it.each([
    ['module', { module: 'grounding', name: 'Five senses' }],
    ['name', { module: 'mindfulness', name: '   ' }],
    ['name', { module: 'mindfulness', name: 'x'.repeat(121) }],
    ['sortOrder', { module: 'mindfulness', name: 'Five senses', sortOrder: -1 }],
    ['standard', { module: 'mindfulness', name: 'Five senses', standard: true }],
  ])('400 naming %s, and nothing is added', async (field, body) => {
    const { clinic, trainer } = await clinicWithStaff();
    const before = await skillCount(clinic.id);
    const problem = expectProblem((await call(trainer.token, 'POST', '/v1/skills', body)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect(await skillCount(clinic.id)).toBe(before);
  });

  it('therapists, team leads and compliance may not add or change skills (403 by role)', async () => {
    const { trainer, therapist, teamLead, compliance } = await clinicWithStaff();
    const skill = await addSkill(trainer.token, { module: 'mindfulness', name: 'Body scan' });
    for (const member of [therapist, teamLead, compliance]) {
      const created = await call(member.token, 'POST', '/v1/skills', { module: 'mindfulness', name: 'Other scan' });
      expectProblem(created.response, 403);
      expect(await auditRecord(created.requestId)).toMatchObject({
        outcome: 'denied',
        denial_reason: expect.stringMatching(/^role-not-permitted/),
      });
      expectProblem((await call(member.token, 'PATCH', `/v1/skills/${skill.id}`, { active: false })).response, 403);
    }
  });
});

describe('changing a skill', () => {
  it("a clinic's own skill can be renamed, re-abbreviated, reordered and deactivated; audited with the fields", async () => {
    const { trainer, therapist } = await clinicWithStaff();
    const skill = await addSkill(trainer.token, { module: 'mindfulness', name: 'Body scan', acronym: 'BS' });
    const { response, requestId } = await call(trainer.token, 'PATCH', `/v1/skills/${skill.id}`, {
      name: 'Body scan (lying)',
      acronym: null,
      sortOrder: 5,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ...skill, name: 'Body scan (lying)', acronym: null, sortOrder: 5 });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      resource_id: skill.id,
      details: { fields: ['name', 'acronym', 'sortOrder'] },
    });
    expect((await list(therapist.token, '?module=mindfulness'))[0]?.id).toBe(skill.id);

    await call(trainer.token, 'PATCH', `/v1/skills/${skill.id}`, { active: false });
    expect((await list(therapist.token)).map((s) => s.id)).not.toContain(skill.id);
    const all = await list(therapist.token, '?includeInactive=true');
    expect(all.find((s) => s.id === skill.id)).toMatchObject({ active: false });
  });

  it('a standard skill changes only sortOrder and active; name or acronym is a 400 naming the field, nothing changed', async () => {
    const { clinic, admin, therapist } = await clinicWithStaff();
    const stop = (await list(therapist.token, '?module=distress_tolerance')).find((s) => s.acronym === 'STOP') as Skill;
    for (const [field, body] of [
      ['name', { name: 'Stop!' }],
      ['acronym', { acronym: null, sortOrder: 1 }],
    ] as const) {
      const { response, requestId } = await call(admin.token, 'PATCH', `/v1/skills/${stop.id}`, body);
      const problem = expectProblem(response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual([field]);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 400 });
    }
    const [row] = await query(sql`select name, acronym, sort_order from skills where clinic_id = ${clinic.id} and id = ${stop.id}`);
    expect(row).toEqual({ name: 'STOP', acronym: 'STOP', sort_order: stop.sortOrder });

    const { response } = await call(admin.token, 'PATCH', `/v1/skills/${stop.id}`, { sortOrder: 1, active: false });
    expect(response.json()).toMatchObject({ name: 'STOP', standard: true, sortOrder: 1, active: false });
    const reactivated = await call(admin.token, 'PATCH', `/v1/skills/${stop.id}`, { active: true });
    expect(reactivated.response.json()).toMatchObject({ active: true });
  });

  it("renaming onto a taken name is 409; another clinic's skill is 404; there is no delete", async () => {
    const { trainer } = await clinicWithStaff();
    const skill = await addSkill(trainer.token, { module: 'mindfulness', name: 'Body scan' });
    expectProblem((await call(trainer.token, 'PATCH', `/v1/skills/${skill.id}`, { name: 'Observe' })).response, 409);
    const other = await clinicWithStaff();
    const { response, requestId } = await call(other.trainer.token, 'PATCH', `/v1/skills/${skill.id}`, { active: false });
    expectProblem(response, 404);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, resource_id: skill.id });
    expect((await call(trainer.token, 'DELETE', `/v1/skills/${skill.id}`)).response.statusCode).toBe(404);
  });
});
