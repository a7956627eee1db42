import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, query } from '../helpers/app.js';
import { clientWithCareTeam, createClientRecord } from '../helpers/factories.js';
import { auditRecord, caller } from '../helpers/http.js';
import { expectProblem } from '../helpers/problems.js';

const app = await buildTestApp();
const call = caller(app);

type ChainAnalysis = {
  id: string;
  clientId: string;
  targetId: string | null;
  targetVersion: number | null;
  eventId: string | null;
  behaviourAt: string;
  links: { type: string; text: string; skillfulAlternative: string | null; skillId: string | null }[];
  version: number;
  [key: string]: unknown;
};
type ChainAnalysisPage = { items: ChainAnalysis[]; nextCursor: string | null };

const HOUR = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();
const selfHarmTarget = { category: 'life_threatening', lifeThreateningSubtype: 'nssi', measure: 'urge_and_action', label: 'Cutting' };
const selfHarmEvent = { kind: 'nssi', occurredAt: ago(30), severity: 'moderate', source: 'client_report' };
const links = [
  { type: 'event', text: 'Argument with flatmate (synthetic)' },
  { type: 'thought', text: 'I always ruin everything', skillfulAlternative: 'Check the facts' },
  { type: 'emotion', text: 'Shame' },
  { type: 'body_sensation', text: 'Hot face, tight chest' },
  { type: 'action', text: 'Went to the bathroom' },
];

async function setting() {
  const team = await clientWithCareTeam(app);
  const base = `/v1/clients/${team.client.id}`;
  const post = async (path: string, body: object) => {
    const { response } = await call(team.therapist.token, 'POST', `${base}/${path}`, body);
    expect(response.statusCode).toBe(201);
    return response.json() as { id: string; targetId: string; version: number };
  };
  return {
    ...team,
    base,
    url: `${base}/chain-analyses`,
    newTarget: () => post('targets', selfHarmTarget),
    newEvent: (body: object = {}) => post('events', { ...selfHarmEvent, ...body }),
    newSession: () => post('sessions', { scheduledStart: ago(1), durationMinutes: 50, type: 'regular' }),
  };
}

const analysisBody = (anchors: object) => ({
  ...anchors,
  behaviourAt: ago(30),
  problemBehaviour: 'Cut forearm (synthetic)',
  promptingEvent: 'Argument at home',
  vulnerabilities: ['Slept 4 hours', 'Skipped lunch'],
  links,
  consequences: [
    { term: 'short', text: 'Relief' },
    { term: 'long', text: 'Shame the next day' },
  ],
  solutions: ['Use TIPP when shame rises'],
  completedIn: 'homework',
});

async function record(token: string, url: string, body: object) {
  const { response } = await call(token, 'POST', url, body);
  expect(response.statusCode).toBe(201);
  return response.json() as ChainAnalysis;
}

const analysisCount = async (clientId: string) =>
  (await query<{ n: number }>(sql`select count(*)::int as n from chain_analyses where client_id = ${clientId}`))[0]?.n;

