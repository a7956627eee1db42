import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord, memberWithToken } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

const REASON = 'Client called the crisis line; primary therapist unreachable';

type Access = { eventId: string; occurredAt: string; route: string; action: string; subtype: string; outcome: string };
type QueuedGrant = {
  id: string;
  staffId: string;
  staffName: string;
  clientId: string;
  startsAt: string;
  reviewDueAt: string;
  overdue: boolean;
  accesses: Access[];
};
type Queue = { overdueAfterDays: number; total: number; overdue: number; items: QueuedGrant[] };

/** A grant written straight to the table, started `daysAgo` days ago, to control its age. */
async function insertGrant(clinicId: string, staffId: string, clientId: string, daysAgo: number) {
  const id = uuidv7();
  await query(sql`insert into break_glass_grants (clinic_id, id, staff_id, client_id, reason, minutes, starts_at, expires_at)
    values (${clinicId}, ${id}, ${staffId}, ${clientId}, ${REASON}, 30, now() - make_interval(days => ${daysAgo}::int),
      now() - make_interval(days => ${daysAgo}::int) + interval '30 minutes')`);
  return id;
}

/** An audit event naming a grant as its basis, as a request made under it records. */
async function insertAccessUnder(clinicId: string, grantId: string, staffId: string, clientId: string, minutesAfterStart: number) {
  const id = uuidv7();
  await query(sql`insert into audit_events
    (clinic_id, id, occurred_at, request_id, actor_type, actor_id, actor_roles, action, subtype, outcome, http_status,
     method, route, resource_type, client_ids, data_category, access_basis, service_version)
    select ${clinicId}, ${id}, g.starts_at + make_interval(mins => ${minutesAfterStart}::int), ${`seed-${id}`}, 'staff', ${staffId},
      '{therapist}', 'R', 'read', 'success', 200, 'GET', '/v1/clients/:id/diary-cards', 'diary-card', ${`{${clientId}}`}::uuid[],
      'diary-card', ${JSON.stringify({ rule: 'clients.clinical', relationship: 'break-glass', grantId })}::jsonb, 'test'
    from break_glass_grants g where g.clinic_id = ${clinicId} and g.id = ${grantId}`);
  return id;
}

const readQueue = async (token: string, search = '') => {
  const { response, requestId } = await call(token, 'GET', `/v1/break-glass/queue${search}`);
  expect(response.statusCode).toBe(200);
  return { queue: response.json() as Queue, requestId };
};

/** A clinic with a client, its therapist, compliance, and a colleague who uses break-glass. */
async function clinicWithGrants() {
  const team = await clientWithCareTeam(app);
  const holder = await memberWithToken(app, team.clinic.id, ['therapist']);
  await query(sql`update staff set display_name = 'Blake Holder' where id = ${holder.id}`);
  return { ...team, holder };
}

