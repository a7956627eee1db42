import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { auditRecord, caller } from '../helpers/http.js';
import { clinicalRecord, meetingWithAgenda, secrets } from '../helpers/team-prep.js';

const app = await buildTestApp();
const call = caller(app);

const noPurposes = {
  suicide_self_harm_crisis: 0,
  skills_generalization: 0,
  relationship_repair: 0,
  share_progress: 0,
  scheduling: 0,
  outside_limits: 0,
};
const emptyWeek = (weekStart: string) => ({
  weekStart,
  daysFilled: 0,
  completion: 0,
  backFilledDays: 0,
  targets: [],
  emotions: {},
  skillsOverallMean: null,
  urgeToQuitMax: null,
});
const noCoaching = {
  contacts: 0,
  minutes: 0,
  afterHours: 0,
  afterHoursShare: null,
  purposes: noPurposes,
  relationshipRepair: 0,
  twentyFourHourBlocks: 0,
  overrides: 0,
  outsideLimits: 0,
};

type Packet = {
  meeting: Record<string, unknown>;
  generatedAt: string;
  period: { from: string; to: string };
  clients: Array<{ client: { id: string; name: string }; items: Array<{ id: string }> } & Record<string, unknown>>;
  otherItems: Array<{ id: string }>;
};

async function preparedPacket() {
  const setting = await meetingWithAgenda(app);
  const record = await clinicalRecord(setting);
  return { ...setting, record, url: `/v1/meetings/${setting.meeting.id}/prep` };
}

