import { z } from 'zod';
import {
  agendaCategories,
  agendaObstacles,
  chainLinkTypes,
  clinicalEventKinds,
  coachingPurposes,
  episodeStatuses,
  eventSeverities,
  eventSources,
  lifeThreateningSubtypes,
  modalities,
  stages,
  targetCategories,
  targetDirections,
  therapyInterferingActors,
} from '../../db/schema/index.js';
import { isoDateTime } from '../../lib/http.js';

const date = z.iso.date();
const count = z.number().int().min(0);
/** A mean (to two decimals) or a maximum of 0–5 ratings; null when nothing was rated. */
const rating = z.number().min(0).nullable();

export const meetingIdParams = z.strictObject({ id: z.uuid() });
export const clientIdParams = z.strictObject({ id: z.uuid() });

/** json (the default) or markdown; the query wins over the Accept header. */
export const prepQuery = z.strictObject({ format: z.enum(['json', 'markdown']).optional() });

/** The four weeks a packet or summary covers: clinic-local dates, both inclusive. */
const period = z.object({ from: date, to: date });

const diaryWeek = z.object({
  /** The first day of the week, as the client's program starts diary-card weeks. */
  weekStart: date,
  daysFilled: z.number().int().min(0).max(7),
  /** daysFilled / 7, to two decimals. */
  completion: z.number().min(0).max(1),
  backFilledDays: count,
  /** The targets the week's days rated, in the order of the client's targets. */
  targets: z.array(
    z.object({
      targetId: z.uuid(),
      label: z.string(),
      maxUrge: rating,
      meanUrge: rating,
      /** Days the behaviour happened: a yes, or a count above zero. */
      actionDays: count,
      /** The counts added up, a yes counting one. */
      actionCount: count,
    }),
  ),
  /** Per emotion rated in the week: the mean and the highest of its daily ratings. */
  emotions: z.record(z.string(), z.object({ mean: z.number(), max: z.number() })),
  skillsOverallMean: rating,
  urgeToQuitMax: rating,
});

/**
 * What a consultation team needs to know about one client, and no more: no session or
 * psychotherapy notes, no episode, diary or coaching notes, no contact details.
 */
const clientSummaryFields = {
  stage: z.object({ stage: z.enum(stages), fromDate: date }).nullable(),
  /** The open (not discharged) treatment episode. */
  episode: z
    .object({
      status: z.enum(episodeStatuses),
      contractStart: date.nullable(),
      contractEnd: date.nullable(),
      fourMissMetOn: date.nullable(),
    })
    .nullable(),
  /** The targets in force, life-threatening first; therapist-side therapy-interfering ones say so in therapyInterferingActor. */
  targets: z.array(
    z.object({
      targetId: z.uuid(),
      category: z.enum(targetCategories),
      label: z.string(),
      lifeThreateningSubtype: z.enum(lifeThreateningSubtypes).nullable(),
      therapyInterferingActor: z.enum(therapyInterferingActors).nullable(),
      direction: z.enum(targetDirections),
    }),
  ),
  /** Active life-worth-living goals. */
  goals: z.array(z.object({ id: z.uuid(), text: z.string(), domain: z.string().nullable() })),
  /** One entry per week of the period, oldest first; a week without a card has no figures. */
  diaryTrends: z.array(diaryWeek),
  /** Clinical events in the period (not those entered in error), newest first. */
  events: z.array(
    z.object({
      id: z.uuid(),
      kind: z.enum(clinicalEventKinds),
      occurredAt: isoDateTime,
      severity: z.enum(eventSeverities),
      source: z.enum(eventSources),
      daysInHospital: z.number().int().nullable(),
    }),
  ),
  /** Per modality the active episode's policy requires: the trailing miss streak now, and the period's occurrences. */
  attendance: z.array(
    z.object({
      modality: z.enum(modalities),
      streak: count,
      status: z.enum(['ok', 'warning', 'met']),
      threshold: z.number().int(),
      metOn: date.nullable(),
      inPeriod: z.object({ attended: count, missed: count, neutral: count }),
    }),
  ),
  /** Coaching contacts requested in the period. */
  coaching: z.object({
    contacts: count,
    minutes: count,
    afterHours: count,
    /** afterHours / contacts, 0–1; null without contacts. */
    afterHoursShare: z.number().min(0).max(1).nullable(),
    purposes: z.object(
      Object.fromEntries(coachingPurposes.map((purpose) => [purpose, count])) as Record<(typeof coachingPurposes)[number], typeof count>,
    ),
    relationshipRepair: count,
    twentyFourHourBlocks: count,
    overrides: count,
    outsideLimits: count,
  }),
  /** The latest chain analysis of a behaviour up to the end of the period. */
  lastChainAnalysis: z
    .object({
      id: z.uuid(),
      behaviourAt: isoDateTime,
      problemBehaviour: z.string(),
      promptingEvent: z.string().nullable(),
      vulnerabilities: z.array(z.string()),
      links: z.array(z.object({ type: z.enum(chainLinkTypes), text: z.string() })),
      solutions: z.array(z.string()),
      completedIn: z.enum(['session', 'homework']),
    })
    .nullable(),
};

const clientSummary = z.object(clientSummaryFields);

const requestedBy = z.object({ id: z.uuid(), displayName: z.string() });
const itemFields = {
  id: z.uuid(),
  category: z.enum(agendaCategories),
  question: z.string(),
  minutesRequested: z.number().int(),
  requestedBy,
};

export const teamPrepPacket = z
  .object({
    meeting: z.object({ id: z.uuid(), teamId: z.uuid(), teamName: z.string(), date, durationMinutes: z.number().int() }),
    generatedAt: isoDateTime,
    /** The four weeks ending on the meeting date. */
    period,
    /** One entry per client on the agenda, in the order of the client's first item. */
    clients: z.array(
      z.object({
        client: z.object({ id: z.uuid(), name: z.string() }),
        /** The client's open and discussed items, in agenda order. */
        items: z.array(
          z.object({
            ...itemFields,
            clarity: z.string().nullable(),
            motivation: z.string().nullable(),
            obstacles: z.array(z.enum(agendaObstacles)),
            obstaclesNote: z.string().nullable(),
            /** The item was carried over from an earlier meeting. */
            carriedOver: z.boolean(),
          }),
        ),
        ...clientSummaryFields,
      }),
    ),
    /** Items about no client (consults, admin, celebrations): no client data. */
    otherItems: z.array(z.object(itemFields)),
  })
  .meta({ id: 'TeamPrepPacket' });

export const teamSummaryResponse = z.object({ clientId: z.uuid(), period, ...clientSummaryFields }).meta({ id: 'TeamSummary' });

export type PrepFormat = NonNullable<z.infer<typeof prepQuery>['format']>;
export type PrepPeriod = z.infer<typeof period>;
export type ClientSummary = z.infer<typeof clientSummary>;
export type DiaryWeek = z.infer<typeof diaryWeek>;
export type TeamPrepPacket = z.infer<typeof teamPrepPacket>;
export type PacketClient = TeamPrepPacket['clients'][number];
export type TeamSummaryResponse = z.infer<typeof teamSummaryResponse>;