describe('recording a chain analysis', () => {
  it('201 with ETag and Location; links keep their order; read back equal; audited as a chain analysis', async () => {
    const { client, therapist, url, newTarget, newEvent } = await setting();
    const target = await newTarget();
    const event = await newEvent();
    const { response, requestId } = await call(
      therapist.token,
      'POST',
      url,
      analysisBody({ targetId: target.targetId, eventId: event.id }),
    );
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('"1"');
    const analysis = response.json() as ChainAnalysis;
    expect(response.headers.location).toBe(`${url}/${analysis.id}`);
    expect(analysis).toMatchObject({
      clientId: client.id,
      targetId: target.targetId,
      targetVersion: 1,
      eventId: event.id,
      problemBehaviour: 'Cut forearm (synthetic)',
      vulnerabilities: ['Slept 4 hours', 'Skipped lunch'],
      solutions: ['Use TIPP when shame rises'],
      repair: null,
      commitment: null,
      completedIn: 'homework',
      sessionId: null,
      version: 1,
      createdBy: therapist.id,
    });
    expect(analysis.links.map((link) => link.type)).toEqual(['event', 'thought', 'emotion', 'body_sensation', 'action']);
    expect(analysis.links[1]).toEqual({
      type: 'thought',
      text: 'I always ruin everything',
      skillfulAlternative: 'Check the facts',
      skillId: null,
    });
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'C',
      subtype: 'create',
      resource_id: analysis.id,
      data_category: 'chain-analysis',
      client_ids: [client.id],
      access_basis: { rule: 'clients.clinical', relationship: 'primary-therapist' },
    });

    const read = await call(therapist.token, 'GET', `${url}/${analysis.id}`);
    expect(read.response.headers.etag).toBe('"1"');
    expect(read.response.json()).toEqual(analysis);
    expect(await auditRecord(read.requestId)).toMatchObject({
      action: 'R',
      resource_id: analysis.id,
      data_category: 'chain-analysis',
      client_ids: [client.id],
    });
  });

  it('completed in session names the session; a link may name a skill of the clinic', async () => {
    const { clinic, therapist, url, newEvent, newSession } = await setting();
    const session = await newSession();
    const skillId = uuidv7();
    await query(
      sql`insert into skills (clinic_id, id, module, name, sort_order, standard) values (${clinic.id}, ${skillId}, 'distress_tolerance', 'Synthetic skill', 999, false)`,
    );
    const event = await newEvent();
    const withSkill = [{ type: 'action', text: 'Reached for blade', skillfulAlternative: 'Cold water', skillId }];
    const analysis = await record(therapist.token, url, {
      ...analysisBody({ eventId: event.id }),
      links: withSkill,
      completedIn: 'session',
      sessionId: session.id,
    });
    expect(analysis).toMatchObject({ completedIn: 'session', sessionId: session.id, targetId: null, targetVersion: null });
    expect(analysis.links).toEqual([{ ...withSkill[0] }]);
  });

  it('stores the target version in force at the behaviour, else the current one', async () => {
    const { client, therapist, url, base, newTarget } = await setting();
    const target = await newTarget();
    await query(sql`update targets set effective_from = now() - interval '10 days' where target_id = ${target.targetId}`);
    const changed = await call(
      therapist.token,
      'PUT',
      `${base}/targets/${target.targetId}`,
      { ...selfHarmTarget, label: 'Cutting or burning' },
      {
        'if-match': '"1"',
      },
    );
    expect(changed.response.statusCode).toBe(201);
    const during = await record(therapist.token, url, { ...analysisBody({ targetId: target.targetId }), behaviourAt: ago(48) });
    expect(during.targetVersion).toBe(1);
    const before = await record(therapist.token, url, { ...analysisBody({ targetId: target.targetId }), behaviourAt: ago(24 * 30) });
    expect(before.targetVersion).toBe(2);
    expect(await analysisCount(client.id)).toBe(2);
  });

  it.each([
    ['targetId', {}],
    ['sessionId', { completedIn: 'session' }],
    ['behaviourAt', { behaviourAt: new Date(Date.now() + 10 * 60_000).toISOString() }],
    ['problemBehaviour', { problemBehaviour: '' }],
    ['promptingEvent', { promptingEvent: 'x'.repeat(4001) }],
    ['vulnerabilities', { vulnerabilities: Array.from({ length: 51 }, () => 'tired') }],
    ['vulnerabilities.0', { vulnerabilities: ['x'.repeat(1001)] }],
    ['links', { links: [] }],
    ['links', { links: Array.from({ length: 101 }, () => links[0]) }],
    ['links.0.type', { links: [{ type: 'urge', text: 'Wanted to' }] }],
    ['links.0.text', { links: [{ type: 'thought', text: 'x'.repeat(2001) }] }],
    ['links.0.skillfulAlternative', { links: [{ type: 'thought', text: 'ok', skillfulAlternative: 'x'.repeat(2001) }] }],
    ['consequences.0.term', { consequences: [{ term: 'medium', text: 'Relief' }] }],
    ['solutions', { solutions: Array.from({ length: 51 }, () => 'Plan') }],
    ['repair', { repair: 'x'.repeat(4001) }],
    ['commitment', { commitment: 'x'.repeat(4001) }],
    ['completedIn', { completedIn: 'group' }],
  ])('400 naming %s, and nothing is written', async (field, change) => {
    const { client, therapist, url, newEvent } = await setting();
    const anchors = field === 'targetId' ? {} : { eventId: (await newEvent()).id };
    const body = { ...analysisBody(anchors), ...change };
    const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    expect(await analysisCount(client.id)).toBe(0);
  });

  it('400 for a target, event or session of another client, an event entered in error, or a skill of another clinic', async () => {
    const { client, therapist, url, newEvent } = await setting();
    const other = await createClientRecord(client.clinicId, { primaryTherapistId: therapist.id });
    const otherBase = `/v1/clients/${other.id}`;
    const made = async (path: string, body: object) =>
      (await call(therapist.token, 'POST', `${otherBase}/${path}`, body)).response.json() as { id: string; targetId: string };
    const foreignTarget = await made('targets', selfHarmTarget);
    const foreignEvent = await made('events', selfHarmEvent);
    const foreignSession = await made('sessions', { scheduledStart: ago(1), durationMinutes: 50, type: 'regular' });
    const erroneous = await newEvent();
    const marked = await call(therapist.token, 'POST', `/v1/clients/${client.id}/events/${erroneous.id}/entered-in-error`, {
      reason: 'Recorded against the wrong client by mistake',
    });
    expect(marked.response.statusCode).toBe(200);
    const own = await newEvent();
    for (const [field, body] of [
      ['targetId', analysisBody({ targetId: foreignTarget.targetId })],
      ['eventId', analysisBody({ eventId: foreignEvent.id })],
      ['eventId', analysisBody({ eventId: erroneous.id })],
      ['sessionId', { ...analysisBody({ eventId: own.id }), completedIn: 'session', sessionId: foreignSession.id }],
      ['links', { ...analysisBody({ eventId: own.id }), links: [{ type: 'action', text: 'Cold water', skillId: uuidv7() }] }],
    ] as const) {
      const problem = expectProblem((await call(therapist.token, 'POST', url, body)).response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    }
    expect(await analysisCount(client.id)).toBe(0);
  });
});

