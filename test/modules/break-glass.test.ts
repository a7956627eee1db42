import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { StaffRole } from '../../src/db/schema/index.js';
import { buildTestApp, query } from '../helpers/app.js';
import { createClientRecord, createClinic, createStaffMember, memberWithToken, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Reply = Awaited<ReturnType<typeof app.inject>>;
type Grant = {
  id: string;
  staffId: string;
  clientId: string;
  reason: string;
  minutes: number;
  startsAt: string;
  expiresAt: string;
  review: { id: string; reviewerId: string; outcome: string; note: string; reviewedAt: string } | null;
};
type GrantPage = { items: Grant[]; nextCursor: string | null };

const REASON = 'Client called the crisis line; primary therapist unreachable';

const call = caller(app);

const grantCount = async () => (await query<{ n: number }>('select count(*)::int as n from break_glass_grants'))[0]?.n;

/** A clinic with one member per role that matters here, each with a token. */
async function clinicWithTeam() {
  const { clinic, admin } = await createClinic();
  const member = (roles: StaffRole[]) => memberWithToken(app, clinic.id, roles);
  return {
    clinic,
    admin: { ...admin, token: tokenFor(app, admin) },
    therapist: await member(['therapist']),
    compliance: await member(['compliance']),
  };
}

/** A client of the clinic, for a grant to name. */
const clientIn = async (clinicId: string) => (await createClientRecord(clinicId)).id;

async function openGrant(member: { token: string; clinicId: string }) {
  const clientId = await clientIn(member.clinicId);
  const { response } = await call(member.token, 'POST', '/v1/break-glass', { clientId, reason: REASON, minutes: 30 });
  expect(response.statusCode).toBe(201);
  return response.json() as Grant;
}

const list = async (token: string, search = '') => (await call(token, 'GET', `/v1/break-glass${search}`)).response.json() as GrantPage;

describe('opening a grant', () => {
  it('a therapist opens a time-boxed grant: 201, expiresAt = startsAt + minutes, audited as break-glass (ETREAT)', async () => {
    const { clinic, therapist } = await clinicWithTeam();
    const clientId = await clientIn(clinic.id);
    const { response, requestId } = await call(therapist.token, 'POST', '/v1/break-glass', { clientId, reason: REASON, minutes: 90 });
    expect(response.statusCode).toBe(201);
    const grant = response.json() as Grant;
    expect(grant).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      staffId: therapist.id,
      clientId,
      reason: REASON,
      minutes: 90,
      startsAt: expect.any(String),
      expiresAt: expect.any(String),
      review: null,
    });
    expect(Date.parse(grant.expiresAt) - Date.parse(grant.startsAt)).toBe(90 * 60_000);
    expect(Math.abs(Date.parse(grant.startsAt) - Date.now())).toBeLessThan(60_000);

    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      clinic_id: clinic.id,
      actor_id: therapist.id,
      action: 'C',
      subtype: 'break-glass',
      outcome: 'success',
      http_status: 201,
      resource_id: grant.id,
      client_ids: [clientId],
      purpose_of_use: 'ETREAT',
      details: { reason: REASON, minutes: 90, expiresAt: grant.expiresAt },
    });
    expect(record.access_basis).toMatchObject({ rule: 'break-glass.request', role: 'therapist' });
  });

  it('accepts the bounds: a 20-character reason and 1 or 240 minutes; other clinicians may open grants too', async () => {
    const { clinic, therapist } = await clinicWithTeam();
    for (const minutes of [1, 240]) {
      const { response } = await call(therapist.token, 'POST', '/v1/break-glass', {
        clientId: await clientIn(clinic.id),
        reason: 'r'.repeat(20),
        minutes,
      });
      expect(response.statusCode).toBe(201);
      const grant = response.json() as Grant;
      expect(Date.parse(grant.expiresAt) - Date.parse(grant.startsAt)).toBe(minutes * 60_000);
    }
    for (const roles of [['skills_trainer'], ['team_lead']] as StaffRole[][]) {
      const clinician = await createStaffMember(clinic.id, roles);
      expect((await openGrant({ ...clinician, token: tokenFor(app, clinician) })).staffId).toBe(clinician.id);
    }
  });

  it('rejects a short reason, minutes out of 1–240 and malformed input with 400 naming the field; nothing is written', async () => {
    const { therapist } = await clinicWithTeam();
    const before = await grantCount();
    const valid = { clientId: randomUUID(), reason: REASON, minutes: 30 };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, reason: 'too short, 19 chars' }, 'reason'],
      [{ ...valid, reason: `   ${'x'.repeat(10)}           ` }, 'reason'],
      [{ ...valid, reason: 'x'.repeat(2001) }, 'reason'],
      [{ ...valid, minutes: 241 }, 'minutes'],
      [{ ...valid, minutes: 0 }, 'minutes'],
      [{ ...valid, minutes: -5 }, 'minutes'],
      [{ ...valid, minutes: 1.5 }, 'minutes'],
      [{ ...valid, minutes: '30' }, 'minutes'],
      [{ ...valid, clientId: 'not-a-uuid' }, 'clientId'],
      [{ reason: REASON, minutes: 30 }, 'clientId'],
      [{ ...valid, staffId: randomUUID() }, 'staffId'],
    ];
    for (const [payload, field] of cases) {
      const { response, requestId } = await call(therapist.token, 'POST', '/v1/break-glass', payload);
      const body = expectProblem(response, 400);
      expect(body.errors?.map((error) => `${error.in}.${error.field}`)).toEqual([`body.${field}`]);
      expect(body.detail).toContain(field);
      expect(await auditRecord(requestId)).toMatchObject({ subtype: 'break-glass', outcome: 'failure', http_status: 400 });
    }
    expect(await grantCount()).toBe(before);
  });

  it("a client id that is not one of the clinic's (unknown, or another clinic's) is a 404; nothing is written, the refusal is audited", async () => {
    const { therapist } = await clinicWithTeam();
    const elsewhere = await clinicWithTeam();
    const before = await grantCount();
    for (const clientId of [randomUUID(), await clientIn(elsewhere.clinic.id)]) {
      const { response, requestId } = await call(therapist.token, 'POST', '/v1/break-glass', { clientId, reason: REASON, minutes: 30 });
      expectProblem(response, 404);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, subtype: 'break-glass' });
    }
    expect(await grantCount()).toBe(before);
  });

  it('an admin or a compliance officer cannot open a grant (403)', async () => {
    const { admin, compliance } = await clinicWithTeam();
    const before = await grantCount();
    for (const caller of [admin, compliance]) {
      const { response, requestId } = await call(caller.token, 'POST', '/v1/break-glass', {
        clientId: randomUUID(),
        reason: REASON,
        minutes: 30,
      });
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({
        actor_id: caller.id,
        outcome: 'denied',
        denial_reason: 'role-not-permitted:break-glass.request',
      });
    }
    expect(await grantCount()).toBe(before);
  });
});

