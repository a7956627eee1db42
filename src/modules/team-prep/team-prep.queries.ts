import { and, asc, desc, eq, gte, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { clinicTimeZone } from '../../db/clinic-date.js';
import {
  chainAnalyses,
  clinicalEvents,
  coachingContacts,
  coachingPurposes,
  type DiaryDayEntry,
  goals,
  stageAssignments,
  targetCategories,
  targets,
  treatmentEpisodes,
} from '../../db/schema/index.js';
import { inUuids, uuidArray } from '../../db/uuid-array.js';
import { type EpisodeStanding, evaluateEpisodes } from '../attendance/attendance.queries.js';
import { actionTaken, addDays } from '../diary-cards/diary-cards.merge.js';
import { daysInHospital } from '../events/events.service.js';
import { policyInForceQuery } from '../programs/programs.queries.js';
import type { ClientSummary, DiaryWeek, PrepPeriod } from './team-prep.schema.js';

/** The weeks of diary trends a summary shows. */
const WEEKS = 4;

/** The four weeks (28 days) ending on a clinic-local date, both ends included. */
export const prepPeriod = (endsOn: string): PrepPeriod => ({ from: addDays(endsOn, -(WEEKS * 7 - 1)), to: endsOn });

/** The period's local bounds as instants: from the start of its first day to the end of its last, in the clinic's zone. */
const periodBounds = (clinicId: string, period: PrepPeriod) => ({
  start: sql`(${period.from}::date)::timestamp at time zone ${clinicTimeZone(clinicId)}`,
  end: sql`(${period.to}::date + 1)::timestamp at time zone ${clinicTimeZone(clinicId)}`,
});

const round2 = (value: number) => Math.round(value * 100) / 100;
const mean = (values: number[]) => (values.length === 0 ? null : round2(values.reduce((a, b) => a + b, 0) / values.length));
const max = (values: number[]) => (values.length === 0 ? null : Math.max(...values));
const group = <T>(rows: T[], key: (row: T) => string) => {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(key(row));
    if (list) list.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
};

type DiaryDayRow = {
  client_id: string;
  week_start: string;
  day: string | null;
  back_filled: boolean | null;
  targets: DiaryDayEntry['targets'] | null;
  emotions: Record<string, number> | null;
  skills_overall: number | null;
  urge_to_quit: number | null;
};

/**
 * The diary days of the four weeks ending with the week that holds the period's last day, weeks
 * starting as each client's program policy in force then says; days after the period are left
 * out. Only the ratings leave the database: never the notes or the substances. Every week gives
 * a row, with a null day when it has no days.
 */
async function loadDiaryDays(db: DbOrTx, clinicId: string, ids: string[], period: PrepPeriod) {
  const to = sql`${period.to}::date`;
  const result = await db.execute(sql`
    with weeks as (
      select c.id as client_id,
        (${to} - ((extract(isodow from ${to})::int - coalesce(p.week_starts_on, 1) + 7) % 7) - 7 * g)::date as week_start
      from clients c
      left join lateral ${policyInForceQuery(db, clinicId, sql`c.program_id`, to)} p on true
      cross join generate_series(0, ${WEEKS - 1}) g
      where c.clinic_id = ${clinicId} and c.id = any(${uuidArray(ids)})
    )
    select w.client_id, w.week_start::text as week_start, d.day::text as day, d.back_filled,
      d.entry -> 'targets' as targets, d.entry -> 'emotions' as emotions,
      d.entry -> 'skillsOverall' as skills_overall, d.entry -> 'urgeToQuit' as urge_to_quit
    from weeks w
    left join diary_cards dc on dc.clinic_id = ${clinicId} and dc.client_id = w.client_id and dc.week_start = w.week_start
    left join diary_days d on d.clinic_id = dc.clinic_id and d.card_id = dc.id and d.day <= ${to}
    order by w.client_id, w.week_start, d.day`);
  return result.rows as DiaryDayRow[];
}

/** One week's figures from its days; targets in the order of `targetOrder`, labelled as it names them. */
function diaryWeek(weekStart: string, days: DiaryDayRow[], targetOrder: Map<string, { label: string; rank: number }>): DiaryWeek {
  const byTarget = new Map<string, { urges: number[]; actionDays: number; actionCount: number }>();
  const emotions = new Map<string, number[]>();
  for (const day of days) {
    for (const rated of day.targets ?? []) {
      const figures = byTarget.get(rated.targetId) ?? { urges: [], actionDays: 0, actionCount: 0 };
      if (rated.urge !== null) figures.urges.push(rated.urge);
      if (actionTaken(rated.action)) figures.actionDays += 1;
      figures.actionCount += typeof rated.action === 'number' ? rated.action : rated.action === true ? 1 : 0;
      byTarget.set(rated.targetId, figures);
    }
    for (const [name, value] of Object.entries(day.emotions ?? {})) {
      const values = emotions.get(name);
      if (values) values.push(value);
      else emotions.set(name, [value]);
    }
  }
  const numbers = (pick: (day: DiaryDayRow) => number | null) => days.map(pick).filter((value): value is number => value !== null);
  return {
    weekStart,
    daysFilled: days.length,
    completion: round2(days.length / 7),
    backFilledDays: days.filter((day) => day.back_filled).length,
    targets: [...byTarget.entries()]
      .flatMap(([targetId, figures]) => {
        const target = targetOrder.get(targetId);
        if (!target) return [];
        const { urges, actionDays, actionCount } = figures;
        return [{ rank: target.rank, targetId, label: target.label, maxUrge: max(urges), meanUrge: mean(urges), actionDays, actionCount }];
      })
      .sort((a, b) => a.rank - b.rank)
      .map(({ rank: _, ...figures }) => figures),
    emotions: Object.fromEntries(
      [...emotions.entries()].map(([name, values]) => [name, { mean: mean(values) ?? 0, max: max(values) ?? 0 }]),
    ),
    skillsOverallMean: mean(numbers((day) => day.skills_overall)),
    urgeToQuitMax: max(numbers((day) => day.urge_to_quit)),
  };
}

const countWhere = (condition: SQL | undefined) => sql<number>`(count(*) filter (where ${condition}))::int`;
const c = coachingContacts;
const coachingFigures = {
  contacts: sql<number>`count(*)::int`,
  minutes: sql<number>`coalesce(sum(${c.durationMinutes}), 0)::int`,
  afterHours: countWhere(eq(c.afterHours, true)),
  purposes: Object.fromEntries(coachingPurposes.map((purpose) => [purpose, countWhere(eq(c.purpose, purpose))])) as Record<
    (typeof coachingPurposes)[number],
    SQL<number>
  >,
  twentyFourHourBlocks: countWhere(eq(c.ruleStatus, 'blocked_redirected')),
  overrides: countWhere(eq(c.ruleStatus, 'overridden')),
  outsideLimits: countWhere(eq(c.outsideLimits, true)),
};
const noCoaching = {
  contacts: 0,
  minutes: 0,
  afterHours: 0,
  purposes: Object.fromEntries(coachingPurposes.map((purpose) => [purpose, 0])) as Record<(typeof coachingPurposes)[number], number>,
  twentyFourHourBlocks: 0,
  overrides: 0,
  outsideLimits: 0,
};

function attendanceOf(standing: EpisodeStanding | undefined, period: PrepPeriod): ClientSummary['attendance'] {
  return (standing?.modalities ?? []).map((m) => {
    const inPeriod = m.occurrences.filter((o) => o.date >= period.from && o.date <= period.to);
    const counted = (outcome: string) => inPeriod.filter((o) => o.outcome === outcome).length;
    return {
      modality: m.modality,
      streak: m.streak.length,
      status: m.streak.status,
      threshold: m.threshold,
      metOn: m.streak.metOn,
      inPeriod: { attended: counted('attended'), missed: counted('miss'), neutral: counted('neutral') },
    };
  });
}

/**
 * What a consultation team sees of each client over a period (see clientSummaryFields), for many
 * clients at once: one query per section over the whole id list, run side by side, never one
 * per client. Every client asked for gets an entry, empty when the clinic holds nothing on it.
 */
export async function loadClientSummaries(
  db: DbOrTx,
  clinicId: string,
  clientIds: string[],
  period: PrepPeriod,
): Promise<Map<string, ClientSummary>> {
  const ids = [...new Set(clientIds)];
  if (ids.length === 0) return new Map();
  const { start, end } = periodBounds(clinicId, period);
  const sa = stageAssignments;
  const te = treatmentEpisodes;
  const ev = clinicalEvents;
  const ca = chainAnalyses;
  const [stageRows, episodeRows, targetRows, goalRows, dayRows, eventRows, standings, coachingRows, chainRows] = await Promise.all([
    db
      .selectDistinctOn([sa.clientId], { clientId: sa.clientId, stage: sa.stage, fromDate: sa.fromDate })
      .from(sa)
      .where(and(eq(sa.clinicId, clinicId), inUuids(sa.clientId, ids)))
      .orderBy(sa.clientId, sql`${sa.toDate} is null desc`, desc(sa.fromDate), desc(sa.createdAt)),
    db
      .select({
        clientId: te.clientId,
        status: te.status,
        contractStart: te.contractStart,
        contractEnd: te.contractEnd,
        fourMissMetOn: te.fourMissMetOn,
      })
      .from(te)
      .where(and(eq(te.clinicId, clinicId), inUuids(te.clientId, ids), ne(te.status, 'discharged'))),
    // The latest version of every target: the current ones are listed, and all of them label diary ratings.
    db
      .selectDistinctOn([targets.targetId], {
        targetId: targets.targetId,
        clientId: targets.clientId,
        category: targets.category,
        label: targets.label,
        lifeThreateningSubtype: targets.lifeThreateningSubtype,
        therapyInterferingActor: targets.therapyInterferingActor,
        direction: targets.direction,
        effectiveTo: targets.effectiveTo,
      })
      .from(targets)
      .where(and(eq(targets.clinicId, clinicId), inUuids(targets.clientId, ids)))
      .orderBy(targets.targetId, desc(targets.version)),
    db
      .select({ clientId: goals.clientId, id: goals.id, text: goals.text, domain: goals.domain })
      .from(goals)
      .where(and(eq(goals.clinicId, clinicId), inUuids(goals.clientId, ids), eq(goals.status, 'active')))
      .orderBy(asc(goals.createdAt), asc(goals.id)),
    loadDiaryDays(db, clinicId, ids, period),
    db
      .select({
        clientId: ev.clientId,
        id: ev.id,
        kind: ev.kind,
        occurredAt: ev.occurredAt,
        dischargedAt: ev.dischargedAt,
        severity: ev.severity,
        source: ev.source,
      })
      .from(ev)
      .where(
        and(
          eq(ev.clinicId, clinicId),
          inUuids(ev.clientId, ids),
          isNull(ev.enteredInErrorAt),
          gte(ev.occurredAt, start),
          lt(ev.occurredAt, end),
        ),
      )
      .orderBy(desc(ev.occurredAt), desc(ev.id)),
    evaluateEpisodes(db, clinicId, ids, { trailingOnly: true, since: period.from }),
    db
      .select({ clientId: c.clientId, ...coachingFigures })
      .from(c)
      .where(and(eq(c.clinicId, clinicId), inUuids(c.clientId, ids), gte(c.requestedAt, start), lt(c.requestedAt, end)))
      .groupBy(c.clientId),
    db
      .selectDistinctOn([ca.clientId], {
        clientId: ca.clientId,
        id: ca.id,
        behaviourAt: ca.behaviourAt,
        problemBehaviour: ca.problemBehaviour,
        promptingEvent: ca.promptingEvent,
        vulnerabilities: ca.vulnerabilities,
        links: ca.links,
        solutions: ca.solutions,
        completedIn: ca.completedIn,
      })
      .from(ca)
      .where(and(eq(ca.clinicId, clinicId), inUuids(ca.clientId, ids), lt(ca.behaviourAt, end)))
      .orderBy(ca.clientId, desc(ca.behaviourAt), desc(ca.id)),
  ]);

  const categoryRank = (category: string) => targetCategories.indexOf(category as (typeof targetCategories)[number]);
  const orderedTargets = [...targetRows].sort(
    (a, b) => categoryRank(a.category) - categoryRank(b.category) || a.label.localeCompare(b.label) || a.targetId.localeCompare(b.targetId),
  );
  const targetsOf = group(orderedTargets, (t) => t.clientId);
  const daysOf = group(dayRows, (row) => row.client_id);
  const goalsOf = group(goalRows, (row) => row.clientId);
  const eventsOf = group(eventRows, (row) => row.clientId);
  const byClient = <T extends { clientId: string }>(rows: T[]) => new Map(rows.map((row) => [row.clientId, row]));
  const [stageOf, episodeOf, coachingOf, chainOf] = [
    byClient(stageRows),
    byClient(episodeRows),
    byClient(coachingRows),
    byClient(chainRows),
  ];
  const standingOf = new Map(standings.map((s) => [s.clientId, s]));

  const summaries = new Map<string, ClientSummary>();
  for (const id of ids) {
    const own = targetsOf.get(id) ?? [];
    const targetOrder = new Map(own.map((t, rank) => [t.targetId, { label: t.label, rank }]));
    const weeks = group(daysOf.get(id) ?? [], (row) => row.week_start);
    const stage = stageOf.get(id);
    const episode = episodeOf.get(id);
    const { clientId: _, ...coaching } = coachingOf.get(id) ?? { clientId: id, ...noCoaching };
    const chain = chainOf.get(id);
    summaries.set(id, {
      stage: stage ? { stage: stage.stage, fromDate: stage.fromDate } : null,
      episode: episode
        ? {
            status: episode.status,
            contractStart: episode.contractStart,
            contractEnd: episode.contractEnd,
            fourMissMetOn: episode.fourMissMetOn,
          }
        : null,
      targets: own
        .filter((t) => t.effectiveTo === null)
        .map((t) => ({
          targetId: t.targetId,
          category: t.category,
          label: t.label,
          lifeThreateningSubtype: t.lifeThreateningSubtype,
          therapyInterferingActor: t.therapyInterferingActor,
          direction: t.direction,
        })),
      goals: (goalsOf.get(id) ?? []).map((g) => ({ id: g.id, text: g.text, domain: g.domain })),
      diaryTrends: [...weeks.entries()].map(([weekStart, rows]) =>
        diaryWeek(
          weekStart,
          rows.filter((row) => row.day !== null),
          targetOrder,
        ),
      ),
      events: (eventsOf.get(id) ?? []).map((e) => ({
        id: e.id,
        kind: e.kind,
        occurredAt: e.occurredAt,
        severity: e.severity,
        source: e.source,
        daysInHospital: daysInHospital(e),
      })),
      attendance: attendanceOf(standingOf.get(id), period),
      coaching: {
        ...coaching,
        afterHoursShare: coaching.contacts === 0 ? null : coaching.afterHours / coaching.contacts,
        relationshipRepair: coaching.purposes.relationship_repair,
      },
      lastChainAnalysis: chain
        ? {
            id: chain.id,
            behaviourAt: chain.behaviourAt,
            problemBehaviour: chain.problemBehaviour,
            promptingEvent: chain.promptingEvent,
            vulnerabilities: chain.vulnerabilities,
            links: chain.links.map((link) => ({ type: link.type, text: link.text })),
            solutions: chain.solutions,
            completedIn: chain.completedIn,
          }
        : null,
    });
  }
  return summaries;
}
