import { z } from 'zod';
import { ifMatchHeaders } from '../../lib/http.js';

export const agendaCategories = ['life_threatening', 'therapy_interfering', 'quality_of_life', 'skills'] as const;
export const agendaSources = ['diary_card', 'event', 'session', 'chain_analysis', 'therapist'] as const;

/** One agenda item: what to talk about, why (source and evidence), and how it ranked. */
export const agendaItem = z
  .object({
    id: z.string().describe("stable within a computation: e.g. 'lt:action:<targetId>', 'lt:event:<eventId>', 'therapist:<uuid>'"),
    category: z.enum(agendaCategories),
    kind: z.string().describe('action, urge, event, chain-analysis-due, card-missing, card-partial, card-back-filled, …, therapist'),
    title: z.string(),
    note: z.string().optional(),
    source: z.enum(agendaSources),
    targetId: z.uuid().optional(),
    eventId: z.uuid().optional(),
    evidence: z.array(z.object({ date: z.string(), value: z.union([z.number(), z.string(), z.boolean()]) })),
    severity: z.number(),
    lastAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'AgendaItem' });

export const agendaResponse = z
  .object({
    sessionId: z.uuid(),
    window: z
      .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
      .describe('the period the computed items come from: since the last attended session, up to this session'),
    computed: z.array(agendaItem).describe('the agenda as the target hierarchy orders it now'),
    final: z.array(agendaItem).nullable().describe('the order the therapist saved, with added items; null until saved'),
    savedComputed: z.array(agendaItem).nullable().describe('the computed agenda as it was when the therapist saved; null until saved'),
    version: z.number().int().nullable().describe('null until saved; the ETag to send as If-Match'),
  })
  .meta({ id: 'SessionAgenda' });

export const putAgendaBody = z.strictObject({
  order: z
    .array(z.string().min(1).max(200))
    .max(500)
    .refine((ids) => new Set(ids).size === ids.length, 'each item may appear once')
    .describe('ids of items of the current computed agenda, in the order to discuss them; unlisted items are left off'),
  added: z
    .array(
      z.strictObject({
        category: z.enum(agendaCategories),
        title: z.string().trim().min(1).max(500),
        note: z.string().max(2000).optional(),
      }),
    )
    .max(50)
    .default([])
    .describe('items the therapist adds; they follow the ordered items'),
});

export const sessionIdParams = z.strictObject({ id: z.uuid() });
export { ifMatchHeaders };

export type AgendaItem = z.infer<typeof agendaItem>;
export type AgendaResponse = z.infer<typeof agendaResponse>;
export type PutAgendaBody = z.infer<typeof putAgendaBody>;
