import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { programPolicies } from '../../src/db/schema/index.js';
import { defaultPolicy, type PolicySettings, today } from '../../src/modules/programs/programs.queries.js';
import { buildTestApp, query, testDatabase } from '../helpers/app.js';
import { createClientRecord, createClinic, createProgram, createStaffMember, tokenFor } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();

type Reply = Awaited<ReturnType<typeof app.inject>>;
/** The fields these tests read; the rest are checked with toMatchObject. */
type Episode = {
  id: string;
  clientId: string;
  status: string;
  version: number;
  contractEnd: string | null;
  reEntryEligibleOn: string | null;
};

const call = caller(app);

const fieldsOf = (response: Reply) => expectProblem(response, 400).errors?.map((error) => `${error.in}.${error.field}`);

const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const clientRow = async (id: string) =>
  (await query<{ status: string; version: number }>(sql`select status, version from clients where id = ${id}`))[0];

/** A clinic, a therapist with a token, and one of their clients (registered, with a referred episode). */
async function therapistWithClient(policy: Partial<PolicySettings> = {}) {
  const { clinic, admin } = await createClinic();
  const therapist = await createStaffMember(clinic.id, ['therapist']);
  const { program } = await createProgram(clinic.id, 'adult', policy);
  const client = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: program.id });
  return { clinic, admin, therapist, token: tokenFor(app, therapist), client, program };
}

const listEpisodes = async (token: string, clientId: string) =>
  ((await call(token, 'GET', `/v1/clients/${clientId}/episodes`)).response.json() as { items: Episode[] }).items;

async function currentEpisode(token: string, clientId: string) {
  const [episode] = await listEpisodes(token, clientId);
  return episode as Episode;
}

function move(token: string, episode: Episode, body: Record<string, unknown>, ifMatch: string | null = `"${episode.version}"`) {
  const headers: Record<string, string> = ifMatch === null ? {} : { 'if-match': ifMatch };
  return call(token, 'POST', `/v1/clients/${episode.clientId}/episodes/${episode.id}/transitions`, body, headers);
}

async function moved(token: string, episode: Episode, body: Record<string, unknown>) {
  const { response } = await move(token, episode, body);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Episode;
}

/** Takes the client's current episode to active (pretreatment and contract start today). */
async function activeEpisode(token: string, clientId: string) {
  const pretreatment = await moved(token, await currentEpisode(token, clientId), { to: 'pretreatment' });
  return moved(token, pretreatment, { to: 'active' });
}

