import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import type { StaffRole } from '../../src/db/schema/index.js';
import { seedDemoClinic } from '../../src/modules/clinics/clinics.demo.js';
import { today } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query, testConfig } from '../helpers/app.js';
import { bearer, createClinic, createProgram, createStaffMember, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Client = Record<string, unknown> & { id: string; version: number; status: string; primaryTherapistId: string | null };
type ClientPage = { items: Client[]; nextCursor: string | null };

const call = caller(app);

const countSql = 'select (select count(*)::int from clients) as clients, (select count(*)::int from treatment_episodes) as episodes';
const counts = async () => (await query(countSql))[0];

/** A clinic with an adult program, an admin, two therapists and a compliance officer, each with a token. */
async function clinicWithStaff() {
  const { clinic, admin } = await createClinic();
  const { program } = await createProgram(clinic.id);
  const member = (roles: StaffRole[]) => memberWithToken(app, clinic.id, roles);
  return {
    clinic,
    program,
    admin: { ...admin, token: tokenFor(app, admin) },
    therapist: await member(['therapist']),
    otherTherapist: await member(['therapist']),
    compliance: await member(['compliance']),
  };
}

const newClient = (programId: string, more: Record<string, unknown> = {}) => ({
  ...{ givenName: 'Testy', familyName: 'Synthetic', dateOfBirth: '1990-04-01', programId },
  ...more,
});

async function register(token: string, body: Record<string, unknown>) {
  const { response } = await call(token, 'POST', '/v1/clients', body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as Client;
}

const list = async (token: string, search = '') => {
  const { response, requestId } = await call(token, 'GET', `/v1/clients${search}`);
  expect(response.statusCode, response.body).toBe(200);
  return { page: response.json() as ClientPage, requestId };
};
const idsOf = (page: ClientPage) => page.items.map((client) => client.id);
const fieldsOf = (response: Awaited<ReturnType<typeof app.inject>>) =>
  expectProblem(response, 400).errors?.map((error) => `${error.in}.${error.field}`);

describe('registering a client', () => {
  it('201 with ETag and Location; a referred episode under the policy in force; audited with the client id', async () => {
    const { clinic, program, admin, therapist } = await clinicWithStaff();
    const input = newClient(program.id, {
      preferredName: 'Tess',
      pronouns: 'she/her',
      phone: '+1 555 0100',
      email: 'testy.synthetic@example.test',
      emergencyContact: { name: 'Contact Synthetic', relationship: 'sibling', phone: '+1 555 0101' },
      externalRecordNumber: 'MRN-0001',
      primaryTherapistId: therapist.id,
      teamId: null,
    });
    const { response, requestId } = await call(admin.token, 'POST', '/v1/clients', input);
    expect(response.statusCode).toBe(201);
    const client = response.json() as Client;
    expect(client).toEqual({
      ...input,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'referred',
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      enteredInError: null,
    });
    expect(response.headers.etag).toBe('"1"');
    expect(response.headers.location).toBe(`/v1/clients/${client.id}`);
    const episodes = await query(
      sql`select status, program_id, policy_version, created_by, referred_on::text from treatment_episodes where client_id = ${client.id}`,
    );
    expect(episodes).toEqual([
      { status: 'referred', program_id: program.id, policy_version: 1, created_by: admin.id, referred_on: today() },
    ]);
    expect(await auditRecord(requestId)).toMatchObject({
      clinic_id: clinic.id,
      actor_id: admin.id,
      action: 'C',
      subtype: 'create',
      outcome: 'success',
      http_status: 201,
      resource_id: client.id,
      client_ids: [client.id],
      data_category: 'client-registration',
    });
    const read = await call(admin.token, 'GET', `/v1/clients/${client.id}`);
    expect(read.response.json()).toEqual(client);
    expect(read.response.headers.etag).toBe('"1"');
  });

  it('a therapist without primaryTherapistId becomes it; an admin may leave it empty; the therapist must be an active therapist', async () => {
    const { clinic, program, admin, therapist, otherTherapist, compliance } = await clinicWithStaff();
    expect((await register(therapist.token, newClient(program.id))).primaryTherapistId).toBe(therapist.id);
    expect((await register(therapist.token, newClient(program.id, { primaryTherapistId: null }))).primaryTherapistId).toBe(therapist.id);
    const forColleague = await register(therapist.token, newClient(program.id, { primaryTherapistId: otherTherapist.id }));
    expect(forColleague.primaryTherapistId).toBe(otherTherapist.id);
    expect((await register(admin.token, newClient(program.id))).primaryTherapistId).toBeNull();

    const inactive = await createStaffMember(clinic.id, ['therapist']);
    await query(sql`update staff set active = false where id = ${inactive.id}`);
    const elsewhere = await createStaffMember((await createClinic()).clinic.id, ['therapist']);
    const before = await counts();
    for (const id of [admin.id, compliance.id, inactive.id, elsewhere.id, randomUUID()]) {
      const { response } = await call(admin.token, 'POST', '/v1/clients', newClient(program.id, { primaryTherapistId: id }));
      expect(fieldsOf(response)).toEqual(['body.primaryTherapistId']);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses bad input with 400 naming the field; nothing is written and the failure is audited', async () => {
    const { program, admin } = await clinicWithStaff();
    const foreignProgram = (await createProgram((await createClinic()).clinic.id)).program;
    const before = await counts();
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const base = newClient(program.id);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, givenName: '   ' }, 'givenName'],
      [{ ...base, familyName: undefined }, 'familyName'],
      [{ ...base, dateOfBirth: tomorrow }, 'dateOfBirth'],
      [{ ...base, dateOfBirth: '1899-12-31' }, 'dateOfBirth'],
      [{ ...base, dateOfBirth: '2001-02-29' }, 'dateOfBirth'],
      [{ ...base, email: 'not-an-email' }, 'email'],
      [{ ...base, phone: 'call me' }, 'phone'],
      [{ ...base, emergencyContact: { name: 'Contact Synthetic' } }, 'emergencyContact.phone'],
      [{ ...base, programId: 'nope' }, 'programId'],
      [{ ...base, programId: foreignProgram.id }, 'programId'],
      [{ ...base, teamId: 'team-1' }, 'teamId'],
      [{ ...base, status: 'active' }, 'status'],
    ];
    for (const [payload, field] of cases) {
      const { response, requestId } = await call(admin.token, 'POST', '/v1/clients', payload);
      expect(fieldsOf(response), JSON.stringify(payload)).toEqual([`body.${field}`]);
      expect(await auditRecord(requestId)).toMatchObject({ subtype: 'create', outcome: 'failure', http_status: 400 });
    }
    expect(await counts()).toEqual(before);
  });

  it('external record numbers are unique per clinic (409), and free in another clinic', async () => {
    const { program, admin } = await clinicWithStaff();
    const first = await register(admin.token, newClient(program.id, { externalRecordNumber: 'MRN-42' }));
    const before = await counts();
    const duplicate = newClient(program.id, { externalRecordNumber: 'MRN-42' });
    const { response, requestId } = await call(admin.token, 'POST', '/v1/clients', duplicate);
    expectProblem(response, 409);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409 });
    expect(await counts()).toEqual(before);
    const other = await clinicWithStaff();
    await register(other.admin.token, newClient(other.program.id, { externalRecordNumber: 'MRN-42' }));
    const second = await register(admin.token, newClient(program.id, { externalRecordNumber: 'MRN-43' }));
    const clash = await call(admin.token, 'PATCH', `/v1/clients/${second.id}`, { externalRecordNumber: 'MRN-42' }, { 'if-match': '"1"' });
    expectProblem(clash.response, 409);
    expect((await call(admin.token, 'GET', `/v1/clients/${first.id}`)).response.json().externalRecordNumber).toBe('MRN-42');
  });
});

