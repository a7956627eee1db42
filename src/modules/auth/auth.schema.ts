import { z } from 'zod';
import { staffResponse } from '../staff/staff.schema.js';

export const loginBody = z.strictObject({
  clinic: z.string().trim().min(1).max(100).describe('The clinic slug'),
  email: z.email().max(254),
  password: z.string().min(1).max(256),
});

export const loginResponse = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().describe('Seconds until the token expires'),
    staff: staffResponse,
  })
  .meta({ id: 'LoginResult' });

export const meResponse = staffResponse.extend({ clinicId: z.uuid(), clinicName: z.string() }).meta({ id: 'Me' });

export type LoginBody = z.infer<typeof loginBody>;
