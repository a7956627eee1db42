import { z } from 'zod';
import { agendaCategories, agendaItemStatuses, agendaObstacles } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime } from '../../lib/http.js';

const note = z.string().max(4000).nullable();
const question = z
  .string()
  .max(2000)
  .transform((value) => value.trim())
  .refine((value) => value.length >= 10, 'must be a behaviourally specific question (at least 10 characters)');

const itemFields = {
  category: z.enum(agendaCategories),
  question: question.describe('what the requester needs from the team, behaviourally specific'),
  minutesRequested: z.number().int().min(1).max(120),
  clarity: note.describe('is the problem and the task clear to therapist and client?'),
  motivation: note.describe('are both motivated?'),
  obstacles: z
    .array(z.enum(agendaObstacles))
    .max(agendaObstacles.length)
    .refine((list) => new Set(list).size === list.length, 'must not repeat')
    .describe('what gets in the way'),
  obstaclesNote: note,
  followUpDue: z.iso.date().nullable(),
};

export const createAgendaItemBody = z.strictObject({
  clientId: z
    .uuid()
    .nullable()
    .optional()
    .describe('a client the team holds; required for the client categories; none for items about a therapist or the team'),
  category: itemFields.category,
  question: itemFields.question,
  minutesRequested: itemFields.minutesRequested.default(10),
  clarity: itemFields.clarity.optional(),
  motivation: itemFields.motivation.optional(),
  obstacles: itemFields.obstacles.optional(),
  obstaclesNote: itemFields.obstaclesNote.optional(),
  followUpDue: itemFields.followUpDue.optional(),
});

export const updateAgendaItemBody = z
  .strictObject({
    category: itemFields.category.optional(),
    question: itemFields.question.optional(),
    minutesRequested: itemFields.minutesRequested.optional(),
    clarity: itemFields.clarity.optional(),
    motivation: itemFields.motivation.optional(),
    obstacles: itemFields.obstacles.optional(),
    obstaclesNote: itemFields.obstaclesNote.optional(),
    outcome: note.optional(),
    plan: note.optional(),
    followUpDue: itemFields.followUpDue.optional(),
    status: z.enum(['open', 'discussed', 'withdrawn']).optional().describe('carried_over is set by the next meeting only'),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');

export const agendaItemResponse = z
  .object({
    id: z.uuid(),
    meetingId: z.uuid(),
    requestedBy: z.uuid(),
    requestedAt: isoDateTime,
    clientId: z.uuid().nullable(),
    category: z.enum(agendaCategories),
    question: z.string(),
    minutesRequested: z.number().int(),
    clarity: z.string().nullable(),
    motivation: z.string().nullable(),
    obstacles: z.array(z.enum(agendaObstacles)),
    obstaclesNote: z.string().nullable(),
    outcome: z.string().nullable(),
    plan: z.string().nullable(),
    followUpDue: z.iso.date().nullable(),
    status: z.enum(agendaItemStatuses),
    carriedFromId: z.uuid().nullable().describe('the item of an earlier meeting this one was carried over from'),
    proposalId: z.uuid().nullable().describe('the pre-fill proposal it was accepted from'),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'TeamAgendaItem' });

export const scheduledItemResponse = agendaItemResponse
  .extend({
    position: z.number().int().describe('1-based place in the agenda'),
    startsAtMinute: z.number().int().describe('minutes from the start of the meeting, after the opening'),
    fits: z.boolean().describe('false for the first item that runs past the meeting’s end and every item after it'),
  })
  .meta({ id: 'ScheduledAgendaItem' });

export const agendaResponse = z
  .object({
    meetingId: z.uuid(),
    date: z.iso.date(),
    durationMinutes: z.number().int(),
    openingMinutes: z.number().int(),
    availableMinutes: z.number().int().describe('duration less the opening'),
    requestedMinutes: z.number().int(),
    overMinutes: z.number().int().describe('requested minutes beyond the available ones'),
    categoryOrder: z.array(z.enum(agendaCategories)),
    items: z.array(scheduledItemResponse).describe('open and discussed items in agenda order'),
    doesNotFit: z.array(z.uuid()).describe('the items that do not fit, in order'),
    closed: z.array(agendaItemResponse).describe('items withdrawn or carried over to a later meeting'),
  })
  .meta({ id: 'TeamMeetingAgenda' });

export const meetingIdParams = z.strictObject({ id: z.uuid() });
export const agendaItemParams = z.strictObject({ id: z.uuid(), itemId: z.uuid() });
export { ifMatchHeaders };

export type AgendaItemResponse = z.infer<typeof agendaItemResponse>;
export type AgendaResponse = z.infer<typeof agendaResponse>;
export type CreateAgendaItemBody = z.output<typeof createAgendaItemBody>;
export type UpdateAgendaItemBody = z.output<typeof updateAgendaItemBody>;
