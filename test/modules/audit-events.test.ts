import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, newRequestId, query } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

interface EventSpec {
  at: string;
  actorId?: string | null;
  clientIds?: string[];
  action?: string;
  subtype?: string;
  outcome?: string;
  dataCategory?: string | null;
  purpose?: string | null;
  requestId?: string;
  resourceType?: string | null;
  resourceId?: string | null;
}

/** An audit row written straight to the table (append-only: inserts are allowed). */
async function insertEvent(clinicId: string, spec: EventSpec) {
  const id = uuidv7();
  await query(sql`insert into audit_events (clinic_id, id, occurred_at, request_id, actor_type, actor_id, action, subtype, outcome,
      http_status, method, route, resource_type, resource_id, client_ids, data_category, purpose_of_use, service_version)
    values (${clinicId}, ${id}, ${spec.at}::timestamptz, ${spec.requestId ?? `seed-${id}`}, 'staff', ${spec.actorId ?? null}::uuid,
      ${spec.action ?? 'R'}, ${spec.subtype ?? 'read'}, ${spec.outcome ?? 'success'}, 200, 'GET', '/v1/seed',
      ${spec.resourceType ?? null}, ${spec.resourceId ?? null}, ${`{${(spec.clientIds ?? []).join(',')}}`}::uuid[],
      ${spec.dataCategory ?? null}, ${spec.purpose ?? null}, 'test')`);
  return id;
}

