import { z } from 'zod';
import { episodeStatuses } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';
import { today } from '../programs/programs.queries.js';

const name = z.string().trim().min(1).max(200);
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 ().-]{2,39}$/, 'phone may hold digits, spaces and + ( ) . - (3–40 characters)');
const dateOfBirth = z.iso
  .date()
  .refine((value) => value >= '1900-01-01', 'dateOfBirth must not be before 1900-01-01')
  .refine((value) => value <= today(), 'dateOfBirth must not be in the future');

const emergencyContact = z.strictObject({
  name,
  relationship: z.string().trim().min(1).max(100).optional(),
  phone,
});

/** Optional fields may be sent as null to clear them. */
const optional = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const registrationFields = {
  givenName: name,
  familyName: name,
  preferredName: optional(name),
  dateOfBirth,
  pronouns: optional(z.string().trim().min(1).max(50)),
  phone: optional(phone),
  email: optional(z.email().max(254)),
  emergencyContact: optional(emergencyContact),
  externalRecordNumber: optional(z.string().trim().min(1).max(64)),
  programId: z.uuid(),
  primaryTherapistId: optional(z.uuid()),
  /** Consultation team; checked once teams exist. */
  teamId: optional(z.uuid()),
};

export const createClientBody = z.strictObject(registrationFields);
export const updateClientBody = z.strictObject({
  ...registrationFields,
  givenName: name.optional(),
  familyName: name.optional(),
  dateOfBirth: dateOfBirth.optional(),
  programId: z.uuid().optional(),
});
export const enteredInErrorBody = z.strictObject({
  reason: z.string().trim().min(10, 'reason must be at least 10 characters').max(1000),
});

export const clientIdParams = z.strictObject({ id: z.uuid() });
export const listClientsQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(episodeStatuses).optional(),
  primaryTherapistId: z.uuid().optional(),
  programId: z.uuid().optional(),
  q: z.string().trim().min(1).max(100).optional(),
  includeEnteredInError: z.enum(['true', 'false']).default('false'),
});

export const clientResponse = z
  .object({
    id: z.uuid(),
    givenName: z.string(),
    familyName: z.string(),
    preferredName: z.string().nullable(),
    dateOfBirth: z.iso.date(),
    pronouns: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    emergencyContact: z.object({ name: z.string(), relationship: z.string().optional(), phone: z.string() }).nullable(),
    externalRecordNumber: z.string().nullable(),
    programId: z.uuid(),
    primaryTherapistId: z.uuid().nullable(),
    teamId: z.uuid().nullable(),
    status: z.enum(episodeStatuses).describe("The current treatment episode's status"),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    enteredInError: z.object({ at: isoDateTime, by: z.uuid(), reason: z.string() }).nullable(),
  })
  .meta({ id: 'Client' });
export const clientPage = page(clientResponse);
export { ifMatchHeaders };

export type CreateClientBody = z.infer<typeof createClientBody>;
export type UpdateClientBody = z.infer<typeof updateClientBody>;
export type ListClientsQuery = z.infer<typeof listClientsQuery>;
export type ClientResponse = z.infer<typeof clientResponse>;