describe('the prep packet', () => {
  it('gives each agenda client their items and four weeks of figures, hand-computed; other items last', async () => {
    const s = await preparedPacket();
    const { therapist, colleague, lead, client, colleagueClient, sundayClient, items, record } = s;
    const { response, requestId } = await call(colleague.token, 'GET', s.url);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const packet = response.json() as Packet;
    expect(packet.meeting).toEqual({ id: s.meeting.id, teamId: s.team.id, teamName: s.team.name, date: '2025-06-04', durationMinutes: 90 });
    expect(Date.now() - Date.parse(packet.generatedAt)).toBeLessThan(60_000);
    expect(packet.period).toEqual({ from: '2025-05-08', to: '2025-06-04' });
    // Life-threatening first; the colleague's client by its consult; the celebration last.
    expect(packet.clients.map((c) => c.client.id)).toEqual([client.id, colleagueClient.id, sundayClient.id]);
    expect(packet.otherItems).toEqual([
      {
        id: items.admin.id,
        category: 'admin',
        question: 'Summer rota',
        minutesRequested: 5,
        requestedBy: { id: lead.id, displayName: lead.displayName },
      },
    ]);

    const [first, second, third] = packet.clients;
    const requestedBy = { id: therapist.id, displayName: therapist.displayName };
    const { cutting, lateness, overrun } = record.targets;
    expect(first).toEqual({
      client: { id: client.id, name: 'Sam Synthetic' },
      items: [
        {
          id: items.lifeThreatening.id,
          category: 'client_life_threatening',
          question: 'How do I respond to the cutting | and the shame?',
          minutesRequested: 15,
          requestedBy,
          clarity: 'I am unsure whether to validate first',
          motivation: 'Keen to try',
          obstacles: ['skills_deficit', 'conditioned_emotion'],
          obstaclesNote: 'Freeze when she cries',
          carriedOver: false,
        },
        {
          id: items.carried.id,
          category: 'client_therapy_interfering',
          question: 'Lateness keeps coming back',
          minutesRequested: 10,
          requestedBy,
          clarity: null,
          motivation: null,
          obstacles: [],
          obstaclesNote: null,
          carriedOver: true,
        },
      ],
      stage: { stage: 'stage_1', fromDate: '2025-04-07' },
      episode: { status: 'active', contractStart: '2025-04-07', contractEnd: '2025-10-06', fourMissMetOn: null },
      targets: [
        {
          targetId: cutting,
          category: 'life_threatening',
          label: 'Cutting | scratching',
          lifeThreateningSubtype: 'nssi',
          therapyInterferingActor: null,
          direction: 'decrease',
        },
        {
          targetId: lateness,
          category: 'therapy_interfering',
          label: 'Late to sessions',
          lifeThreateningSubtype: null,
          therapyInterferingActor: 'client',
          direction: 'decrease',
        },
        {
          targetId: overrun,
          category: 'therapy_interfering',
          label: 'Therapist runs over time',
          lifeThreateningSubtype: null,
          therapyInterferingActor: 'therapist',
          direction: 'decrease',
        },
      ],
      goals: [{ id: record.goalId, text: 'Finish the synthetic course', domain: 'education' }],
      diaryTrends: [
        emptyWeek('2025-05-12'),
        {
          weekStart: '2025-05-19',
          daysFilled: 3,
          completion: 0.43,
          backFilledDays: 1,
          targets: [
            // Urges 4, 2, 5; actions yes, no, 3.
            { targetId: cutting, label: 'Cutting | scratching', maxUrge: 5, meanUrge: 3.67, actionDays: 2, actionCount: 4 },
            // Urges 1 and none; actions 2 and 0.
            { targetId: lateness, label: 'Late to sessions', maxUrge: 1, meanUrge: 1, actionDays: 1, actionCount: 2 },
          ],
          emotions: { anger: { mean: 2, max: 3 }, shame: { mean: 2, max: 2 } },
          skillsOverallMean: 3.5,
          urgeToQuitMax: 3,
        },
        {
          weekStart: '2025-05-26',
          daysFilled: 7,
          completion: 1,
          backFilledDays: 0,
          targets: [{ targetId: cutting, label: 'Cutting | scratching', maxUrge: 0, meanUrge: 0, actionDays: 0, actionCount: 0 }],
          emotions: {},
          skillsOverallMean: 5,
          urgeToQuitMax: 0,
        },
        {
          // 5 June comes after the meeting and is left out.
          weekStart: '2025-06-02',
          daysFilled: 2,
          completion: 0.29,
          backFilledDays: 0,
          targets: [{ targetId: cutting, label: 'Cutting | scratching', maxUrge: 3, meanUrge: 2, actionDays: 0, actionCount: 0 }],
          emotions: {},
          skillsOverallMean: null,
          urgeToQuitMax: null,
        },
      ],
      events: [
        {
          id: record.events.lastMinute,
          kind: 'crisis_service_use',
          occurredAt: '2025-06-05T03:59:00.000Z',
          severity: 'low',
          source: 'client_report',
          daysInHospital: null,
        },
        {
          id: record.events.admission,
          kind: 'psychiatric_admission',
          occurredAt: '2025-05-22T10:00:00.000Z',
          severity: 'moderate',
          source: 'client_report',
          daysInHospital: 3,
        },
        {
          id: record.events.nssi,
          kind: 'nssi',
          occurredAt: '2025-05-20T21:00:00.000Z',
          severity: 'moderate',
          source: 'client_report',
          daysInHospital: null,
        },
        {
          id: record.events.firstInstant,
          kind: 'suicidal_crisis_behaviour',
          occurredAt: '2025-05-08T04:00:00.000Z',
          severity: 'high',
          source: 'client_report',
          daysInHospital: null,
        },
      ],
      attendance: [
        // Weeks: attended, miss, clinic-cancelled (neutral), miss, and a miss after the meeting.
        {
          modality: 'individual',
          streak: 3,
          status: 'warning',
          threshold: 4,
          metOn: null,
          inPeriod: { attended: 1, missed: 2, neutral: 1 },
        },
        { modality: 'skills_group', streak: 0, status: 'ok', threshold: 4, metOn: null, inPeriod: { attended: 0, missed: 0, neutral: 0 } },
      ],
      coaching: {
        contacts: 4,
        minutes: 45,
        afterHours: 2,
        afterHoursShare: 0.5,
        purposes: { ...noPurposes, skills_generalization: 1, suicide_self_harm_crisis: 1, relationship_repair: 1, scheduling: 1 },
        relationshipRepair: 1,
        twentyFourHourBlocks: 1,
        overrides: 1,
        outsideLimits: 1,
      },
      lastChainAnalysis: {
        id: record.chainId,
        behaviourAt: '2025-05-20T21:00:00.000Z',
        problemBehaviour: 'Cut forearm (synthetic)',
        promptingEvent: 'Argument with a synthetic roommate',
        vulnerabilities: ['Slept four hours'],
        links: [
          { type: 'thought', text: 'Nobody will notice (synthetic)' },
          { type: 'emotion', text: 'Shame (synthetic)' },
        ],
        solutions: ['TIPP', 'Call the coach'],
        completedIn: 'homework',
      },
    });

    // A referred client with no record yet: empty sections, four empty weeks.
    expect(second).toMatchObject({
      client: { id: colleagueClient.id, name: `${colleagueClient.givenName} Synthetic` },
      stage: null,
      episode: { status: 'referred', contractStart: null, contractEnd: null, fourMissMetOn: null },
      targets: [],
      goals: [],
      diaryTrends: ['2025-05-12', '2025-05-19', '2025-05-26', '2025-06-02'].map(emptyWeek),
      events: [],
      attendance: [],
      coaching: noCoaching,
      lastChainAnalysis: null,
    });
    expect(second?.items.map((i) => i.id)).toEqual([items.consult.id, items.groupIssue.id]);
    // Its program starts diary weeks on Sunday.
    expect(third?.diaryTrends).toEqual([
      emptyWeek('2025-05-11'),
      emptyWeek('2025-05-18'),
      emptyWeek('2025-05-25'),
      { ...emptyWeek('2025-06-01'), daysFilled: 1, completion: 0.14, skillsOverallMean: 2 },
    ]);

    const audit = await auditRecord(requestId);
    expect(audit).toMatchObject({ outcome: 'success', resource_type: 'team-prep-packet', resource_id: s.meeting.id, result_count: 3 });
    expect(audit.details).toEqual({ format: 'json', items: 6, clients: 3 });
  });

  it("takes clients in the team's category order when it has one; categories it leaves out follow in the default order", async () => {
    const s = await meetingWithAgenda(app, { categoryOrder: ['celebration', 'consult'] });
    const { response } = await call(s.therapist.token, 'GET', `/v1/meetings/${s.meeting.id}/prep`);
    expect(response.statusCode).toBe(200);
    const packet = response.json() as Packet;
    expect(packet.clients.map((c) => c.client.id)).toEqual([s.sundayClient.id, s.colleagueClient.id, s.client.id]);
    expect(packet.clients[2]?.items.map((i) => i.id)).toEqual([s.items.lifeThreatening.id, s.items.carried.id]);
  });

  it('shows the minimum necessary: no notes of any kind, no substances, no contact details, in JSON or Markdown', async () => {
    const s = await preparedPacket();
    const json = await call(s.therapist.token, 'GET', s.url);
    const markdown = await call(s.therapist.token, 'GET', `${s.url}?format=markdown`);
    const summary = await call(s.colleague.token, 'GET', `/v1/clients/${s.client.id}/team-summary`);
    for (const { response } of [json, markdown, summary]) {
      expect(response.statusCode).toBe(200);
      for (const secret of Object.values(secrets)) expect(response.body).not.toContain(secret);
      expect(response.body).not.toMatch(/SECRET/i);
    }
  });
});