/** Seals until the clinic has nothing pending: the sealer waits for the cluster's xmin, which any open transaction holds back. */
async function sealAll(clinicId: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    await app.auditSealer.sealPending();
    const [row] = await query<{ n: number }>(sql`select count(*)::int as n from audit_events e
      where e.clinic_id = ${clinicId} and not exists (select 1 from audit_seals s where s.clinic_id = e.clinic_id and s.event_id = e.id)`);
    if (row?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const at = (minute: number) => new Date(Date.UTC(2021, 2, 1, 9, minute)).toISOString();
const range = { from: '2021-03-01T00:00:00Z', to: '2021-03-02T00:00:00Z' };

async function officer() {
  const { clinic } = await createClinic();
  const member = await createStaffMember(clinic.id, ['compliance']);
  return { clinicId: clinic.id, member, headers: bearer(tokenFor(app, member)) };
}

interface Page {
  items: Array<{ id: string; occurredAt: string; actorId: string | null; clientIds: string[]; action: string; seal: unknown }>;
  nextCursor: string | null;
}

async function search(headers: Record<string, string>, params: Record<string, string | number>, requestId = newRequestId()) {
  const qs = new URLSearchParams(Object.entries({ ...range, ...params }).map(([k, v]): [string, string] => [k, String(v)]));
  const response = await app.inject({ method: 'GET', url: `/v1/audit/events?${qs}`, headers: { ...headers, 'x-request-id': requestId } });
  return { response, page: response.json() as Page, requestId };
}

async function allPages(headers: Record<string, string>, params: Record<string, string | number>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const { page }: { page: Page } = await search(headers, { ...params, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('GET /v1/audit/events', () => {
  it('requires a range: from and to, from before to, at most 400 days — each a 400 naming the field', async () => {
    const { headers } = await officer();
    const cases: Array<[Record<string, string>, string]> = [
      [{ to: range.to }, 'from'],
      [{ from: range.from }, 'to'],
      [{ from: range.to, to: range.from }, 'to'],
      [{ from: '2020-01-01T00:00:00Z', to: '2021-03-01T00:00:00Z' }, 'to'],
      [{ from: '2021-03-01', to: range.to }, 'from'],
    ];
    for (const [params, field] of cases) {
      const qs = new URLSearchParams(params);
      const response = await app.inject({ method: 'GET', url: `/v1/audit/events?${qs}`, headers });
      const problem = expectProblem(response, 400);
      expect(problem.errors?.map((error) => `${error.in}.${error.field}`)).toContain(`query.${field}`);
    }
  });

  it('is for compliance only: a therapist and an admin get 403', async () => {
    const { clinic, admin } = await createClinic();
    const therapist = await createStaffMember(clinic.id, ['therapist']);
    for (const member of [therapist, admin]) {
      const { response } = await search(bearer(tokenFor(app, member)), {});
      expectProblem(response, 403);
    }
  });

  it("returns the caller's clinic's events only, with their seal once sealed", async () => {
    const mine = await officer();
    const other = await officer();
    const own = await insertEvent(mine.clinicId, { at: at(1) });
    const foreign = await insertEvent(other.clinicId, { at: at(1) });
    const { response, page } = await search(mine.headers, {});
    expect(response.statusCode).toBe(200);
    expect(page.items.map((item) => item.id)).toEqual([own]);
    expect(page.items.map((item) => item.id)).not.toContain(foreign);
    expect(page.items[0]).toMatchObject({ clinicId: mine.clinicId, occurredAt: at(1), seal: null, clientIds: [] });
    await sealAll(mine.clinicId);
    const sealed = await search(mine.headers, {});
    expect(sealed.page.items[0]?.seal).toMatchObject({ seq: expect.any(Number), hmac: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('applies each filter', async () => {
    const { clinicId, headers } = await officer();
    const actor = uuidv7();
    const client = uuidv7();
    const base = await insertEvent(clinicId, { at: at(1) });
    const specs: Array<[Record<string, string>, EventSpec]> = [
      [{ actorId: actor }, { actorId: actor, at: at(2) }],
      [{ clientId: client }, { clientIds: [uuidv7(), client], at: at(3) }],
      [{ action: 'D' }, { action: 'D', subtype: 'delete', at: at(4) }],
      [{ subtype: 'vread' }, { subtype: 'vread', at: at(5) }],
      [{ outcome: 'denied' }, { outcome: 'denied', at: at(6) }],
      [{ dataCategory: 'psychotherapy-note' }, { dataCategory: 'psychotherapy-note', at: at(7) }],
      [{ purpose: 'ETREAT' }, { purpose: 'ETREAT', at: at(8) }],
      [{ requestId: 'needle-request' }, { requestId: 'needle-request', at: at(9) }],
      [{ resourceType: 'diary-card' }, { resourceType: 'diary-card', at: at(10) }],
      [{ resourceId: 'needle-resource' }, { resourceId: 'needle-resource', at: at(11) }],
    ];
    const ids: string[] = [];
    for (const [, spec] of specs) ids.push(await insertEvent(clinicId, spec));
    for (const [index, [filter]] of specs.entries()) {
      const { page } = await search(headers, filter);
      expect(
        page.items.map((item) => item.id),
        JSON.stringify(filter),
      ).toEqual([ids[index]]);
    }
    const { page } = await search(headers, { from: at(0), to: at(2) });
    expect(page.items.map((item) => item.id)).toEqual([base]);
  });

  it('sorts by each field both ways, ties by occurredAt then id', async () => {
    const { clinicId, headers } = await officer();
    const [a1, a2] = [uuidv7(), uuidv7()].sort() as [string, string];
    const [c1, c2] = [uuidv7(), uuidv7()].sort() as [string, string];
    const rows = [
      { id: '', at: at(3), actorId: a2, clientIds: [c1], action: 'U' },
      { id: '', at: at(1), actorId: a1, clientIds: [c2], action: 'C' },
      { id: '', at: at(2), actorId: a2, clientIds: [c2], action: 'R' },
      { id: '', at: at(4), actorId: a1, clientIds: [c1], action: 'D' },
    ];
    for (const row of rows) row.id = await insertEvent(clinicId, row);
    const byTime = [...rows].sort((x, y) => x.at.localeCompare(y.at));
    const keyed = (key: (row: (typeof rows)[number]) => string) =>
      [...byTime].sort((x, y) => key(x).localeCompare(key(y)) || x.at.localeCompare(y.at));
    const expected: Record<string, typeof rows> = {
      occurredAt: byTime,
      actor: keyed((row) => row.actorId),
      client: keyed((row) => row.clientIds[0] as string),
      action: keyed((row) => row.action),
    };
    for (const [sort, ascending] of Object.entries(expected)) {
      for (const order of ['asc', 'desc'] as const) {
        const want = (order === 'asc' ? ascending : [...ascending].reverse()).map((row) => row.id);
        expect(await allPages(headers, { sort, order, limit: 1 }), `${sort} ${order}`).toEqual(want);
      }
    }
    const { page } = await search(headers, {});
    expect(page.items.map((item) => item.id)).toEqual([...byTime].reverse().map((row) => row.id));
  });

  it('pages neither repeat nor skip the rows that existed at the first page while records arrive', async () => {
    const { clinicId, headers } = await officer();
    const existing: string[] = [];
    for (let minute = 0; minute < 30; minute++) existing.push(await insertEvent(clinicId, { at: at(minute * 2) }));
    const seen: string[] = [];
    let { page } = await search(headers, { limit: 7 });
    let round = 0;
    while (true) {
      seen.push(...page.items.map((item) => item.id));
      // Arrivals: one inside the range already read, one ahead of the cursor, one at the newest end.
      await insertEvent(clinicId, { at: at(59 - round) });
      await insertEvent(clinicId, { at: at(1 + round * 2) });
      await insertEvent(clinicId, { at: at(59) });
      round++;
      if (!page.nextCursor) break;
      ({ page } = await search(headers, { limit: 7, cursor: page.nextCursor }));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...existing].reverse());
    // A new search sees the arrivals.
    expect((await allPages(headers, { limit: 50 })).length).toBe(existing.length + round * 3);
  });

  it('refuses a cursor of another sort or a forged one', async () => {
    const { clinicId, headers } = await officer();
    for (let minute = 0; minute < 3; minute++) await insertEvent(clinicId, { at: at(minute) });
    const { page } = await search(headers, { limit: 1 });
    expect(page.nextCursor).toEqual(expect.any(String));
    const forged: Array<Record<string, string>> = [{ sort: 'actor', cursor: page.nextCursor as string }, { cursor: 'bm90LWEtY3Vyc29y' }];
    for (const params of forged) {
      const problem = expectProblem((await search(headers, { limit: 1, ...params })).response, 400);
      expect(problem.errors?.[0]).toMatchObject({ in: 'query', field: 'cursor' });
    }
  });

  it('audits itself: one audit.search record with the result count and the filters', async () => {
    const { clinicId, headers, member } = await officer();
    const client = uuidv7();
    await insertEvent(clinicId, { at: at(1), clientIds: [client] });
    await insertEvent(clinicId, { at: at(2), clientIds: [client] });
    const { requestId } = await search(headers, { clientId: client, outcome: 'success' });
    const records = await query<Record<string, unknown>>(sql`select * from audit_events where request_id = ${requestId}`);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      clinic_id: clinicId,
      actor_id: member.id,
      action: 'R',
      subtype: 'search',
      resource_type: 'audit-event',
      result_count: 2,
      client_ids: [client],
      route: '/v1/audit/events',
      details: {
        range: { from: '2021-03-01T00:00:00.000Z', to: '2021-03-02T00:00:00.000Z' },
        filters: { clientId: client, outcome: 'success' },
        sort: 'occurredAt',
        order: 'desc',
        page: 'first',
      },
    });
  });
});