describe('listing clients', () => {
  it('filters by status, therapist and program; pages by id without skips or repeats; audits every client returned', async () => {
    const { clinic, program, admin, therapist, otherTherapist } = await clinicWithStaff();
    const { program: otherProgram } = await createProgram(clinic.id, 'adolescent_family');
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await register(therapist.token, newClient(program.id)));
    const theirs = await register(otherTherapist.token, newClient(otherProgram.id));
    await query(sql`update clients set status = 'active' where id in (${mine[0]?.id}, ${mine[1]?.id})`);
    const all = [...mine, theirs].map((client) => client.id).sort();

    const { page, requestId } = await list(admin.token);
    expect(idsOf(page)).toEqual(all);
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({ subtype: 'search', result_count: 6, data_category: 'client-registration' });
    expect([...(record.client_ids as string[])].sort()).toEqual(all);
    expect(record.access_basis).toMatchObject({ rule: 'clients.read', relationship: 'registration-only' });

    expect(idsOf((await list(admin.token, '?status=active')).page)).toEqual([mine[0]?.id, mine[1]?.id].sort());
    expect(idsOf((await list(admin.token, `?primaryTherapistId=${otherTherapist.id}`)).page)).toEqual([theirs.id]);
    expect(idsOf((await list(admin.token, `?programId=${otherProgram.id}`)).page)).toEqual([theirs.id]);
    expect(idsOf((await list(admin.token, `?status=referred&programId=${program.id}`)).page)).toHaveLength(3);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { page: part, requestId: partId } = await list(admin.token, `?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect((await auditRecord(partId)).client_ids).toEqual(idsOf(part));
      seen.push(...idsOf(part));
      cursor = part.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);

    // A therapist sees only their own clients, whatever they ask for.
    expect(idsOf((await list(therapist.token)).page)).toEqual(mine.map((client) => client.id).sort());
    expect(idsOf((await list(therapist.token, `?primaryTherapistId=${otherTherapist.id}`)).page)).toEqual([]);
    expect(fieldsOf((await call(admin.token, 'GET', '/v1/clients?status=waiting')).response)).toEqual(['query.status']);
  });

  it('searches given, family and preferred names case-insensitively, with LIKE wildcards taken literally', async () => {
    const { program, admin } = await clinicWithStaff();
    const ada = await register(admin.token, newClient(program.id, { givenName: 'Adaline', familyName: 'Placeholder' }));
    const bo = await register(admin.token, newClient(program.id, { givenName: 'Bo', familyName: 'Fakename', preferredName: 'Bobo' }));
    const odd = await register(admin.token, newClient(program.id, { givenName: 'Per%cent_', familyName: 'Back\\slash' }));
    const search = async (q: string) => idsOf((await list(admin.token, `?q=${encodeURIComponent(q)}`)).page);
    expect(await search('adal')).toEqual([ada.id]);
    expect(await search('PLACEHOLD')).toEqual([ada.id]);
    expect(await search('bob')).toEqual([bo.id]);
    expect(await search('adaline placeholder')).toEqual([ada.id]);
    expect(await search('%')).toEqual([odd.id]);
    expect(await search('_')).toEqual([odd.id]);
    expect(await search('\\')).toEqual([odd.id]);
    expect(await search('zzz')).toEqual([]);
  });
});

describe('changing a client', () => {
  it('PATCH needs If-Match (428, 412), bumps the version and audits the changed field names only', async () => {
    const { program, admin, therapist } = await clinicWithStaff();
    const client = await register(therapist.token, newClient(program.id, { phone: '+1 555 0100' }));
    const url = `/v1/clients/${client.id}`;
    expectProblem((await call(therapist.token, 'PATCH', url, { pronouns: 'he/him' })).response, 428);
    expectProblem((await call(therapist.token, 'PATCH', url, { pronouns: 'he/him' }, { 'if-match': '"7"' })).response, 412);
    const change = { pronouns: 'he/him', phone: '+1 555 0100', email: 'new.synthetic@example.test' };
    const { response, requestId } = await call(therapist.token, 'PATCH', url, change, { 'if-match': '"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.json()).toMatchObject({ ...change, version: 2 });
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({ subtype: 'update', client_ids: [client.id], details: { fields: ['pronouns', 'email'] } });
    expect(JSON.stringify(record)).not.toContain('new.synthetic');
    const unchanged = await call(admin.token, 'PATCH', url, { pronouns: 'he/him' }, { 'if-match': '"2"' });
    expect(unchanged.response.json()).toMatchObject({ version: 2 });
    const cleared = await call(admin.token, 'PATCH', url, { pronouns: null, primaryTherapistId: null }, { 'if-match': '"2"' });
    expect(cleared.response.json()).toMatchObject({ pronouns: null, primaryTherapistId: null, version: 3 });
  });

  it('the primary therapist may change it, validated like create; an unrelated therapist gets 403', async () => {
    const { clinic, program, therapist, otherTherapist, compliance } = await clinicWithStaff();
    const client = await register(therapist.token, newClient(program.id));
    const url = `/v1/clients/${client.id}`;
    const denied = await call(otherTherapist.token, 'PATCH', url, { pronouns: 'they/them' }, { 'if-match': '"1"' });
    expectProblem(denied.response, 403);
    expect(await auditRecord(denied.requestId)).toMatchObject({ denial_reason: 'no-relationship', client_ids: [client.id] });
    for (const [body, field] of [
      [{ primaryTherapistId: compliance.id }, 'primaryTherapistId'],
      [{ primaryTherapistId: null }, 'primaryTherapistId'],
      [{ programId: randomUUID() }, 'programId'],
      [{ dateOfBirth: '1850-01-01' }, 'dateOfBirth'],
      [{ givenName: null }, 'givenName'],
      [{ status: 'active' }, 'status'],
    ] as const) {
      expect(fieldsOf((await call(therapist.token, 'PATCH', url, body, { 'if-match': '"1"' })).response)).toEqual([`body.${field}`]);
    }
    const { program: otherProgram } = await createProgram(clinic.id);
    const handover = { primaryTherapistId: otherTherapist.id, programId: otherProgram.id };
    const moved = await call(therapist.token, 'PATCH', url, handover, { 'if-match': '"1"' });
    expect(moved.response.json()).toMatchObject({ ...handover, version: 2 });
    expectProblem((await call(therapist.token, 'GET', url)).response, 403);
    expect((await call(otherTherapist.token, 'GET', url)).response.statusCode).toBe(200);
  });

  it('entered in error: hidden from lists, kept and readable by id; a second mark is 409', async () => {
    const { program, admin, therapist } = await clinicWithStaff();
    const client = await register(therapist.token, newClient(program.id));
    const kept = await register(therapist.token, newClient(program.id));
    const url = `/v1/clients/${client.id}/entered-in-error`;
    expect(fieldsOf((await call(admin.token, 'POST', url, { reason: 'too short' })).response)).toEqual(['body.reason']);
    const reason = 'Duplicate of another synthetic registration';
    const { response, requestId } = await call(admin.token, 'POST', url, { reason });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 2, enteredInError: { at: expect.any(String), by: admin.id, reason } });
    expect(await auditRecord(requestId)).toMatchObject({ action: 'D', subtype: 'entered-in-error', client_ids: [client.id] });

    expect(idsOf((await list(admin.token)).page)).toEqual([kept.id]);
    expect(idsOf((await list(therapist.token)).page)).toEqual([kept.id]);
    expect(idsOf((await list(admin.token, '?includeEnteredInError=true')).page)).toEqual([client.id, kept.id].sort());
    const forbidden = await call(therapist.token, 'GET', '/v1/clients?includeEnteredInError=true');
    expectProblem(forbidden.response, 403);
    expect(await auditRecord(forbidden.requestId)).toMatchObject({ outcome: 'denied', client_ids: [] });

    const read = await call(therapist.token, 'GET', `/v1/clients/${client.id}`);
    expect(read.response.json().enteredInError).toEqual(response.json().enteredInError);
    expectProblem((await call(admin.token, 'POST', url, { reason })).response, 409);
    expectProblem((await call(admin.token, 'PATCH', `/v1/clients/${client.id}`, { pronouns: 'x' }, { 'if-match': '"2"' })).response, 409);
    expect(await query(sql`select entered_in_error_reason as reason from clients where id = ${client.id}`)).toEqual([{ reason }]);
  });
});

describe('access to one client', () => {
  it('an unrelated therapist gets 403; with a break-glass grant they read it, audited with the grant', async () => {
    const { program, therapist, otherTherapist } = await clinicWithStaff();
    const client = await register(therapist.token, newClient(program.id));
    const url = `/v1/clients/${client.id}`;
    const denied = await call(otherTherapist.token, 'GET', url);
    expectProblem(denied.response, 403);
    expect(await auditRecord(denied.requestId)).toMatchObject({
      outcome: 'denied',
      denial_reason: 'no-relationship',
      client_ids: [client.id],
      data_category: 'client-registration',
    });
    const reason = 'Client in crisis; primary therapist unreachable';
    const grant = await call(otherTherapist.token, 'POST', '/v1/break-glass', { clientId: client.id, reason, minutes: 30 });
    expect(grant.response.statusCode).toBe(201);
    const { response, requestId } = await call(otherTherapist.token, 'GET', url);
    expect(response.statusCode).toBe(200);
    expect(response.json().id).toBe(client.id);
    expect(await auditRecord(requestId)).toMatchObject({
      subtype: 'read',
      outcome: 'success',
      client_ids: [client.id],
      access_basis: { rule: 'clients.read', relationship: 'break-glass', grantId: grant.response.json().id },
    });
    // A grant opens reading, not the therapist's own list.
    expect(idsOf((await list(otherTherapist.token)).page)).toEqual([]);
  });

  it('compliance is refused every client route (403); another clinic’s client is a 404', async () => {
    const { program, admin, therapist, compliance } = await clinicWithStaff();
    const client = await register(therapist.token, newClient(program.id));
    for (const [method, url, body] of [
      ['GET', '/v1/clients', undefined],
      ['GET', `/v1/clients/${client.id}`, undefined],
      ['POST', '/v1/clients', newClient(program.id)],
    ] as const) {
      const { response, requestId } = await call(compliance.token, method, url, body);
      expectProblem(response, 403);
      expect((await auditRecord(requestId)).denial_reason).toMatch(/^role-not-permitted:clients\./);
    }
    const other = await clinicWithStaff();
    for (const [method, url, body] of [
      ['GET', `/v1/clients/${client.id}`, undefined],
      ['PATCH', `/v1/clients/${client.id}`, { pronouns: 'they/them' }],
      ['POST', `/v1/clients/${client.id}/entered-in-error`, { reason: 'Cross-clinic attempt, synthetic' }],
    ] as const) {
      const { response, requestId } = await call(other.admin.token, method, url, body, { 'if-match': '"1"' });
      expect(JSON.stringify(expectProblem(response, 404))).not.toContain('Testy');
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
    }
    const untouched = (await call(admin.token, 'GET', `/v1/clients/${client.id}`)).response.json();
    expect(untouched).toMatchObject({ version: 1, enteredInError: null });
  });
});

describe('demo data', () => {
  // Builds an embedded database from nothing (PGlite start-up and every migration): slow on a busy machine.
  it('the embedded demo clinic has synthetic clients across the four statuses and a skills group with attendance', async () => {
    const database = await openDatabase({ pglite: await PGlite.create() });
    const demoApp = await buildApp(testConfig(), { database, logger: false });
    try {
      await migrate(database);
      const demo = await seedDemoClinic(database.db);
      expect(demo).not.toBeNull();
      const login = await demoApp.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { clinic: demo?.clinicSlug, email: demo?.email, password: demo?.password },
      });
      expect(login.statusCode).toBe(200);
      const clients = await demoApp.inject({ method: 'GET', url: '/v1/clients', headers: bearer(login.json().accessToken) });
      const items = (clients.json() as ClientPage).items;
      expect(items.length).toBeGreaterThanOrEqual(5);
      expect(new Set(items.map((client) => client.status))).toEqual(new Set(['referred', 'pretreatment', 'active', 'discharged']));
      expect(items.every((client) => client.familyName === 'Synthetic' && client.primaryTherapistId)).toBe(true);
      const { rows } = await database.db.execute<{ mismatched: number }>(
        sql`select count(*)::int as mismatched from clients c join treatment_episodes e on e.client_id = c.id
            where e.status <> c.status or e.referred_on > coalesce(e.contract_start, e.referred_on)`,
      );
      expect(rows[0]?.mismatched).toBe(0);

      // The demo skills group: its trainer sees the roster; the therapist sees Delta's three missed group weeks.
      const signIn = async (email: string | undefined) =>
        (
          await demoApp.inject({
            method: 'POST',
            url: '/v1/auth/login',
            payload: { clinic: demo?.clinicSlug, email, password: demo?.password },
          })
        ).json().accessToken as string;
      const trainer = bearer(await signIn(demo?.trainerEmail));
      const groups = (await demoApp.inject({ method: 'GET', url: '/v1/skills-groups', headers: trainer })).json().items;
      expect(groups).toHaveLength(1);
      const roster = await demoApp.inject({ method: 'GET', url: `/v1/skills-groups/${groups[0].id}/enrollments`, headers: trainer });
      expect(
        roster
          .json()
          .items.map((item: { givenName: string }) => item.givenName)
          .sort(),
      ).toEqual(['Charlie', 'Delta']);
      const atRisk = await demoApp.inject({
        method: 'GET',
        url: '/v1/attendance/at-risk',
        headers: bearer(await signIn(demo?.therapistEmail)),
      });
      expect(atRisk.json().items).toMatchObject([
        { client: { givenName: 'Delta' }, modalities: [{ modality: 'skills_group', status: 'warning', streak: 3 }] },
      ]);
      // The demo team: its lead opens today's meeting, and the pre-fill brings Delta's warning.
      const lead = bearer(await signIn(demo?.leadEmail));
      const [team] = (await demoApp.inject({ method: 'GET', url: '/v1/teams', headers: lead })).json().items;
      const today = new Date().toISOString().slice(0, 10);
      const meeting = await demoApp.inject({
        method: 'POST',
        url: `/v1/teams/${team.id}/meetings`,
        headers: lead,
        payload: { date: today },
      });
      expect(meeting.statusCode, meeting.body).toBe(201);
      const proposals = await demoApp.inject({ method: 'GET', url: `/v1/meetings/${meeting.json().id}/proposals`, headers: lead });
      expect(proposals.json().items).toContainEqual(
        expect.objectContaining({ clientId: atRisk.json().items[0].client.id, kind: 'four_miss', status: 'proposed' }),
      );
      expect(await seedDemoClinic(database.db)).toBeNull();
    } finally {
      await demoApp.close();
      await database.close();
    }
  }, 120_000);
});