describe('episode lifecycle', () => {
  it('lists the episodes of a client: audited as a search with the client, the data category and the basis', async () => {
    const { clinic, therapist, token, client, program } = await therapistWithClient();
    const { response, requestId } = await call(token, 'GET', `/v1/clients/${client.id}/episodes`);
    expect(response.statusCode).toBe(200);
    const items = (response.json() as { items: Episode[] }).items;
    expect(items).toEqual([
      expect.objectContaining({ clientId: client.id, programId: program.id, status: 'referred', referredOn: today(), version: 1 }),
    ]);
    const record = await auditRecord(requestId);
    expect(record).toMatchObject({
      clinic_id: clinic.id,
      actor_id: therapist.id,
      action: 'R',
      subtype: 'search',
      outcome: 'success',
      client_ids: [client.id],
      data_category: 'treatment-episode',
      result_count: 1,
    });
    expect(record.access_basis).toMatchObject({ rule: 'clients.clinical', relationship: 'primary-therapist' });
  });

  it('walks referred → pretreatment → active → discharged (completed); ETag, version and client status follow each step', async () => {
    const { token, client } = await therapistWithClient();
    const referred = await currentEpisode(token, client.id);
    const start = (await clientRow(client.id))?.version as number;

    const toPre = await move(token, referred, { to: 'pretreatment', on: today(), notes: 'Orientation booked' });
    expect(toPre.response.statusCode).toBe(200);
    expect(toPre.response.headers.etag).toBe('"2"');
    const pretreatment = toPre.response.json() as Episode;
    expect(pretreatment).toMatchObject({ status: 'pretreatment', pretreatmentOn: today(), notes: 'Orientation booked', version: 2 });
    expect(await clientRow(client.id)).toEqual({ status: 'pretreatment', version: start + 1 });
    expect(await auditRecord(toPre.requestId)).toMatchObject({
      action: 'U',
      subtype: 'status-change',
      http_status: 200,
      resource_id: referred.id,
      client_ids: [client.id],
      data_category: 'treatment-episode',
      details: { from: 'referred', to: 'pretreatment', reason: null },
    });

    const active = await moved(token, pretreatment, { to: 'active' });
    expect(active).toMatchObject({ status: 'active', contractStart: today(), contractEnd: plusDays(today(), 26 * 7), version: 3 });
    expect(await clientRow(client.id)).toEqual({ status: 'active', version: start + 2 });

    const done = await move(token, active, { to: 'discharged', reason: 'completed' });
    expect(done.response.headers.etag).toBe('"4"');
    expect(done.response.json()).toMatchObject({
      status: 'discharged',
      dischargedOn: today(),
      dischargeReason: 'completed',
      reEntryEligibleOn: null,
    });
    expect(await clientRow(client.id)).toEqual({ status: 'discharged', version: start + 3 });
    expect(await auditRecord(done.requestId)).toMatchObject({ details: { from: 'active', to: 'discharged', reason: 'completed' } });
  });

  it('the contract end comes from the program policy (52 weeks here) unless given; it must be after the start', async () => {
    const long = await therapistWithClient({ contractWeeks: 52 });
    const active = await activeEpisode(long.token, long.client.id);
    expect(active.contractEnd).toBe(plusDays(today(), 52 * 7));

    const given = await therapistWithClient({ contractWeeks: 52 });
    const pre = await moved(given.token, await currentEpisode(given.token, given.client.id), { to: 'pretreatment' });
    const start = plusDays(today(), 7);
    const shifted = await moved(given.token, pre, { to: 'active', contractStart: start });
    expect(shifted).toMatchObject({ contractStart: start, contractEnd: plusDays(start, 52 * 7) });

    const explicit = await therapistWithClient();
    const pre2 = await moved(explicit.token, await currentEpisode(explicit.token, explicit.client.id), { to: 'pretreatment' });
    for (const contractEnd of [today(), plusDays(today(), -1)]) {
      const { response } = await move(explicit.token, pre2, { to: 'active', contractEnd });
      expect(fieldsOf(response)).toEqual(['body.contractEnd']);
    }
    const end = plusDays(today(), 90);
    expect(await moved(explicit.token, pre2, { to: 'active', contractEnd: end })).toMatchObject({
      contractStart: today(),
      contractEnd: end,
    });
  });

  it('allows every discharge the rules allow from referred, pretreatment and active', async () => {
    const cases: Array<[string, string[]]> = [
      ['referred', ['declined_commitment', 'transferred', 'dropped_out', 'clinical']],
      ['pretreatment', ['dropped_out', 'clinical', 'declined_commitment', 'transferred']],
      ['active', ['completed', 'four_miss', 'dropped_out', 'clinical', 'declined_commitment', 'transferred']],
    ];
    for (const [from, reasons] of cases) {
      for (const reason of reasons) {
        const { token, client } = await therapistWithClient();
        let episode = await currentEpisode(token, client.id);
        if (from !== 'referred') episode = await moved(token, episode, { to: 'pretreatment' });
        if (from === 'active') episode = await moved(token, episode, { to: 'active' });
        const discharged = await moved(token, episode, { to: 'discharged', reason });
        expect(discharged).toMatchObject({ status: 'discharged', dischargeReason: reason, dischargedOn: today() });
        expect(discharged.reEntryEligibleOn).toBe(reason === 'four_miss' ? episode.contractEnd : null);
        expect((await clientRow(client.id))?.status).toBe('discharged');
      }
    }
  });

  it('refuses other moves with 409 naming the current status and the allowed ones; nothing changes', async () => {
    const { token, client } = await therapistWithClient();
    const referred = await currentEpisode(token, client.id);
    const refuse = async (episode: Episode, body: Record<string, unknown>, ...expected: string[]) => {
      const { response, requestId } = await move(token, episode, body);
      const problem = expectProblem(response, 409);
      for (const text of expected) expect(problem.detail).toContain(text);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 409, client_ids: [client.id] });
    };
    await refuse(referred, { to: 'active' }, 'referred', 'Allowed from referred: pretreatment, discharged');
    await refuse(
      referred,
      { to: 'discharged', reason: 'completed' },
      'referred',
      'declined_commitment, transferred, dropped_out, clinical',
    );
    await refuse(referred, { to: 'discharged', reason: 'four_miss' }, 'four_miss');
    expect(await currentEpisode(token, client.id)).toEqual(referred);

    const pre = await moved(token, referred, { to: 'pretreatment' });
    await refuse(pre, { to: 'pretreatment' }, 'pretreatment', 'Allowed from pretreatment: active, discharged');
    await refuse(pre, { to: 'discharged', reason: 'four_miss' }, 'Allowed reasons from pretreatment');
    await refuse(pre, { to: 'discharged', reason: 'completed' }, 'completed');
    const active = await moved(token, pre, { to: 'active' });
    await refuse(active, { to: 'pretreatment' }, 'active', 'Allowed from active: discharged');
    await refuse(active, { to: 'active' }, 'Allowed from active: discharged');
    const discharged = await moved(token, active, { to: 'discharged', reason: 'clinical' });
    for (const to of ['pretreatment', 'active']) await refuse(discharged, { to }, 'discharged', 'Allowed from discharged: none');
    await refuse(discharged, { to: 'discharged', reason: 'completed' }, 'Allowed from discharged: none');
    expect(await currentEpisode(token, client.id)).toEqual(discharged);
    expect((await clientRow(client.id))?.status).toBe('discharged');
  });

  it('needs If-Match: 428 without it, 412 when stale; nothing changes', async () => {
    const { token, client } = await therapistWithClient();
    const referred = await currentEpisode(token, client.id);
    expectProblem((await move(token, referred, { to: 'pretreatment' }, null)).response, 428);
    const stale = await move(token, referred, { to: 'pretreatment' }, '"7"');
    expectProblem(stale.response, 412);
    expect(await auditRecord(stale.requestId)).toMatchObject({ outcome: 'failure', http_status: 412, resource_id: referred.id });
    expect(await currentEpisode(token, client.id)).toEqual(referred);
    const pre = await moved(token, referred, { to: 'pretreatment' });
    expectProblem((await move(token, pre, { to: 'active' }, '"1"')).response, 412);
    expect((await moved(token, pre, { to: 'active' })).status).toBe('active');
  });

  it('refuses a date before the previous step and malformed bodies with 400 naming the field', async () => {
    const { token, client } = await therapistWithClient();
    const referred = await currentEpisode(token, client.id);
    const yesterday = plusDays(today(), -1);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ to: 'pretreatment', on: yesterday }, 'body.on'],
      [{ to: 'discharged', reason: 'clinical', on: yesterday }, 'body.on'],
      [{ to: 'discharged' }, 'body.reason'],
      [{ to: 'discharged', reason: 'bored' }, 'body.reason'],
      [{ to: 'pretreatment', reason: 'clinical' }, 'body.reason'],
      [{ to: 'discharged', reason: 'clinical', contractEnd: today() }, 'body.contractEnd'],
      [{ to: 'pretreatment', on: '2024-02-30' }, 'body.on'],
      [{ to: 'paused' }, 'body.to'],
      [{}, 'body.to'],
    ];
    for (const [body, field] of cases)
      expect(fieldsOf((await move(token, referred, body)).response), JSON.stringify(body)).toEqual([field]);
    expect(
      fieldsOf((await call(token, 'POST', `/v1/clients/${client.id}/episodes/nope/transitions`, { to: 'pretreatment' })).response),
    ).toEqual(['params.episodeId']);
    const pre = await moved(token, referred, { to: 'pretreatment', on: plusDays(today(), 2) });
    expect(fieldsOf((await move(token, pre, { to: 'active', on: plusDays(today(), 1) })).response)).toEqual(['body.on']);
    expect(fieldsOf((await move(token, pre, { to: 'active', on: plusDays(today(), 3), contractStart: today() })).response)).toEqual([
      'body.contractStart',
    ]);
    expect(await currentEpisode(token, client.id)).toEqual(pre);
  });
});

