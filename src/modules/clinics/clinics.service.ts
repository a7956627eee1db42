import { randomBytes } from 'node:crypto';
import { count } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { clients, clinics, staff, treatmentEpisodes } from '../../db/schema/index.js';
import { AppError } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { insertProgram } from '../programs/programs.queries.js';
import { insertStandardSkills } from '../skills/skills.catalog.js';
import { insertStaff } from '../staff/staff.service.js';
import type { EpisodeRow } from '../treatment/episodes.queries.js';

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

async function insertClinicWithAdmin(tx: DbOrTx, input: NewClinic) {
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

/**
 * On an empty embedded database, a demo clinic so `npm start` can be tried at once: an
 * administrator, a therapist (same one-time password) and an adult program with a handful of
 * obviously synthetic clients across the episode statuses. Never real data.
 */
export function seedDemoClinic(db: Db) {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select({ n: count() }).from(staff);
    if ((existing?.n ?? 0) > 0) return null;
    const { clinic, admin, password } = await insertClinicWithAdmin(tx, {
      slug: 'demo',
      name: 'Demo DBT Clinic',
      adminEmail: 'admin@demo.example',
      adminName: 'Demo Administrator',
    });
    const therapist = await insertStaff(tx, clinic.id, {
      email: 'therapist@demo.example',
      displayName: 'Demo Therapist',
      roles: ['therapist'],
      password,
    });
    await seedDemoClients(tx, clinic.id, admin.id, therapist.id);
    return { clinicSlug: clinic.slug, email: admin.email, password, therapistEmail: therapist.email };
  });
}

/** Dates relative to today, so the demo's contracts are current whenever it is seeded. */
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const addDays = (date: string, days: number) => new Date(Date.parse(date) + days * 86_400_000).toISOString().slice(0, 10);

type DemoEpisode = Pick<EpisodeRow, 'status' | 'referredOn'> &
  Partial<Pick<EpisodeRow, 'pretreatmentOn' | 'contractStart' | 'dischargedOn' | 'dischargeReason'>>;

const demoClients = (): Array<{ givenName: string; preferredName?: string; dateOfBirth: string; episode: DemoEpisode }> => [
  { givenName: 'Alpha', dateOfBirth: '1991-03-14', episode: { status: 'referred', referredOn: daysAgo(6) } },
  {
    givenName: 'Bravo',
    dateOfBirth: '1986-07-02',
    episode: { status: 'pretreatment', referredOn: daysAgo(30), pretreatmentOn: daysAgo(20) },
  },
  {
    givenName: 'Charlie',
    preferredName: 'Charlie-Demo',
    dateOfBirth: '1999-11-23',
    episode: { status: 'active', referredOn: daysAgo(120), pretreatmentOn: daysAgo(110), contractStart: daysAgo(84) },
  },
  {
    givenName: 'Delta',
    dateOfBirth: '1978-01-30',
    episode: { status: 'active', referredOn: daysAgo(60), pretreatmentOn: daysAgo(50), contractStart: daysAgo(28) },
  },
  {
    givenName: 'Echo',
    dateOfBirth: '1994-05-09',
    episode: {
      status: 'discharged',
      referredOn: daysAgo(420),
      pretreatmentOn: daysAgo(410),
      contractStart: daysAgo(390),
      dischargeReason: 'completed',
    },
  },
  {
    givenName: 'Foxtrot',
    dateOfBirth: '2001-09-17',
    episode: {
      status: 'discharged',
      referredOn: daysAgo(250),
      pretreatmentOn: daysAgo(240),
      contractStart: daysAgo(220),
      dischargedOn: daysAgo(150),
      dischargeReason: 'four_miss',
    },
  },
];

async function seedDemoClients(tx: DbOrTx, clinicId: string, adminId: string, therapistId: string) {
  const { program, policy } = await insertProgram(tx, {
    clinicId,
    name: 'Adult DBT (demo)',
    kind: 'adult',
    effectiveFrom: '2020-01-01',
    createdBy: adminId,
  });
  for (const [index, demo] of demoClients().entries()) {
    const clientId = uuidv7();
    const { episode } = demo;
    await tx.insert(clients).values({
      clinicId,
      id: clientId,
      givenName: demo.givenName,
      familyName: 'Synthetic',
      preferredName: demo.preferredName ?? null,
      dateOfBirth: demo.dateOfBirth,
      pronouns: 'they/them',
      phone: `+1 555 0100 ${String(index + 1).padStart(3, '0')}`,
      email: `${demo.givenName.toLowerCase()}.synthetic@demo.example`,
      emergencyContact: { name: 'Demo Contact', relationship: 'friend', phone: '+1 555 0199 000' },
      externalRecordNumber: `DEMO-${String(index + 1).padStart(4, '0')}`,
      programId: program.id,
      primaryTherapistId: therapistId,
      status: episode.status,
    });
    const contractEnd = episode.contractStart ? addDays(episode.contractStart, policy.contractWeeks * 7) : null;
    await tx.insert(treatmentEpisodes).values({
      clinicId,
      id: uuidv7(),
      clientId,
      programId: program.id,
      policyVersion: policy.version,
      ...episode,
      contractEnd,
      // A completed contract ends on its end date.
      dischargedOn: episode.dischargeReason === 'completed' ? contractEnd : (episode.dischargedOn ?? null),
      reEntryEligibleOn: episode.dischargeReason === 'four_miss' ? contractEnd : null,
      createdBy: adminId,
    });
  }
}