describe('compliance review', () => {
  it('lists unreviewed grants by default, and the list audit record names every client returned', async () => {
    const { clinic, therapist, compliance } = await clinicWithTeam();
    const grants = [await openGrant(therapist), await openGrant(therapist), await openGrant(therapist)];
    const elsewhere = await clinicWithTeam();
    const foreign = await openGrant(elsewhere.therapist);

    const { response, requestId } = await call(compliance.token, 'GET', '/v1/break-glass');
    expect(response.statusCode).toBe(200);
    const page = response.json() as GrantPage;
    // Ordered by id (UUIDv7: creation time, random within one millisecond).
    const ids = grants.map((grant) => grant.id).sort();
    expect(page.items.map((grant) => grant.id)).toEqual(ids);
    expect(page.items.every((grant) => grant.review === null)).toBe(true);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((grant) => grant.id)).not.toContain(foreign.id);

    const record = await auditRecord(requestId);
    expect(record).toMatchObject({ clinic_id: clinic.id, actor_id: compliance.id, subtype: 'search', outcome: 'success', result_count: 3 });
    expect([...(record.client_ids as string[])].sort()).toEqual(grants.map((grant) => grant.clientId).sort());

    // Pages attribute exactly the clients they return.
    const first = await call(compliance.token, 'GET', '/v1/break-glass?limit=2');
    const firstPage = first.response.json() as GrantPage;
    expect(firstPage.items).toHaveLength(2);
    expect([...((await auditRecord(first.requestId)).client_ids as string[])].sort()).toEqual(
      firstPage.items.map((grant) => grant.clientId).sort(),
    );
    const second = await list(compliance.token, `?limit=2&cursor=${firstPage.nextCursor}`);
    expect(second.items.map((grant) => grant.id)).toEqual([ids[2]]);
    expect(second.nextCursor).toBeNull();
  });

  it('records one review: 201 with the review; a second review is 409; the grant moves to the reviewed list', async () => {
    const { therapist, compliance } = await clinicWithTeam();
    const grant = await openGrant(therapist);
    const other = await openGrant(therapist);

    const { response, requestId } = await call(compliance.token, 'POST', `/v1/break-glass/${grant.id}/review`, {
      outcome: 'appropriate',
      note: 'Crisis call documented; access was proportionate.',
    });
    expect(response.statusCode).toBe(201);
    const reviewed = response.json() as Grant;
    expect(reviewed).toMatchObject({ id: grant.id, clientId: grant.clientId, staffId: therapist.id });
    expect(reviewed.review).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reviewerId: compliance.id,
      outcome: 'appropriate',
      note: 'Crisis call documented; access was proportionate.',
      reviewedAt: expect.any(String),
    });
    expect(await auditRecord(requestId)).toMatchObject({
      actor_id: compliance.id,
      subtype: 'review',
      outcome: 'success',
      http_status: 201,
      resource_id: grant.id,
      client_ids: [grant.clientId],
      details: { outcome: 'appropriate' },
    });

    const again = await call(compliance.token, 'POST', `/v1/break-glass/${grant.id}/review`, {
      outcome: 'unjustified',
      note: 'Overwrite?',
    });
    expectProblem(again.response, 409);
    expect(await auditRecord(again.requestId)).toMatchObject({ subtype: 'review', outcome: 'failure', http_status: 409 });
    // Stored in the words reviews were first written with (append-only rows are never renamed).
    const stored = await query(sql`select outcome from break_glass_reviews where grant_id = ${grant.id}`);
    expect(stored).toEqual([{ outcome: 'justified' }]);

    expect((await list(compliance.token)).items.map((item) => item.id)).toEqual([other.id]);
    const done = await list(compliance.token, '?status=reviewed');
    expect(done.items.map((item) => item.id)).toEqual([grant.id]);
    expect(done.items[0]?.review).toEqual(reviewed.review);
    expect((await list(compliance.token, '?status=all')).items.map((item) => item.id)).toEqual([grant.id, other.id].sort());
  });

  it('takes each outcome (and the former names) and rejects a bad outcome, an empty note, a bad status and a bad id with 400', async () => {
    const { therapist, compliance } = await clinicWithTeam();
    const outcomes: Array<[string, string, string]> = [
      ['inappropriate', 'inappropriate', 'unjustified'],
      ['needs_follow_up', 'needs_follow_up', 'needs_follow_up'],
      ['justified', 'appropriate', 'justified'],
      ['unjustified', 'inappropriate', 'unjustified'],
    ];
    for (const [outcome, answered, stored] of outcomes) {
      const grant = await openGrant(therapist);
      const { response } = await call(compliance.token, 'POST', `/v1/break-glass/${grant.id}/review`, { outcome, note: 'Synthetic note' });
      expect(response.statusCode).toBe(201);
      expect((response.json() as Grant).review?.outcome).toBe(answered);
      expect(await query(sql`select outcome from break_glass_reviews where grant_id = ${grant.id}`)).toEqual([{ outcome: stored }]);
      const listed = (await list(compliance.token, '?status=reviewed')).items.find((item) => item.id === grant.id);
      expect(listed?.review?.outcome).toBe(answered);
    }
    const grant = await openGrant(therapist);
    const url = `/v1/break-glass/${grant.id}/review`;
    const fieldsOf = (response: Reply) => expectProblem(response, 400).errors?.map((error) => `${error.in}.${error.field}`);
    expect(fieldsOf((await call(compliance.token, 'POST', url, { outcome: 'fine', note: 'x' })).response)).toEqual(['body.outcome']);
    expect(fieldsOf((await call(compliance.token, 'POST', url, { outcome: 'justified', note: '   ' })).response)).toEqual(['body.note']);
    expect(
      fieldsOf((await call(compliance.token, 'POST', '/v1/break-glass/nope/review', { outcome: 'justified', note: 'x' })).response),
    ).toEqual(['params.id']);
    const badStatus = await call(compliance.token, 'GET', '/v1/break-glass?status=pending');
    expect(expectProblem(badStatus.response, 400).errors?.map((error) => error.field)).toEqual(['status']);
    expect(await query(sql`select id from break_glass_reviews where grant_id = ${grant.id}`)).toEqual([]);
  });

  it('a therapist cannot list or review grants (403)', async () => {
    const { therapist, admin } = await clinicWithTeam();
    const grant = await openGrant(therapist);
    for (const caller of [therapist, admin]) {
      const listed = await call(caller.token, 'GET', '/v1/break-glass');
      expectProblem(listed.response, 403);
      expect(await auditRecord(listed.requestId)).toMatchObject({
        outcome: 'denied',
        denial_reason: 'role-not-permitted:break-glass.review',
        client_ids: [],
      });
      const review = await call(caller.token, 'POST', `/v1/break-glass/${grant.id}/review`, {
        outcome: 'justified',
        note: 'Self-approval',
      });
      expectProblem(review.response, 403);
    }
    expect(await query(sql`select id from break_glass_reviews where grant_id = ${grant.id}`)).toEqual([]);
  });

  it('nobody reviews their own grant, even holding the compliance role (403, audited as self-review)', async () => {
    const { clinic } = await clinicWithTeam();
    const both = await createStaffMember(clinic.id, ['therapist', 'compliance']);
    const token = tokenFor(app, both);
    const grant = await openGrant({ ...both, token });
    const review = await call(token, 'POST', `/v1/break-glass/${grant.id}/review`, { outcome: 'justified', note: 'My own grant' });
    expectProblem(review.response, 403);
    expect(await auditRecord(review.requestId)).toMatchObject({
      outcome: 'denied',
      denial_reason: 'self-review',
      client_ids: [grant.clientId],
    });
    expect(await query(sql`select id from break_glass_reviews where grant_id = ${grant.id}`)).toEqual([]);
  });

  it("another clinic's grant id is a 404, and the grant stays unreviewed", async () => {
    const { compliance } = await clinicWithTeam();
    const elsewhere = await clinicWithTeam();
    const foreign = await openGrant(elsewhere.therapist);
    for (const id of [foreign.id, randomUUID()]) {
      const { response, requestId } = await call(compliance.token, 'POST', `/v1/break-glass/${id}/review`, {
        outcome: 'unjustified',
        note: 'Cross-clinic attempt',
      });
      const body = expectProblem(response, 404);
      expect(JSON.stringify(body)).not.toContain(foreign.clientId);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [] });
    }
    expect((await list(elsewhere.compliance.token)).items.map((item) => item.id)).toEqual([foreign.id]);
  });
});