describe('the packet in Markdown', () => {
  it('renders headings, lists and tables, escaping pipes; by format=markdown or by Accept', async () => {
    const s = await preparedPacket();
    const viaQuery = await call(s.colleague.token, 'GET', `${s.url}?format=markdown`);
    expect(viaQuery.response.statusCode).toBe(200);
    expect(viaQuery.response.headers['content-type']).toMatch(/^text\/markdown/);
    expect(viaQuery.response.headers.vary).toMatch(/accept/i);
    const body = viaQuery.response.body;
    expect(body.startsWith(`# Consultation team prep — ${s.team.name} — 2025-06-04\n`)).toBe(true);
    expect(body).toContain('\n## Sam Synthetic\n');
    expect(body).toContain(`\n## ${s.colleagueClient.givenName} Synthetic\n`);
    expect(body).toContain(
      `- **Client life-threatening behaviour**: How do I respond to the cutting \\| and the shame? (15 min, requested by ${s.therapist.displayName})`,
    );
    expect(body).toContain('- Stage: stage 1 since 2025-04-07');
    expect(body).toContain('- therapy interfering: Therapist runs over time, decrease — **therapist-side TIB**');
    expect(body).toContain(
      '| Week | Days | Completion | Cutting \\| scratching: max urge / action days | Late to sessions: max urge / action days | Therapist runs over time: max urge / action days | Skills mean | Urge to quit (max) |',
    );
    expect(body).toContain('| 2025-05-19 | 3/7 (1 back-filled) | 43% | 5 / 2 | 1 / 1 | – | 3.5 | 3 |');
    expect(body).toContain('| 2025-05-12 | 0/7 | 0% | – | – | – | – | – |');
    expect(body).toContain('| individual | 3 of 4 | warning | – | 1 | 2 | 1 |');
    expect(body).toContain('- 2025-05-22T10:00:00.000Z: psychiatric admission, moderate (client report), 3 days in hospital');
    expect(body).toContain('- Contacts: 4 (45 minutes); after hours: 2 (50%)');
    expect(body).toContain('- 2025-05-20T21:00:00.000Z: Cut forearm (synthetic) (completed in homework)');
    expect(body).toContain(
      `\n## Other items\n\n- **Admin**: Summer rota (5 min, requested by ${s.lead.displayName.replaceAll('_', '\\_')})`,
    );
    expect(body).not.toMatch(/<[a-z]/i);
    expect(await auditRecord(viaQuery.requestId)).toMatchObject({ details: { format: 'markdown', items: 6, clients: 3 } });

    const viaAccept = await call(s.colleague.token, 'GET', s.url, undefined, { accept: 'text/markdown' });
    expect(viaAccept.response.headers['content-type']).toMatch(/^text\/markdown/);
    expect(viaAccept.response.body).toContain('\n## Sam Synthetic\n');
    const preferred = await call(s.colleague.token, 'GET', s.url, undefined, { accept: 'application/json;q=0.5, text/markdown' });
    expect(preferred.response.headers['content-type']).toMatch(/^text\/markdown/);
  });

  it('answers JSON by default, for Accept */* and application/json, and when the query says json over Accept', async () => {
    const s = await meetingWithAgenda(app);
    const url = `/v1/meetings/${s.meeting.id}/prep`;
    for (const [path, accept] of [
      [url, '*/*'],
      [url, 'application/json'],
      [url, 'text/markdown;q=0.2, application/json'],
      [`${url}?format=json`, 'text/markdown'],
    ] as const) {
      const { response } = await call(s.therapist.token, 'GET', path, undefined, { accept });
      expect(response.statusCode, `${path} ${accept}`).toBe(200);
      expect(response.headers['content-type'], `${path} ${accept}`).toMatch(/^application\/json/);
      expect((response.json() as Packet).clients).toHaveLength(3);
    }
    const { response } = await call(s.therapist.token, 'GET', `${url}?format=pdf`);
    expect(response.statusCode).toBe(400);
  });
});
