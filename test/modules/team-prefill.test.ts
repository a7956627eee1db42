import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, query } from '../helpers/app.js';
import { monday, pastSession } from '../helpers/attendance.js';
import { createClientRecord } from '../helpers/factories.js';
import { activateClient } from '../helpers/groups.js';
import {
  type ContactFixture,
  diaryDay,
  insertChainAnalysis,
  insertContact,
  insertEvent,
  insertTarget,
  kindsOf,
  meetingSince,
  type Proposal,
  prefillCalls,
  prefillSetting,
  proposalOf,
} from '../helpers/team-prefill.js';

const app = await buildTestApp();
const { prefill } = prefillCalls(app);
const eventIds = (proposal: Proposal | undefined) => ((proposal?.evidence.events ?? []) as Array<{ id: string }>).map((e) => e.id);

/** The window of the default meeting: [2026-11-18T00:00Z, 2026-11-26T00:00Z), local dates 18–25 November. */
describe('life-threatening behaviour since the last meeting', () => {
  it('proposes events and diary actions inside the window only, with their evidence and a plain summary', async () => {
    const { clinic, lead, therapist, client, colleagueClient, meeting } = await prefillSetting(app);
    const [c, t] = [clinic.id, therapist.id];
    await insertEvent(c, client.id, '2026-11-17T23:59:59.999Z');
    const inside = await insertEvent(c, client.id, '2026-11-20T10:00:00.000Z', { kind: 'suicide_attempt', severity: 'high' });
    await insertEvent(c, client.id, '2026-11-26T00:00:00.000Z');
    await insertEvent(c, client.id, '2026-11-21T10:00:00.000Z', { kind: 'ed_visit' });
    await insertEvent(c, client.id, '2026-11-22T10:00:00.000Z', { enteredInError: true });
    const selfHarm = await insertTarget(c, client.id, t, { label: 'Synthetic self-harm target' });
    const lateness = await insertTarget(c, client.id, t, { category: 'therapy_interfering', label: 'Synthetic lateness' });
    await diaryDay(c, client.id, '2026-11-17', [{ targetId: selfHarm, action: 3 }]);
    await diaryDay(c, client.id, '2026-11-21', [{ targetId: selfHarm, action: true, urge: 3 }]);
    await diaryDay(c, client.id, '2026-11-22', [{ targetId: selfHarm, action: 0, urge: 5 }]);
    await diaryDay(c, client.id, '2026-11-23', [{ targetId: lateness, action: true }]);
    // A version the card does not know: the current version of the target judges it.
    await diaryDay(c, client.id, '2026-11-24', [{ targetId: selfHarm, action: 2, targetVersion: 0 }]);
    await diaryDay(c, client.id, '2026-11-26', [{ targetId: selfHarm, action: true }]);
    await insertEvent(c, colleagueClient.id, '2026-11-17T12:00:00.000Z');

    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'life_threatening_behaviour')).toMatchObject({
      meetingId: meeting.id,
      category: 'client_life_threatening',
      status: 'proposed',
      summary:
        '3 life-threatening behaviours since 2026-11-18 (suicide attempt on 2026-11-20; diary: NSSI action on 2026-11-21; diary: NSSI action on 2026-11-24)',
      evidence: {
        events: [{ id: inside, kind: 'suicide_attempt', occurredAt: '2026-11-20T10:00:00.000Z', severity: 'high' }],
        diaryActions: [
          { date: '2026-11-21', targetId: selfHarm, label: 'Synthetic self-harm target', action: true, urge: 3 },
          { date: '2026-11-24', targetId: selfHarm, label: 'Synthetic self-harm target', action: 2, urge: null },
        ],
      },
    });
    expect(proposalOf(items, colleagueClient.id, 'life_threatening_behaviour')).toBeUndefined();
  });

  it('ends the window at the start of the clinic-local day after the meeting (New York)', async () => {
    const { clinic, lead, client, meeting } = await prefillSetting(app);
    await query(sql`update clinics set time_zone = 'America/New_York' where id = ${clinic.id}`);
    // 23:30 on 25 November in New York is in; midnight of the 26th is not.
    const lateEvening = await insertEvent(clinic.id, client.id, '2026-11-26T04:30:00.000Z');
    await insertEvent(clinic.id, client.id, '2026-11-26T05:00:00.000Z');
    const { items } = await prefill(lead.token, meeting.id);
    const proposal = proposalOf(items, client.id, 'life_threatening_behaviour');
    // The window opened at 19:00 on 17 November, local time.
    expect(proposal?.summary).toBe('1 life-threatening behaviour since 2026-11-17 (NSSI on 2026-11-25)');
    expect(eventIds(proposal)).toEqual([lateEvening]);
  });
});