describe('changing and listing chain analyses', () => {
  it('PATCH needs If-Match (428, 412), bumps the version and audits the changed field names', async () => {
    const { therapist, url, newEvent, newSession } = await setting();
    const analysis = await record(therapist.token, url, analysisBody({ eventId: (await newEvent()).id }));
    const path = `${url}/${analysis.id}`;
    expectProblem((await call(therapist.token, 'PATCH', path, { repair: 'Apologised' })).response, 428);
    expectProblem((await call(therapist.token, 'PATCH', path, { repair: 'Apologised' }, { 'if-match': '"2"' })).response, 412);
    const reordered = [links[4], links[0]];
    const { response, requestId } = await call(
      therapist.token,
      'PATCH',
      path,
      { repair: 'Apologised', links: reordered },
      { 'if-match': '"1"' },
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    const updated = response.json() as ChainAnalysis;
    expect(updated).toMatchObject({ version: 2, repair: 'Apologised', problemBehaviour: analysis.problemBehaviour });
    expect(updated.links.map((link) => link.text)).toEqual([links[4]?.text, links[0]?.text]);
    expect(await auditRecord(requestId)).toMatchObject({
      action: 'U',
      resource_id: analysis.id,
      data_category: 'chain-analysis',
      details: { fields: ['links', 'repair'], fromVersion: 1 },
    });
    expectProblem((await call(therapist.token, 'PATCH', path, { repair: 'Again' }, { 'if-match': '"1"' })).response, 412);

    // The merged record must still hold: session needs sessionId, and an anchor must remain.
    for (const [field, body] of [
      ['sessionId', { completedIn: 'session' }],
      ['targetId', { eventId: null }],
      ['sessionId', { completedIn: 'session', sessionId: uuidv7() }],
      ['links.0.type', { links: [{ type: 'urge', text: 'x' }] }],
    ] as const) {
      const problem = expectProblem((await call(therapist.token, 'PATCH', path, body, { 'if-match': '"2"' })).response, 400);
      expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    }
    const session = await newSession();
    const done = await call(therapist.token, 'PATCH', path, { completedIn: 'session', sessionId: session.id }, { 'if-match': '"2"' });
    expect(done.response.json()).toMatchObject({ version: 3, completedIn: 'session', sessionId: session.id, repair: 'Apologised' });
  });

  it('lists newest behaviour first, filtered by event or target, audited with the count', async () => {
    const { client, therapist, url, newEvent, newTarget } = await setting();
    const event = await newEvent();
    const target = await newTarget();
    const old = await record(therapist.token, url, { ...analysisBody({ eventId: event.id }), behaviourAt: ago(72) });
    const recent = await record(therapist.token, url, { ...analysisBody({ targetId: target.targetId }), behaviourAt: ago(2) });
    const middle = await record(therapist.token, url, { ...analysisBody({ targetId: target.targetId }), behaviourAt: ago(20) });
    const { response, requestId } = await call(therapist.token, 'GET', url);
    expect((response.json() as ChainAnalysisPage).items.map((a) => a.id)).toEqual([recent.id, middle.id, old.id]);
    expect(await auditRecord(requestId)).toMatchObject({ action: 'R', subtype: 'search', result_count: 3, client_ids: [client.id] });
    const byEvent = (await call(therapist.token, 'GET', `${url}?eventId=${event.id}`)).response.json() as ChainAnalysisPage;
    expect(byEvent.items.map((a) => a.id)).toEqual([old.id]);
    const byTarget = (await call(therapist.token, 'GET', `${url}?targetId=${target.targetId}`)).response.json() as ChainAnalysisPage;
    expect(byTarget.items.map((a) => a.id)).toEqual([recent.id, middle.id]);
    const first = (await call(therapist.token, 'GET', `${url}?limit=2`)).response.json() as ChainAnalysisPage;
    const second = (await call(therapist.token, 'GET', `${url}?limit=2&cursor=${first.nextCursor}`)).response.json() as ChainAnalysisPage;
    expect(second.items.map((a) => a.id)).toEqual([old.id]);
  });

  it('the agenda asks for an analysis of each life-threatening event of the client, not in error, that none names', async () => {
    const { clinic, client, therapist, url, newEvent, newSession } = await setting();
    const analysed = await newEvent({ occurredAt: ago(50) });
    const open = await newEvent({ kind: 'suicide_attempt', severity: 'high', occurredAt: ago(40) });
    const crisis = await newEvent({ kind: 'suicidal_crisis_behaviour', occurredAt: ago(10) });
    await newEvent({ kind: 'ed_visit', occurredAt: ago(5) });
    const erroneous = await newEvent({ occurredAt: ago(4) });
    await call(therapist.token, 'POST', `/v1/clients/${client.id}/events/${erroneous.id}/entered-in-error`, {
      reason: 'Recorded against the wrong client by mistake',
    });
    await record(therapist.token, url, analysisBody({ eventId: analysed.id }));
    const other = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
    await call(therapist.token, 'POST', `/v1/clients/${other.id}/events`, selfHarmEvent);

    const session = await newSession();
    const { response } = await call(therapist.token, 'GET', `/v1/sessions/${session.id}/agenda`);
    expect(response.statusCode).toBe(200);
    const due = (response.json() as { computed: Array<{ kind: string; eventId?: string }> }).computed
      .filter((item) => item.kind === 'chain-analysis-due')
      .map((item) => item.eventId);
    expect(due.sort()).toEqual([open.id, crisis.id].sort());
  });
});

describe('who may see chain analyses', () => {
  it('an unrelated therapist is refused (403 no-relationship), audited with the client and data category', async () => {
    const { client, colleague, therapist, url, newEvent } = await setting();
    const analysis = await record(therapist.token, url, analysisBody({ eventId: (await newEvent()).id }));
    for (const [method, path, body, headers] of [
      ['GET', url, undefined, {}],
      ['POST', url, analysisBody({ eventId: analysis.eventId }), {}],
      ['GET', `${url}/${analysis.id}`, undefined, {}],
      ['PATCH', `${url}/${analysis.id}`, { repair: 'Apologised' }, { 'if-match': '"1"' }],
    ] as const) {
      const { response, requestId } = await call(colleague.token, method, path, body, headers);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({
        outcome: 'denied',
        denial_reason: 'no-relationship',
        client_ids: [client.id],
        data_category: 'chain-analysis',
      });
    }
    expect(await analysisCount(client.id)).toBe(1);
  });

  it('a break-glass grant admits a colleague; the basis names the grant', async () => {
    const { clinic, client, colleague, url, newEvent } = await setting();
    const event = await newEvent();
    const grantId = uuidv7();
    await query(
      sql`insert into break_glass_grants (clinic_id, id, staff_id, client_id, reason, minutes, starts_at, expires_at)
          values (${clinic.id}, ${grantId}, ${colleague.id}, ${client.id}, 'Synthetic crisis, therapist unreachable', 30, now(), now() + interval '30 minutes')`,
    );
    const { response, requestId } = await call(colleague.token, 'POST', url, analysisBody({ eventId: event.id }));
    expect(response.statusCode).toBe(201);
    expect(await auditRecord(requestId)).toMatchObject({
      outcome: 'success',
      access_basis: { rule: 'clients.clinical', relationship: 'break-glass', grantId },
    });
  });

  it('administrators and compliance are refused by role; another clinic’s client or analysis is 404', async () => {
    const { admin, compliance, therapist, url, newEvent } = await setting();
    const analysis = await record(therapist.token, url, analysisBody({ eventId: (await newEvent()).id }));
    for (const member of [admin, compliance]) {
      const { response, requestId } = await call(member.token, 'GET', url);
      expectProblem(response, 403);
      expect(await auditRecord(requestId)).toMatchObject({ denial_reason: expect.stringMatching(/^role-not-permitted/) });
    }
    const other = await setting();
    expectProblem((await call(other.therapist.token, 'GET', url)).response, 404);
    const { response, requestId } = await call(other.therapist.token, 'GET', `${other.url}/${analysis.id}`);
    expectProblem(response, 404);
    expect(await auditRecord(requestId)).toMatchObject({ outcome: 'failure', http_status: 404, client_ids: [other.client.id] });
  });
});
