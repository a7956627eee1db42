import { randomBytes } from 'node:crypto';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinics } from '../../db/schema/index.js';
import { AppError } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { insertStandardSkills } from '../skills/skills.catalog.js';
import { insertStaff } from '../staff/staff.service.js';

export interface NewClinic {
  slug: string;
  name: string;
  timeZone?: string;
  adminEmail: string;
  adminName: string;
  /** Generated when omitted; returned once so it can be shown once. */
  adminPassword?: string;
}

/**
 * Creates a clinic and its first administrator. Used by the set-up command and the embedded demo;
 * not an HTTP route, because before it runs there is nobody to authorize the request.
 */
export function createClinicWithAdmin(db: Db, input: NewClinic) {
  return db.transaction((tx) => insertClinicWithAdmin(tx, input));
}

export async function insertClinicWithAdmin(tx: DbOrTx, input: NewClinic) {
  const slug = input.slug.toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(slug)) throw new AppError('bad_request', 'slug must be 2–63 lowercase letters, digits or dashes');
  const password = input.adminPassword ?? randomBytes(18).toString('base64url');
  if (password.length < 12) throw new AppError('bad_request', 'the admin password must be at least 12 characters');
  const [clinic] = await tx
    .insert(clinics)
    .values({ id: uuidv7(), slug, name: input.name, timeZone: input.timeZone ?? 'UTC' })
    .onConflictDoNothing()
    .returning();
  if (!clinic) throw new AppError('conflict', `A clinic with slug "${slug}" already exists`);
  const admin = await insertStaff(tx, clinic.id, { email: input.adminEmail, displayName: input.adminName, roles: ['admin'], password });
  await insertStandardSkills(tx, clinic.id);
  return { clinic, admin, password };
}
