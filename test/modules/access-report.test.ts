import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, createStaffMember, memberWithToken } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

const REASON = 'Client called the crisis line; primary therapist unreachable';

type Access = Record<string, unknown> & { eventId: string; breakTheGlass: boolean };
type Person = {
  staffId: string | null;
  actorType: string;
  name: string | null;
  roles: string[];
  days: Array<{ date: string; accesses: Access[] }>;
  totals: { accesses: number; denied: number; breakTheGlass: number; days: number };
};
type Report = {
  clientId: string;
  from: string;
  to: string;
  timeZone: string;
  people: Person[];
  totals: { people: number; accesses: number; denied: number; breakTheGlass: number };
};

const reportUrl = (clientId: string, from: string, to: string) =>
  `/v1/clients/${clientId}/access-report?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

const rename = (id: string, name: string) => query(sql`update staff set display_name = ${name} where id = ${id}`);

interface Event {
  at: string;
  clientIds: string[];
  actorType?: 'staff' | 'anonymous' | 'system';
  actorId?: string | null;
  roles?: string[];
  outcome?: 'success' | 'denied';
  basis?: Record<string, unknown> | null;
}

/** An audit event written straight to the table, to control its time. */
async function insertEvent(clinicId: string, event: Event) {
  const id = uuidv7();
  const denied = event.outcome === 'denied';
  await query(sql`insert into audit_events
    (clinic_id, id, occurred_at, request_id, actor_type, actor_id, actor_roles, action, subtype, outcome, http_status,
     method, route, resource_type, resource_id, client_ids, data_category, purpose_of_use, access_basis, details, service_version)
    values (${clinicId}, ${id}, ${event.at}, ${`seed-${id}`}, ${event.actorType ?? 'staff'}, ${event.actorId ?? null},
     ${`{${(event.roles ?? []).join(',')}}`}::text[], 'R', 'read', ${event.outcome ?? 'success'}, ${denied ? 403 : 200},
     'GET', '/v1/clients/:id/diary-cards', 'diary-card', ${event.clientIds[0] ?? null}, ${`{${event.clientIds.join(',')}}`}::uuid[],
     'diary-card', 'TREAT', ${event.basis === undefined ? null : JSON.stringify(event.basis)}::jsonb,
     ${JSON.stringify({ note: 'CLINICAL-CONTENT-MARKER' })}::jsonb, 'test')`);
  return id;
}

describe('the access report', () => {
  it('groups real requests by person and day: the therapist, a break-glass holder (flagged), a denied colleague; audited', async () => {
    const { clinic, client, therapist, colleague, compliance } = await clientWithCareTeam(app);
    const holder = await memberWithToken(app, clinic.id, ['therapist']);
    await rename(therapist.id, 'Avery Primary');
    await rename(holder.id, 'Blake Holder');
    await rename(colleague.id, 'Casey Colleague');
    const from = new Date(Date.now() - 60_000).toISOString();

    const read = await call(therapist.token, 'GET', `/v1/clients/${client.id}`);
    expect(read.response.statusCode).toBe(200);
    const denied = await call(colleague.token, 'GET', `/v1/clients/${client.id}`);
    expectProblem(denied.response, 403);
    const opened = await call(holder.token, 'POST', '/v1/break-glass', { clientId: client.id, reason: REASON, minutes: 30 });
    expect(opened.response.statusCode).toBe(201);
    const grantId = (opened.response.json() as { id: string }).id;
    const glass = await call(holder.token, 'GET', `/v1/clients/${client.id}`);
    expect(glass.response.statusCode).toBe(200);
    const to = new Date(Date.now() + 60_000).toISOString();

    const records = await Promise.all([read, denied, opened, glass].map((request) => auditRecord(request.requestId)));
    const [readId, deniedId, openedId, glassId] = records.map((record) => record.id as string);
    const isoOf = (record: Record<string, unknown> | undefined) => new Date(String(record?.occurred_at)).toISOString();
    const dayOf = (record: Record<string, unknown>) => isoOf(record).slice(0, 10);
    const daysOf = (...picked: Array<Record<string, unknown>>) => [...new Set(picked.map(dayOf))];

    const { response, requestId } = await call(compliance.token, 'GET', reportUrl(client.id, from, to));
    expect(response.statusCode).toBe(200);
    const report = response.json() as Report;
    expect(report).toMatchObject({ clientId: client.id, timeZone: 'UTC', from, to });
    expect(report.people.map((person) => [person.name, person.staffId, person.roles])).toEqual([
      ['Avery Primary', therapist.id, ['therapist']],
      ['Blake Holder', holder.id, ['therapist']],
      ['Casey Colleague', colleague.id, ['therapist']],
    ]);
    const [primary, holderRow, colleagueRow] = report.people as [Person, Person, Person];
    const ids = (person: Person) => person.days.flatMap((day) => day.accesses.map((access) => access.eventId));
    expect(ids(primary)).toEqual([readId]);
    expect(ids(holderRow)).toEqual([openedId, glassId]);
    expect(ids(colleagueRow)).toEqual([deniedId]);
    expect(holderRow.days.map((day) => day.date)).toEqual(daysOf(records[2] as never, records[3] as never));
    expect(primary.days[0]?.accesses[0]).toEqual({
      eventId: readId,
      occurredAt: isoOf(records[0]),
      method: 'GET',
      route: '/v1/clients/:id',
      action: 'R',
      subtype: 'read',
      outcome: 'success',
      httpStatus: 200,
      denialReason: null,
      resourceType: records[0]?.resource_type,
      resourceId: client.id,
      dataCategory: records[0]?.data_category,
      purpose: records[0]?.purpose_of_use,
      basis: { rule: 'clients.read', relationship: 'primary-therapist' },
      breakTheGlass: false,
    });
    const [openAccess, glassAccess] = holderRow.days.flatMap((day) => day.accesses);
    expect(openAccess).toMatchObject({ subtype: 'break-glass', breakTheGlass: false });
    expect(glassAccess).toMatchObject({ breakTheGlass: true, basis: { relationship: 'break-glass', grantId } });
    expect(colleagueRow.days[0]?.accesses[0]).toMatchObject({ outcome: 'denied', httpStatus: 403, denialReason: 'no-relationship' });
    expect(holderRow.totals).toEqual({ accesses: 2, denied: 0, breakTheGlass: 1, days: holderRow.days.length });
    expect(colleagueRow.totals).toEqual({ accesses: 1, denied: 1, breakTheGlass: 0, days: 1 });
    expect(report.totals).toEqual({ people: 3, accesses: 4, denied: 1, breakTheGlass: 1 });
    // Audit metadata only: nothing of the client's registration.
    expect(JSON.stringify(report)).not.toContain(client.givenName);

    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      actor_id: compliance.id,
      action: 'R',
      subtype: 'read',
      resource_type: 'access-report',
      resource_id: client.id,
      client_ids: [client.id],
      result_count: 4,
      outcome: 'success',
      details: { from, to },
      access_basis: { rule: 'clients.access-report', role: 'compliance' },
    });
  });

  it('in a New York clinic, days are local; anonymous and system actors are grouped as such; the range is [from, to)', async () => {
    const { clinic, client, compliance } = await clientWithCareTeam(app);
    await query(sql`update clinics set time_zone = 'America/New_York' where id = ${clinic.id}`);
    const dana = await createStaffMember(clinic.id, ['therapist']);
    const eli = await createStaffMember(clinic.id, ['therapist']);
    await rename(dana.id, 'Dana Therapist');
    await rename(eli.id, 'Eli Covering');
    const other = await createClientRecord(clinic.id);
    const elsewhere = await clientWithCareTeam(app);
    const c = [client.id];
    const grant = { rule: 'clients.clinical', relationship: 'break-glass', grantId: uuidv7() };
    const dana1 = { actorId: dana.id, roles: ['therapist'] };
    // New York is UTC−5 in January: local midnight of the 15th is 05:00Z.
    const at = {
      beforeRange: await insertEvent(clinic.id, { ...dana1, at: '2030-01-14T04:59:59.999Z', clientIds: c }),
      lastOf14th: await insertEvent(clinic.id, { ...dana1, at: '2030-01-15T04:59:59.999Z', clientIds: c }),
      firstOf15th: await insertEvent(clinic.id, { ...dana1, at: '2030-01-15T05:00:00Z', clientIds: [other.id, client.id] }),
      anonymous: await insertEvent(clinic.id, { actorType: 'anonymous', at: '2030-01-15T06:00:00Z', clientIds: c, outcome: 'denied' }),
      glass: await insertEvent(clinic.id, {
        actorId: eli.id,
        roles: ['therapist'],
        at: '2030-01-15T10:00:00Z',
        clientIds: c,
        basis: grant,
      }),
      lead: await insertEvent(clinic.id, { actorId: dana.id, roles: ['therapist', 'team_lead'], at: '2030-01-16T04:00:00Z', clientIds: c }),
      system: await insertEvent(clinic.id, { actorType: 'system', at: '2030-01-16T12:00:00Z', clientIds: c }),
      atTo: await insertEvent(clinic.id, { ...dana1, at: '2030-01-17T05:00:00Z', clientIds: c }),
      otherClient: await insertEvent(clinic.id, { ...dana1, at: '2030-01-15T12:00:00Z', clientIds: [other.id] }),
      // Another clinic's event naming the same id is never shown.
      otherClinic: await insertEvent(elsewhere.clinic.id, { at: '2030-01-15T12:00:00Z', clientIds: c }),
    };

    const { response } = await call(
      compliance.token,
      'GET',
      reportUrl(client.id, '2030-01-14T00:00:00-05:00', '2030-01-17T00:00:00-05:00'),
    );
    expect(response.statusCode).toBe(200);
    const report = response.json() as Report;
    expect(report.timeZone).toBe('America/New_York');
    const shape = report.people.map((person) => ({
      staffId: person.staffId,
      actorType: person.actorType,
      name: person.name,
      roles: person.roles,
      days: person.days.map((day) => [day.date, day.accesses.map((access) => access.eventId)]),
      totals: person.totals,
    }));
    expect(shape).toEqual([
      {
        staffId: dana.id,
        actorType: 'staff',
        name: 'Dana Therapist',
        roles: ['team_lead', 'therapist'],
        days: [
          ['2030-01-14', [at.lastOf14th]],
          ['2030-01-15', [at.firstOf15th, at.lead]],
        ],
        totals: { accesses: 3, denied: 0, breakTheGlass: 0, days: 2 },
      },
      {
        staffId: eli.id,
        actorType: 'staff',
        name: 'Eli Covering',
        roles: ['therapist'],
        days: [['2030-01-15', [at.glass]]],
        totals: { accesses: 1, denied: 0, breakTheGlass: 1, days: 1 },
      },
      {
        staffId: null,
        actorType: 'anonymous',
        name: null,
        roles: [],
        days: [['2030-01-15', [at.anonymous]]],
        totals: { accesses: 1, denied: 1, breakTheGlass: 0, days: 1 },
      },
      {
        staffId: null,
        actorType: 'system',
        name: null,
        roles: [],
        days: [['2030-01-16', [at.system]]],
        totals: { accesses: 1, denied: 0, breakTheGlass: 0, days: 1 },
      },
    ]);
    expect(report.totals).toEqual({ people: 4, accesses: 6, denied: 1, breakTheGlass: 1 });
    expect(report.people[1]?.days[0]?.accesses[0]).toMatchObject({ basis: grant, breakTheGlass: true, purpose: 'TREAT' });
    // The seeded details carry a marker: the report never shows details.
    expect(JSON.stringify(report)).not.toContain('CLINICAL-CONTENT-MARKER');
  });
});

describe('who may read it', () => {
  it("the primary therapist reads their own client's report; another therapist is refused (403, audited with the client)", async () => {
    const { client, therapist, colleague } = await clientWithCareTeam(app);
    const url = reportUrl(client.id, '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z');
    const own = await call(therapist.token, 'GET', url);
    expect(own.response.statusCode).toBe(200);
    expect(await auditRecord(own.requestId)).toMatchObject({
      access_basis: { rule: 'clients.access-report', role: 'therapist', relationship: 'primary-therapist' },
      client_ids: [client.id],
    });

    const refused = await call(colleague.token, 'GET', url);
    expectProblem(refused.response, 403);
    expect(await auditRecord(refused.requestId)).toMatchObject({
      actor_id: colleague.id,
      outcome: 'denied',
      http_status: 403,
      denial_reason: 'not-primary-therapist',
      client_ids: [client.id],
    });
  });

  it('an admin is refused by role; another clinic’s client is a 404 for compliance and therapists alike', async () => {
    const { client, admin, compliance } = await clientWithCareTeam(app);
    const elsewhere = await clientWithCareTeam(app);
    const range = ['2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z'] as const;
    const byRole = await call(admin.token, 'GET', reportUrl(client.id, ...range));
    expect(expectProblem(byRole.response, 403)).toBeDefined();
    expect(await auditRecord(byRole.requestId)).toMatchObject({ denial_reason: 'role-not-permitted:clients.access-report' });

    for (const token of [compliance.token, elsewhere.therapist.token]) {
      const foreignId = token === compliance.token ? elsewhere.client.id : client.id;
      const { response, requestId } = await call(token, 'GET', reportUrl(foreignId, ...range));
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
    }
  });

  it('from and to are required date-times with offset, from before to (400 naming the field)', async () => {
    const { client, compliance } = await clientWithCareTeam(app);
    const base = `/v1/clients/${client.id}/access-report`;
    const cases: Array<[string, string[]]> = [
      ['', ['query.from', 'query.to']],
      ['?from=2030-01-01T00:00:00Z', ['query.to']],
      ['?to=2030-01-01T00:00:00Z', ['query.from']],
      ['?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', ['query.to']],
      ['?from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z', ['query.to']],
      ['?from=2030-01-01T00:00:00&to=2030-01-02T00:00:00Z', ['query.from']],
      ['?from=2030-01-01&to=2030-01-02T00:00:00Z', ['query.from']],
    ];
    for (const [search, fields] of cases) {
      const { response, requestId } = await call(compliance.token, 'GET', `${base}${search}`);
      const body = expectProblem(response, 400);
      expect(
        body.errors?.map((error) => `${error.in}.${error.field}`),
        search,
      ).toEqual(fields);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 400 });
    }
  });
});
