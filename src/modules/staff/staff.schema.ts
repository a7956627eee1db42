import { z } from 'zod';
import { staffRoles } from '../../db/schema/index.js';
import { ifMatchHeaders, isoDateTime, page, pageQuery } from '../../lib/http.js';

const email = z.email().max(254);
const displayName = z.string().trim().min(1).max(200);
const roles = z
  .array(z.enum(staffRoles))
  .min(1)
  .max(staffRoles.length)
  .refine((list) => new Set(list).size === list.length, 'roles must not repeat');
export const password = z.string().min(12, 'password must be at least 12 characters').max(256);

export const staffResponse = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    roles: z.array(z.enum(staffRoles)),
    active: z.boolean(),
    version: z.number().int(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Staff' });

export const createStaffBody = z.strictObject({ email, displayName, roles, password });
export const updateStaffBody = z.strictObject({ email: email.optional(), displayName: displayName.optional() });
export const changeRolesBody = z.strictObject({ roles });
export const staffIdParams = z.strictObject({ id: z.uuid() });
export const listStaffQuery = z.strictObject({ ...pageQuery, active: z.enum(['true', 'false']).optional() });
export const staffPage = page(staffResponse);
export { ifMatchHeaders };

export type StaffResponse = z.infer<typeof staffResponse>;
export type CreateStaffBody = z.infer<typeof createStaffBody>;
export type UpdateStaffBody = z.infer<typeof updateStaffBody>;
export type ListStaffQuery = z.infer<typeof listStaffQuery>;