describe('life-threatening events without a chain analysis', () => {
  it('proposes open events of any time; analysed ones, ones entered in error and other kinds are not', async () => {
    const { clinic, lead, therapist, client, colleagueClient, meeting } = await prefillSetting(app);
    const open = await insertEvent(clinic.id, client.id, '2025-03-01T12:00:00.000Z');
    const analysed = await insertEvent(clinic.id, client.id, '2025-04-01T12:00:00.000Z');
    await insertChainAnalysis(clinic.id, client.id, analysed, therapist.id);
    await insertEvent(clinic.id, client.id, '2025-05-01T12:00:00.000Z', { enteredInError: true });
    await insertEvent(clinic.id, client.id, '2025-06-01T12:00:00.000Z', { kind: 'psychiatric_admission' });
    const colleagueEvent = await insertEvent(clinic.id, colleagueClient.id, '2025-03-01T12:00:00.000Z');
    await insertChainAnalysis(clinic.id, colleagueClient.id, colleagueEvent, therapist.id);

    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'event_without_chain')).toMatchObject({
      category: 'client_life_threatening',
      summary: '1 life-threatening event without a chain analysis (NSSI on 2025-03-01)',
      evidence: { events: [{ id: open, kind: 'nssi', occurredAt: '2025-03-01T12:00:00.000Z', severity: 'moderate' }] },
    });
    expect(kindsOf(items, colleagueClient.id)).toEqual([]);
  });
});

