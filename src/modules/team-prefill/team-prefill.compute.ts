import type { AgendaCategory, ProposalEvidence, ProposalKind } from '../../db/schema/index.js';
import type { MeetingRow, TeamRow } from '../../policy/team-access.js';
import type { EpisodeStanding } from '../attendance/attendance.queries.js';
import type { ContactRow, DiaryAction, TeamWindow } from './team-prefill.queries.js';

/**
 * What the pre-fill proposes from one client's data: each kind's condition, its one-sentence
 * summary (controlled words only) and its evidence. Pure: the queries load, this decides.
 */
const DAY = 86_400_000;

export const categoryOf: Record<ProposalKind, AgendaCategory> = {
  life_threatening_behaviour: 'client_life_threatening',
  twenty_four_hour_rule: 'client_life_threatening',
  event_without_chain: 'client_life_threatening',
  four_miss: 'client_therapy_interfering',
  coaching_use: 'client_therapy_interfering',
  relationship_repair: 'client_therapy_interfering',
  contract_ending: 'consult',
};

/** Controlled words only: summaries never quote what a clinician or client wrote. */
const behaviourWords: Record<string, string> = {
  nssi: 'NSSI',
  suicide_attempt: 'suicide attempt',
  suicidal_crisis_behaviour: 'suicidal crisis behaviour',
  suicidal_ideation_communication: 'suicidal ideation or communication',
  homicidal: 'homicidal behaviour',
  other_imminent: 'other imminent risk',
};
const modalityWords: Record<string, string> = { individual: 'individual therapy', skills_group: 'skills group' };

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;
/** The first few parts of a list, so a summary stays one sentence however much happened. */
const listed = (parts: string[], max = 5) =>
  parts.length <= max ? parts.join('; ') : `${parts.slice(0, max).join('; ')}; and ${parts.length - max} more`;

/** A life-threatening event as evidence shows it, with its clinic-local date for the summary. */
export interface EventItem {
  id: string;
  kind: string;
  occurredAt: string;
  severity: string;
  date: string;
}

/** What the pre-fill knows of one client. */
export interface ClientData {
  team: TeamRow;
  meeting: MeetingRow;
  since: string;
  events: { inWindow: EventItem[]; open: EventItem[] };
  diary: DiaryAction[];
  contacts: ContactRow[];
  standing: EpisodeStanding | undefined;
  contract: TeamWindow['held'][number];
}
export type Proposal = { clientId: string; kind: ProposalKind; summary: string; evidence: ProposalEvidence };
type Drafted = Pick<Proposal, 'summary' | 'evidence'> | null;

const eventEvidence = ({ date: _, ...evidence }: EventItem) => evidence;
const eventPart = (e: EventItem) => `${behaviourWords[e.kind]} on ${e.date}`;
const percent = (value: number) => `${Math.round(value * 100)}%`;

