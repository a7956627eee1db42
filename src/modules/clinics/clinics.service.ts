import { randomBytes } from 'node:crypto';
import { count } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { clinics, staff } from '../../db/schema/index.js';
import { AppError } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
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
export async function createClinicWithAdmin(db: Db, input: NewClinic) {
  const slug = input.slug.toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(slug)) throw new AppError('bad_request', 'slug must be 2–63 lowercase letters, digits or dashes');
  const password = input.adminPassword ?? randomBytes(18).toString('base64url');
  if (password.length < 12) throw new AppError('bad_request', 'the admin password must be at least 12 characters');
  return db.transaction(async (tx) => {
    const [clinic] = await tx
      .insert(clinics)
      .values({ id: uuidv7(), slug, name: input.name, timeZone: input.timeZone ?? 'UTC' })
      .onConflictDoNothing()
      .returning();
    if (!clinic) throw new AppError('conflict', `A clinic with slug "${slug}" already exists`);
    const admin = await insertStaff(tx, clinic.id, { email: input.adminEmail, displayName: input.adminName, roles: ['admin'], password });
    return { clinic, admin, password };
  });
}

/** On an empty embedded database, a demo clinic with one admin so `npm start` can be tried at once. */
export async function seedDemoClinic(db: Db) {
  const [existing] = await db.select({ n: count() }).from(staff);
  if ((existing?.n ?? 0) > 0) return null;
  const { clinic, admin, password } = await createClinicWithAdmin(db, {
    slug: 'demo',
    name: 'Demo DBT Clinic',
    adminEmail: 'admin@demo.example',
    adminName: 'Demo Administrator',
  });
  return { clinicSlug: clinic.slug, email: admin.email, password };
}