describe('coaching contacts in the window', () => {
  const contacts = async (clinicId: string, list: ContactFixture[]) => {
    const ids: string[] = [];
    for (const contact of list) ids.push(await insertContact(clinicId, contact));
    return ids;
  };

  it('24-hour rule: blocked and overridden requests in the window; one before it is not', async () => {
    const { clinic, lead, therapist, client, colleagueClient, meeting } = await prefillSetting(app);
    const trigger = await insertEvent(clinic.id, client.id, '2026-11-20T11:00:00.000Z');
    await insertChainAnalysis(clinic.id, client.id, trigger, therapist.id);
    const base = { clientId: client.id, staffId: therapist.id };
    const [blocked, overridden] = await contacts(clinic.id, [
      { ...base, at: '2026-11-20T12:00:00.000Z', rule: 'blocked_redirected', ruleEventId: trigger },
      { ...base, at: '2026-11-20T18:00:00.000Z', rule: 'overridden', ruleEventId: trigger },
      { ...base, at: '2026-11-22T12:00:00.000Z' },
      { clientId: colleagueClient.id, staffId: therapist.id, at: '2026-11-17T12:00:00.000Z', rule: 'blocked_redirected' },
    ]);
    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'twenty_four_hour_rule')).toMatchObject({
      category: 'client_life_threatening',
      summary: '2 coaching requests under the 24-hour rule since 2026-11-18 (1 blocked and redirected, 1 overridden)',
      evidence: {
        contacts: [
          {
            id: blocked,
            requestedAt: '2026-11-20T12:00:00.000Z',
            ruleStatus: 'blocked_redirected',
            ruleEventId: trigger,
            staffId: therapist.id,
          },
          {
            id: overridden,
            requestedAt: '2026-11-20T18:00:00.000Z',
            ruleStatus: 'overridden',
            ruleEventId: trigger,
            staffId: therapist.id,
          },
        ],
      },
    });
    expect(kindsOf(items, client.id)).toEqual(['life_threatening_behaviour', 'twenty_four_hour_rule']);
    expect(kindsOf(items, colleagueClient.id)).toEqual([]);
  });

  it('over-use: a count at the threshold is not flagged, one above it is; contacts before the window do not count', async () => {
    const { clinic, lead, therapist, client, colleagueClient, meeting } = await prefillSetting(app);
    const at = (day: number) => `2026-11-${day}T15:00:00.000Z`;
    const five = [18, 19, 20, 21, 22].map((day) => ({ clientId: client.id, staffId: therapist.id, at: at(day) }));
    const before = [15, 16, 17].map((day) => ({ clientId: client.id, staffId: therapist.id, at: at(day) }));
    const six = [18, 19, 20, 21, 22, 25].map((day) => ({ clientId: colleagueClient.id, staffId: therapist.id, at: at(day) }));
    await contacts(clinic.id, [...five, ...before]);
    const sixIds = await contacts(clinic.id, six);
    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'coaching_use')).toBeUndefined();
    expect(proposalOf(items, colleagueClient.id, 'coaching_use')).toMatchObject({
      category: 'client_therapy_interfering',
      summary: "6 coaching contacts since 2026-11-18 (above the team's threshold of 5); 0 after hours (0%; threshold 50%)",
      evidence: {
        contacts: 6,
        afterHours: 0,
        afterHoursShare: 0,
        threshold: { contacts: 5, afterHoursShare: 0.5 },
        records: sixIds.map((id, i) => ({ id, requestedAt: six[i]?.at, afterHours: false, staffId: therapist.id })),
      },
    });
  });

  it('after-hours share: above the threshold with at least two contacts; at the threshold or with one contact not', async () => {
    const { clinic, team, lead, therapist, program, meeting } = await prefillSetting(app);
    const newClient = () => createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: program.id });
    const [both, single, half] = [await newClient(), await newClient(), await newClient()];
    const contact = (clientId: string, afterHours: boolean, day = 20) => ({
      clientId,
      staffId: therapist.id,
      at: `2026-11-${day}T23:00:00.000Z`,
      afterHours,
    });
    await contacts(clinic.id, [
      contact(both.id, true, 19),
      contact(both.id, true),
      contact(single.id, true),
      contact(half.id, true, 19),
      contact(half.id, false),
    ]);
    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, both.id, 'coaching_use')).toMatchObject({
      summary: '2 coaching contacts since 2026-11-18; 2 after hours (100%; threshold 50%)',
      evidence: { contacts: 2, afterHours: 2, afterHoursShare: 1 },
    });
    expect(proposalOf(items, single.id, 'coaching_use')).toBeUndefined();
    expect(proposalOf(items, half.id, 'coaching_use')).toBeUndefined();

    // The team's own threshold applies.
    await query(sql`update teams set after_hours_share_threshold = 0.4 where clinic_id = ${clinic.id} and id = ${team.id}`);
    const again = await prefill(lead.token, meeting.id);
    expect(proposalOf(again.items, half.id, 'coaching_use')?.evidence).toMatchObject({
      afterHoursShare: 0.5,
      threshold: { contacts: 5, afterHoursShare: 0.4 },
    });
  });

  it('relationship repair: contacts with that purpose in the window', async () => {
    const { clinic, lead, therapist, colleague, client, colleagueClient, meeting } = await prefillSetting(app);
    const [repair] = await contacts(clinic.id, [
      { clientId: client.id, staffId: colleague.id, at: '2026-11-19T09:00:00.000Z', purpose: 'relationship_repair' },
      { clientId: client.id, staffId: therapist.id, at: '2026-11-20T09:00:00.000Z', purpose: 'scheduling' },
      { clientId: colleagueClient.id, staffId: therapist.id, at: '2026-11-17T09:00:00.000Z', purpose: 'relationship_repair' },
    ]);
    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'relationship_repair')).toMatchObject({
      category: 'client_therapy_interfering',
      summary: '1 relationship-repair coaching contact since 2026-11-18 (on 2026-11-19)',
      evidence: { contacts: [{ id: repair, requestedAt: '2026-11-19T09:00:00.000Z', staffId: colleague.id }] },
    });
    expect(kindsOf(items, colleagueClient.id)).toEqual([]);
  });
});