describe('the break-glass review queue', () => {
  it('lists what was accessed under a grant opened and used through the API', async () => {
    const { client, holder, compliance } = await clinicWithGrants();
    const opened = await call(holder.token, 'POST', '/v1/break-glass', { clientId: client.id, reason: REASON, minutes: 30 });
    expect(opened.response.statusCode).toBe(201);
    const grantId = (opened.response.json() as { id: string }).id;
    const first = await call(holder.token, 'GET', `/v1/clients/${client.id}`);
    const second = await call(holder.token, 'GET', `/v1/clients/${client.id}/episodes`);
    expect([first.response.statusCode, second.response.statusCode]).toEqual([200, 200]);
    const used = [await auditRecord(first.requestId), await auditRecord(second.requestId)];
    // A request the grant did not allow (the holder's own list) is not listed under it.
    await call(holder.token, 'GET', '/v1/break-glass');

    const { queue, requestId } = await readQueue(compliance.token);
    expect(queue).toMatchObject({ overdueAfterDays: 7, total: 1, overdue: 0 });
    const [item] = queue.items;
    expect(item).toMatchObject({ id: grantId, staffId: holder.id, staffName: 'Blake Holder', clientId: client.id, overdue: false });
    expect(Date.parse(item?.reviewDueAt ?? '') - Date.parse(item?.startsAt ?? '')).toBe(7 * 86_400_000);
    expect(item?.accesses).toEqual(
      used.map((record) => ({
        eventId: record.id,
        occurredAt: new Date(String(record.occurred_at)).toISOString(),
        method: 'GET',
        route: record.route,
        action: 'R',
        subtype: record.subtype,
        outcome: record.outcome,
        httpStatus: record.http_status,
        resourceType: record.resource_type,
        resourceId: record.resource_id,
        dataCategory: record.data_category,
      })),
    );
    expect(used.map((record) => record.access_basis)).toEqual([expect.objectContaining({ grantId }), expect.objectContaining({ grantId })]);

    expect(await auditRecord(requestId)).toMatchObject({
      actor_id: compliance.id,
      action: 'R',
      subtype: 'search',
      resource_type: 'break-glass-grant',
      outcome: 'success',
      result_count: 1,
      client_ids: [client.id],
      details: { overdueAfterDays: 7 },
    });
  });

  it('unreviewed only, overdue first then oldest first; overdueAfterDays moves the line; reviewed grants leave the queue', async () => {
    const { clinic, client, holder, therapist, compliance } = await clinicWithGrants();
    const second = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
    const grant = {
      tenDays: await insertGrant(clinic.id, holder.id, client.id, 10),
      eightDays: await insertGrant(clinic.id, therapist.id, second.id, 8),
      twoDays: await insertGrant(clinic.id, holder.id, second.id, 2),
      today: await insertGrant(clinic.id, holder.id, client.id, 0),
      reviewed: await insertGrant(clinic.id, holder.id, client.id, 20),
    };
    await query(sql`insert into break_glass_reviews (clinic_id, id, grant_id, reviewer_id, outcome, note)
      values (${clinic.id}, ${uuidv7()}, ${grant.reviewed}, ${compliance.id}, 'justified', 'Reviewed earlier')`);
    const tenDaysAccesses = [
      await insertAccessUnder(clinic.id, grant.tenDays, holder.id, client.id, 1),
      await insertAccessUnder(clinic.id, grant.tenDays, holder.id, client.id, 12),
    ];
    await insertAccessUnder(clinic.id, grant.reviewed, holder.id, client.id, 1);
    const elsewhere = await clinicWithGrants();
    await insertGrant(elsewhere.clinic.id, elsewhere.holder.id, elsewhere.client.id, 30);

    const { queue } = await readQueue(compliance.token);
    const order = (q: Queue) => q.items.map((item) => [item.id, item.overdue]);
    expect(order(queue)).toEqual([
      [grant.tenDays, true],
      [grant.eightDays, true],
      [grant.twoDays, false],
      [grant.today, false],
    ]);
    expect(queue).toMatchObject({ total: 4, overdue: 2 });
    expect(queue.items[0]?.accesses.map((access) => access.eventId)).toEqual(tenDaysAccesses);
    expect(queue.items.slice(1).map((item) => item.accesses)).toEqual([[], [], []]);
    expect(queue.items[1]).toMatchObject({ staffId: therapist.id, clientId: second.id });

    const strict = (await readQueue(compliance.token, '?overdueAfterDays=1')).queue;
    expect(order(strict)).toEqual([
      [grant.tenDays, true],
      [grant.eightDays, true],
      [grant.twoDays, true],
      [grant.today, false],
    ]);
    const limited = (await readQueue(compliance.token, '?limit=1')).queue;
    expect(limited).toMatchObject({ total: 4, overdue: 2 });
    expect(limited.items.map((item) => item.id)).toEqual([grant.tenDays]);

    const review = await call(compliance.token, 'POST', `/v1/break-glass/${grant.tenDays}/review`, {
      outcome: 'inappropriate',
      note: 'No crisis documented for this access',
    });
    expect(review.response.statusCode).toBe(201);
    const after = (await readQueue(compliance.token)).queue;
    expect(after.items.map((item) => item.id)).toEqual([grant.eightDays, grant.twoDays, grant.today]);
    expect(after).toMatchObject({ total: 3, overdue: 1 });
  });

  it('an empty queue; compliance only (403 for clinicians and admins); a bad overdueAfterDays is a 400', async () => {
    const { therapist, admin, compliance } = await clinicWithGrants();
    const { queue, requestId } = await readQueue(compliance.token);
    expect(queue).toEqual({ overdueAfterDays: 7, total: 0, overdue: 0, items: [] });
    expect(await auditRecord(requestId)).toMatchObject({ result_count: 0, client_ids: [] });

    for (const member of [therapist, admin]) {
      const { response, requestId: denied } = await call(member.token, 'GET', '/v1/break-glass/queue');
      expectProblem(response, 403);
      expect(await auditRecord(denied)).toMatchObject({ outcome: 'denied', denial_reason: 'role-not-permitted:break-glass.review' });
    }
    for (const search of ['?overdueAfterDays=0', '?overdueAfterDays=1.5', '?overdueAfterDays=366', '?status=unreviewed']) {
      const { response } = await call(compliance.token, 'GET', `/v1/break-glass/queue${search}`);
      expect(expectProblem(response, 400).errors?.map((error) => error.in)).toEqual(['query']);
    }
  });
});