describe('opening episodes', () => {
  it('one open episode at a time (409); after a discharge a new referred episode opens under the policy in force', async () => {
    const { clinic, therapist, token, client, program } = await therapistWithClient();
    const open = await call(token, 'POST', `/v1/clients/${client.id}/episodes`, {});
    expect(expectProblem(open.response, 409).detail).toContain('open episode (referred');
    expect(await auditRecord(open.requestId)).toMatchObject({ outcome: 'failure', http_status: 409, client_ids: [client.id] });
    expect(await listEpisodes(token, client.id)).toHaveLength(1);

    // History set up directly: the first episode ended in 2023; policy v2 (52 weeks) took effect 2023-05-01, v3 in 2024.
    await query(sql`update treatment_episodes set referred_on = '2023-01-01', status = 'discharged', discharged_on = '2023-03-01',
      discharge_reason = 'dropped_out' where client_id = ${client.id}`);
    await query(sql`update clients set status = 'discharged' where id = ${client.id}`);
    const { db } = await testDatabase();
    const policy = { ...defaultPolicy('adult'), clinicId: clinic.id, programId: program.id };
    await db.insert(programPolicies).values([
      { ...policy, version: 2, effectiveFrom: '2023-05-01', contractWeeks: 52 },
      { ...policy, version: 3, effectiveFrom: '2024-01-01' },
    ]);
    const url = `/v1/clients/${client.id}/episodes`;
    expect(fieldsOf((await call(token, 'POST', url, { referredOn: '2023-02-01' })).response)).toEqual(['body.referredOn']);
    expect(fieldsOf((await call(token, 'POST', url, { referredOn: plusDays(today(), 1) })).response)).toEqual(['body.referredOn']);
    expect(fieldsOf((await call(token, 'POST', url, { referredOn: '2023-06-01', status: 'active' })).response)).toEqual(['body.status']);
    expect((await clientRow(client.id))?.status).toBe('discharged');

    const before = (await clientRow(client.id))?.version as number;
    const { response, requestId } = await call(token, 'POST', url, { referredOn: '2023-06-01', notes: 'Re-referred by the GP' });
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('"1"');
    const created = response.json() as Episode;
    expect(created).toMatchObject({
      clientId: client.id,
      programId: program.id,
      policyVersion: 2,
      status: 'referred',
      referredOn: '2023-06-01',
      notes: 'Re-referred by the GP',
      createdBy: therapist.id,
      version: 1,
    });
    expect(await clientRow(client.id)).toEqual({ status: 'referred', version: before + 1 });
    expect(await auditRecord(requestId)).toMatchObject({
      clinic_id: clinic.id,
      action: 'C',
      subtype: 'create',
      http_status: 201,
      resource_id: created.id,
      client_ids: [client.id],
      data_category: 'treatment-episode',
    });
    expect((await listEpisodes(token, client.id)).map((episode) => episode.id)[0]).toBe(created.id);
    // The contract length is the one of the policy the episode was opened under.
    const pre = await moved(token, created, { to: 'pretreatment', on: '2023-06-05' });
    expect(await moved(token, pre, { to: 'active', on: '2023-06-12' })).toMatchObject({ contractEnd: plusDays('2023-06-12', 52 * 7) });
  });

  it('re-entry after a four-miss discharge needs the eligible date and a recommitment agreed after the discharge', async () => {
    const { token, client } = await therapistWithClient();
    const active = await activeEpisode(token, client.id);
    const out = await moved(token, active, { to: 'discharged', reason: 'four_miss' });
    expect(out.reEntryEligibleOn).toBe(active.contractEnd);
    const url = `/v1/clients/${client.id}/episodes`;
    const refused = async (...expected: string[]) => {
      const { response } = await call(token, 'POST', url, {});
      const detail = expectProblem(response, 409).detail;
      for (const text of expected) expect(detail).toContain(text);
      return detail;
    };
    const commit = async (type: string, agreedAt: string) => {
      const body = { type, items: ['Attend'], method: 'oral', agreedAt };
      expect((await call(token, 'POST', `/v1/clients/${client.id}/commitments`, body)).response.statusCode).toBe(201);
    };
    await refused(`may re-enter from ${active.contractEnd}`, "'recommitment'");

    // Date reached (set up directly), but only a treatment commitment since and a recommitment before the discharge.
    await query(sql`update treatment_episodes set referred_on = '2023-01-01', pretreatment_on = '2023-01-10', contract_start = '2023-02-01',
      contract_end = '2023-08-02', discharged_on = '2023-04-01', re_entry_eligible_on = '2023-08-02' where id = ${out.id}`);
    await commit('treatment', new Date().toISOString());
    await commit('recommitment', '2023-03-15T12:00:00+02:00');
    expect(await refused("no commitment of type 'recommitment'")).not.toContain('may re-enter');

    // A recommitment now, but the eligible date not reached.
    await commit('recommitment', new Date().toISOString());
    await query(sql`update treatment_episodes set re_entry_eligible_on = ${plusDays(today(), 10)} where id = ${out.id}`);
    expect(await refused(`may re-enter from ${plusDays(today(), 10)}`)).not.toContain("'recommitment'");
    expect(await listEpisodes(token, client.id)).toHaveLength(1);

    await query(sql`update treatment_episodes set re_entry_eligible_on = '2023-08-02' where id = ${out.id}`);
    const { response } = await call(token, 'POST', url, {});
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ status: 'referred', referredOn: today() });
    expect((await clientRow(client.id))?.status).toBe('referred');
  });
});

