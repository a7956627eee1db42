import { z } from 'zod';
import {
  lifeThreateningSubtypes,
  targetCategories,
  targetDirections,
  targetMeasures,
  therapyInterferingActors,
} from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime } from '../../lib/http.js';

export const targetResponse = z
  .object({
    targetId: z.uuid(),
    version: z.number().int(),
    clientId: z.uuid(),
    category: z.enum(targetCategories),
    lifeThreateningSubtype: z.enum(lifeThreateningSubtypes).nullable(),
    therapyInterferingActor: z.enum(therapyInterferingActors).nullable(),
    direction: z.enum(targetDirections),
    measure: z.enum(targetMeasures),
    label: z.string(),
    effectiveFrom: isoDateTime,
    /** Null while this is the version in force. */
    effectiveTo: isoDateTime.nullable(),
    endReason: z.enum(['changed', 'retired']).nullable(),
    endNote: z.string().nullable(),
    createdBy: z.uuid(),
  })
  .meta({ id: 'TargetVersion' });

/**
 * One target as the client and therapist name it. The subtype belongs to life-threatening targets
 * and the actor to therapy-interfering ones: each is required for its category and refused for
 * the others. Direction defaults to decrease, except skills, which are increased.
 */
export const targetBody = z
  .strictObject({
    category: z.enum(targetCategories),
    lifeThreateningSubtype: z.enum(lifeThreateningSubtypes).nullish(),
    therapyInterferingActor: z.enum(therapyInterferingActors).nullish(),
    direction: z.enum(targetDirections).optional(),
    measure: z.enum(targetMeasures),
    label: z
      .string()
      .min(1)
      .max(200)
      .refine((value) => value.trim().length > 0, 'must not be blank'),
  })
  .superRefine((body, issues) => {
    const rules = [
      ['lifeThreateningSubtype', 'life_threatening', body.lifeThreateningSubtype],
      ['therapyInterferingActor', 'therapy_interfering', body.therapyInterferingActor],
    ] as const;
    for (const [field, category, value] of rules) {
      const given = value !== undefined && value !== null;
      if (body.category === category && !given) {
        issues.addIssue({ code: 'custom', path: [field], message: `is required when category is ${category}` });
      } else if (body.category !== category && given) {
        issues.addIssue({ code: 'custom', path: [field], message: `is only allowed when category is ${category}` });
      }
    }
  })
  .transform((body) => ({
    category: body.category,
    lifeThreateningSubtype: body.lifeThreateningSubtype ?? null,
    therapyInterferingActor: body.therapyInterferingActor ?? null,
    direction: body.direction ?? (body.category === 'skill_increase' ? 'increase' : 'decrease'),
    measure: body.measure,
    label: body.label,
  }));

/** The body may be left out (Fastify passes null then): a reason is optional. */
export const retireTargetBody = z
  .strictObject({ reason: z.string().trim().min(1).max(500).optional() })
  .nullish()
  .transform((body) => body ?? {});

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const targetIdParams = z.strictObject({ id: z.uuid(), targetId: z.uuid() });
export const listTargetsQuery = z.strictObject({ history: z.enum(['true', 'false']).default('false') });
export const targetList = z.object({ items: z.array(targetResponse) }).meta({ id: 'TargetList' });
export { ifMatchHeaders };

export type TargetResponse = z.infer<typeof targetResponse>;
export type TargetInput = z.output<typeof targetBody>;
export type RetireTargetBody = z.output<typeof retireTargetBody>;
export type ListTargetsQuery = z.infer<typeof listTargetsQuery>;