describe('treatment contracts and attendance', () => {
  it('contract ending: within 28 days of the meeting (inclusive), not 29 days, not already past', async () => {
    const { clinic, lead, therapist, program, client, colleagueClient, meeting } = await prefillSetting(app);
    const third = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: program.id });
    await activateClient(clinic.id, client.id, '2026-01-05', '2026-12-23');
    await activateClient(clinic.id, colleagueClient.id, '2026-01-05', '2026-12-24');
    await activateClient(clinic.id, third.id, '2026-01-05', '2026-11-24');
    const [episode] = await query<{ id: string }>(
      sql`select id from treatment_episodes where client_id = ${client.id} and status = 'active'`,
    );
    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'contract_ending')).toMatchObject({
      category: 'consult',
      summary: 'Treatment contract ends on 2026-12-23, 28 days after the meeting (started 2026-01-05)',
      evidence: { episodeId: episode?.id, contractStart: '2026-01-05', contractEnd: '2026-12-23', daysLeft: 28 },
    });
    expect(kindsOf(items, colleagueClient.id)).toEqual([]);
    expect(kindsOf(items, third.id)).toEqual([]);
  });

  it('four-miss: a warning at 3 misses of 4 and a met streak are proposed; 2 misses are not', async () => {
    const { clinic, lead, therapist, program, client, colleagueClient, meeting } = await prefillSetting(app);
    const met = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id, programId: program.id });
    for (const c of [client, colleagueClient, met]) await activateClient(clinic.id, c.id, monday(12));
    const session = (clientId: string, weeksAgo: number, attendance: string) =>
      pastSession({ clinic, client: { id: clientId }, therapist }, monday(weeksAgo), attendance);
    for (const weeksAgo of [3, 2, 1]) await session(client.id, weeksAgo, 'no_show');
    await session(colleagueClient.id, 3, 'attended');
    for (const weeksAgo of [2, 1]) await session(colleagueClient.id, weeksAgo, 'no_show');
    for (const weeksAgo of [4, 3, 2, 1]) await session(met.id, weeksAgo, 'no_show');

    const { items } = await prefill(lead.token, meeting.id);
    expect(proposalOf(items, client.id, 'four_miss')).toMatchObject({
      category: 'client_therapy_interfering',
      summary: 'Four-miss rule: individual therapy 3 of 4 consecutive weeks missed (warning)',
      evidence: {
        episodeId: expect.any(String),
        modalities: [
          { modality: 'individual', unit: 'consecutive_scheduled_weeks', streak: 3, threshold: 4, status: 'warning', metOn: null },
        ],
      },
    });
    expect(proposalOf(items, met.id, 'four_miss')).toMatchObject({
      summary: `Four-miss rule: individual therapy 4 of 4 consecutive weeks missed (met on ${monday(1)})`,
      evidence: { modalities: [{ modality: 'individual', streak: 4, status: 'met', metOn: monday(1) }] },
    });
    expect(kindsOf(items, colleagueClient.id)).toEqual([]);
  });
});

describe('whose data the pre-fill reads', () => {
  it('never proposes a client the team does not hold; a client assigned to the team is held whoever the therapist', async () => {
    const { clinic, team, lead, outsider, program, meeting } = await prefillSetting(app);
    const notHeld = await createClientRecord(clinic.id, { primaryTherapistId: outsider.id, programId: program.id });
    const assigned = await createClientRecord(clinic.id, { primaryTherapistId: outsider.id, programId: program.id });
    await query(sql`update clients set team_id = ${team.id} where clinic_id = ${clinic.id} and id = ${assigned.id}`);
    for (const c of [notHeld, assigned]) {
      await insertEvent(clinic.id, c.id, '2026-11-20T10:00:00.000Z');
      await insertContact(clinic.id, {
        clientId: c.id,
        staffId: outsider.id,
        at: '2026-11-20T12:00:00.000Z',
        purpose: 'relationship_repair',
      });
      await activateClient(clinic.id, c.id, '2026-01-05', '2026-12-01');
    }
    const { items } = await prefill(lead.token, meeting.id);
    expect(items.filter((item) => item.clientId === notHeld.id)).toEqual([]);
    expect(kindsOf(items, assigned.id)).toEqual([
      'contract_ending',
      'event_without_chain',
      'life_threatening_behaviour',
      'relationship_repair',
    ]);
  });

  it('a meeting with no data for its window proposes nothing; a window reaching past now stops at now', async () => {
    const { clinic, team, lead, client } = await prefillSetting(app);
    const quiet = await meetingSince(team, '2026-10-07', '2026-09-30T00:00:00.000Z');
    await insertEvent(clinic.id, client.id, '2026-11-20T10:00:00.000Z');
    const analysedLater = (await query<{ id: string }>(sql`select id from clinical_events where client_id = ${client.id}`))[0]?.id;
    await insertChainAnalysis(clinic.id, client.id, analysedLater as string, lead.id);
    expect((await prefill(lead.token, quiet.id)).items).toEqual([]);

    const ahead = await meetingSince(team, '2099-01-07', new Date(Date.now() - 3_600_000).toISOString());
    const justNow = await insertEvent(clinic.id, client.id, new Date(Date.now() - 60_000).toISOString());
    await insertEvent(clinic.id, client.id, new Date(Date.now() + 3_600_000).toISOString());
    const proposal = proposalOf((await prefill(lead.token, ahead.id)).items, client.id, 'life_threatening_behaviour');
    expect(eventIds(proposal)).toEqual([justNow]);
  });
});
