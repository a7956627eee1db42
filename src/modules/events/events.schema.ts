import { z } from 'zod';
import { clinicalEventKinds, eventSeverities, eventSources } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

/** A device clock a little ahead of the server's does not put an event "in the future". */
const CLOCK_SKEW_MS = 5 * 60_000;
const notInFuture = (at: Date) => at.getTime() <= Date.now() + CLOCK_SKEW_MS;

const occurredAt = isoDateTime.refine(notInFuture, 'must not be in the future');
const dischargedAt = isoDateTime.refine(notInFuture, 'must not be in the future');
const description = z.string().trim().min(1).max(4000);
/** 'diary_card' belongs to the events a diary card creates by itself; people record the other two. */
const manualSources = eventSources.filter((source) => source !== 'diary_card') as Exclude<(typeof eventSources)[number], 'diary_card'>[];

export const eventResponse = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    kind: z.enum(clinicalEventKinds),
    occurredAt: isoDateTime,
    dischargedAt: isoDateTime.nullable(),
    /** Admissions with a discharge: whole days in hospital, part days counted as whole; otherwise null. */
    daysInHospital: z.number().int().nullable(),
    severity: z.enum(eventSeverities),
    source: z.enum(eventSources),
    description: z.string().nullable(),
    /** For events a diary card created: the card, the day and the target. */
    diaryCardId: z.uuid().nullable(),
    diaryDate: z.iso.date().nullable(),
    targetId: z.uuid().nullable(),
    enteredInError: z.object({ at: isoDateTime, reason: z.string() }).nullable(),
    version: z.number().int(),
    recordedBy: z.uuid().nullable(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'ClinicalEvent' });

/** A discharge belongs to an admission and comes after it; both a new event and a changed one must hold. */
export function checkDischarge(kind: string, occurred: Date, discharged: Date | null): { field: string; message: string } | null {
  if (discharged === null) return null;
  if (kind !== 'psychiatric_admission') return { field: 'dischargedAt', message: 'is only allowed for a psychiatric_admission' };
  if (discharged.getTime() <= occurred.getTime()) return { field: 'dischargedAt', message: 'must be after occurredAt' };
  return null;
}

export const createEventBody = z
  .strictObject({
    kind: z.enum(clinicalEventKinds),
    occurredAt,
    dischargedAt: dischargedAt.nullish(),
    severity: z.enum(eventSeverities),
    source: z.enum(manualSources, { error: 'must be client_report or records (diary_card events are created by diary cards)' }),
    description: description.nullish(),
  })
  .superRefine((body, issues) => {
    const problem = checkDischarge(body.kind, body.occurredAt, body.dischargedAt ?? null);
    if (problem) issues.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });

/** kind and source are what the event is and where it came from: fixed once recorded. */
export const updateEventBody = z.strictObject({
  occurredAt: occurredAt.optional(),
  dischargedAt: dischargedAt.nullable().optional(),
  severity: z.enum(eventSeverities).optional(),
  description: description.nullable().optional(),
});

export const enteredInErrorBody = z.strictObject({ reason: z.string().trim().min(10).max(1000) });

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const eventIdParams = z.strictObject({ id: z.uuid(), eventId: z.uuid() });
export const listEventsQuery = z
  .strictObject({
    ...pageQuery,
    kind: z.enum(clinicalEventKinds).optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    includeEnteredInError: z.enum(['true', 'false']).default('false'),
  })
  .refine((query) => !query.from || !query.to || query.from.getTime() <= query.to.getTime(), {
    path: ['to'],
    message: 'must not be before from',
  });
export const eventPage = page(eventResponse).meta({ id: 'ClinicalEventPage' });
export { ifMatchHeaders };

export type EventResponse = z.infer<typeof eventResponse>;
export type CreateEventBody = z.output<typeof createEventBody>;
export type UpdateEventBody = z.output<typeof updateEventBody>;
export type ListEventsQuery = z.output<typeof listEventsQuery>;