describe('access to episodes', () => {
  it('refuses an unrelated therapist (403 no-relationship), admin and compliance (403 role); another clinic is 404', async () => {
    const { clinic, admin, token, client } = await therapistWithClient();
    const episode = await currentEpisode(token, client.id);
    const stranger = await createStaffMember(clinic.id, ['therapist']);
    const compliance = await createStaffMember(clinic.id, ['compliance']);
    const attempts = (caller: string) => [
      call(caller, 'GET', `/v1/clients/${client.id}/episodes`),
      call(caller, 'POST', `/v1/clients/${client.id}/episodes`, {}),
      move(caller, episode, { to: 'pretreatment' }),
    ];
    for (const attempt of attempts(tokenFor(app, stranger))) {
      const { response, requestId } = await attempt;
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'no-relationship', client_ids: [client.id] });
    }
    for (const member of [admin, compliance]) {
      for (const attempt of attempts(tokenFor(app, member))) {
        const { response, requestId } = await attempt;
        expectProblem(response, 403);
        expect(await auditRecord(requestId)).toMatchObject({ outcome: 'denied', denial_reason: 'role-not-permitted:clients.clinical' });
      }
    }
    const elsewhere = await therapistWithClient();
    for (const attempt of attempts(elsewhere.token)) {
      const { response } = await attempt;
      expect(JSON.stringify(expectProblem(response, 404))).not.toContain(client.id);
    }
    const unknownEpisode = `/v1/clients/${client.id}/episodes/${randomUUID()}/transitions`;
    const unknown = await call(token, 'POST', unknownEpisode, { to: 'pretreatment' }, { 'if-match': '"1"' });
    expectProblem(unknown.response, 404);
    expect(await currentEpisode(token, client.id)).toEqual(episode);
  });

  it('a break-glass grant lets another clinician in, and the grant is the recorded basis', async () => {
    const { clinic, client } = await therapistWithClient();
    const covering = await createStaffMember(clinic.id, ['therapist']);
    const token = tokenFor(app, covering);
    const opened = await call(token, 'POST', '/v1/break-glass', {
      clientId: client.id,
      reason: 'Client in crisis; primary therapist on leave',
      minutes: 30,
    });
    expect(opened.response.statusCode).toBe(201);
    const grant = opened.response.json() as { id: string };
    const { response, requestId } = await call(token, 'GET', `/v1/clients/${client.id}/episodes`);
    expect(response.statusCode).toBe(200);
    expect((await auditRecord(requestId)).access_basis).toMatchObject({ relationship: 'break-glass', grantId: grant.id });
    const episode = (response.json() as { items: Episode[] }).items[0] as Episode;
    const step = await move(token, episode, { to: 'pretreatment' });
    expect(step.response.statusCode).toBe(200);
    expect((await auditRecord(step.requestId)).access_basis).toMatchObject({ relationship: 'break-glass', grantId: grant.id });
  });
});