/** Each kind's condition, summary and evidence, from one client's data; null when the condition does not hold. */
export const drafters: Record<ProposalKind, (d: ClientData) => Drafted> = {
  life_threatening_behaviour: ({ events: { inWindow }, diary, since }) => {
    const parts = [
      ...inWindow.map(eventPart),
      ...diary.map((a) => `diary: ${behaviourWords[a.subtype ?? ''] ?? 'life-threatening target'} action on ${a.date}`),
    ];
    if (parts.length === 0) return null;
    return {
      summary: `${plural(parts.length, 'life-threatening behaviour')} since ${since} (${listed(parts)})`,
      evidence: {
        events: inWindow.map(eventEvidence),
        diaryActions: diary.map((a) => ({ date: a.date, targetId: a.targetId, label: a.label, action: a.action, urge: a.urge })),
      },
    };
  },

  twenty_four_hour_rule: ({ contacts, since }) => {
    const ruled = contacts.filter((c) => c.ruleStatus === 'blocked_redirected' || c.ruleStatus === 'overridden');
    if (ruled.length === 0) return null;
    const blocked = ruled.filter((c) => c.ruleStatus === 'blocked_redirected').length;
    const overridden = ruled.length - blocked;
    const counts = [blocked ? `${blocked} blocked and redirected` : '', overridden ? `${overridden} overridden` : ''];
    return {
      summary: `${plural(ruled.length, 'coaching request')} under the 24-hour rule since ${since} (${counts.filter(Boolean).join(', ')})`,
      evidence: {
        contacts: ruled.map((c) => ({
          id: c.id,
          requestedAt: c.requestedAt,
          ruleStatus: c.ruleStatus,
          ruleEventId: c.ruleEventId,
          staffId: c.staffId,
        })),
      },
    };
  },

  event_without_chain: ({ events: { open } }) => {
    if (open.length === 0) return null;
    return {
      summary: `${plural(open.length, 'life-threatening event')} without a chain analysis (${listed(open.map(eventPart))})`,
      evidence: { events: open.map(eventEvidence) },
    };
  },

  four_miss: ({ standing }) => {
    const flagged = (standing?.modalities ?? []).filter((m) => m.streak.status === 'warning' || (m.streak.status === 'met' && !m.override));
    if (!standing || flagged.length === 0) return null;
    const parts = flagged.map((m) => {
      const unit = m.unit === 'consecutive_sessions' ? 'sessions' : 'weeks';
      const state = m.streak.status === 'met' ? `met on ${m.streak.metOn}` : 'warning';
      return `${modalityWords[m.modality]} ${m.streak.length} of ${m.threshold} consecutive ${unit} missed (${state})`;
    });
    return {
      summary: `Four-miss rule: ${parts.join('; ')}`,
      evidence: {
        episodeId: standing.episodeId,
        modalities: flagged.map((m) => ({
          modality: m.modality,
          unit: m.unit,
          streak: m.streak.length,
          threshold: m.threshold,
          status: m.streak.status,
          metOn: m.streak.metOn,
        })),
      },
    };
  },

  coaching_use: ({ contacts, since, team }) => {
    const afterHours = contacts.filter((c) => c.afterHours).length;
    const share = contacts.length === 0 ? 0 : afterHours / contacts.length;
    const overUse = contacts.length > team.coachingContactsThreshold;
    if (!overUse && !(contacts.length >= 2 && share > team.afterHoursShareThreshold)) return null;
    const volume = overUse ? ` (above the team's threshold of ${team.coachingContactsThreshold})` : '';
    return {
      summary: `${plural(contacts.length, 'coaching contact')} since ${since}${volume}; ${afterHours} after hours (${percent(share)}; threshold ${percent(team.afterHoursShareThreshold)})`,
      evidence: {
        contacts: contacts.length,
        afterHours,
        afterHoursShare: share,
        threshold: { contacts: team.coachingContactsThreshold, afterHoursShare: team.afterHoursShareThreshold },
        records: contacts.map((c) => ({
          id: c.id,
          requestedAt: c.requestedAt,
          afterHours: c.afterHours,
          staffId: c.staffId,
        })),
      },
    };
  },

  relationship_repair: ({ contacts, since }) => {
    const repairs = contacts.filter((c) => c.purpose === 'relationship_repair');
    if (repairs.length === 0) return null;
    return {
      summary: `${plural(repairs.length, 'relationship-repair coaching contact')} since ${since} (on ${repairs.map((c) => c.date).join(', ')})`,
      evidence: { contacts: repairs.map((c) => ({ id: c.id, requestedAt: c.requestedAt, staffId: c.staffId })) },
    };
  },

  contract_ending: ({ contract, meeting }) => {
    const { episodeId, contractStart, contractEnd } = contract;
    if (!episodeId || !contractEnd) return null;
    const daysLeft = Math.round((Date.parse(contractEnd) - Date.parse(meeting.date)) / DAY);
    const when = daysLeft === 0 ? 'on the day of the meeting' : `${plural(daysLeft, 'day')} after the meeting`;
    return {
      summary: `Treatment contract ends on ${contractEnd}, ${when} (started ${contractStart})`,
      evidence: { episodeId, contractStart, contractEnd, daysLeft },
    };
  },
};
