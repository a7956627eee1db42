import { createHmac, randomBytes } from 'node:crypto';
import type { App } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import type { StaffRole } from '../../src/db/schema/index.js';
import { clients } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { createClinicWithAdmin } from '../../src/modules/clinics/clinics.service.js';
import { insertProgram, type PolicySettings, type ProgramKind, today } from '../../src/modules/programs/programs.queries.js';
import { insertStaff } from '../../src/modules/staff/staff.service.js';
import { insertReferredEpisode } from '../../src/modules/treatment/episodes.queries.js';
import { testDatabase } from './app.js';

export const TEST_PASSWORD = 'correct horse battery staple';

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`;

/** A fresh clinic with its first admin, so no test depends on rows another test left. */
export async function createClinic(database?: Database) {
  const { db } = database ?? (await testDatabase());
  const slug = `clinic-${unique()}`;
  const { clinic, admin } = await createClinicWithAdmin(db, {
    slug,
    name: `Synthetic Clinic ${slug}`,
    adminEmail: `admin@${slug}.example`,
    adminName: 'Synthetic Admin',
    adminPassword: TEST_PASSWORD,
  });
  return { clinic, admin };
}

export async function createStaffMember(clinicId: string, roles: StaffRole[], email = `staff-${unique()}@example.test`) {
  const { db } = await testDatabase();
  return insertStaff(db, clinicId, { email, displayName: `Synthetic ${roles.join(' ')}`, roles, password: TEST_PASSWORD });
}

/** A signed token for a staff member, as login would issue it. */
export function tokenFor(app: App, member: { id: string; clinicId: string; roles: string[] }, extra: { expiresIn?: number } = {}) {
  return app.jwt.sign(
    { sub: member.id, cid: member.clinicId, roles: member.roles, jti: uuidv7() },
    extra.expiresIn ? { expiresIn: extra.expiresIn } : {},
  );
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Signs an HS256 JWT by hand: for expired tokens and tokens signed with the wrong secret. */
export function signToken(secret: string, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** A program with its first policy version (defaults for its kind, effective from 2020-01-01). */
export async function createProgram(clinicId: string, kind: ProgramKind = 'adult', policy: Partial<PolicySettings> = {}) {
  const { db } = await testDatabase();
  return insertProgram(db, {
    clinicId,
    name: `Synthetic ${kind} program ${unique()}`,
    kind,
    effectiveFrom: '2020-01-01',
    createdBy: null,
    policy,
  });
}

/**
 * A registered client with a referred episode, written straight to the database (set-up, not
 * under test). Names are obviously synthetic.
 */
export async function createClientRecord(
  clinicId: string,
  options: { primaryTherapistId?: string | null; programId?: string; createdBy?: string } = {},
) {
  const { db } = await testDatabase();
  const programId = options.programId ?? (await createProgram(clinicId)).program.id;
  const createdBy = options.createdBy ?? options.primaryTherapistId ?? (await createStaffMember(clinicId, ['admin'])).id;
  const [client] = await db
    .insert(clients)
    .values({
      clinicId,
      id: uuidv7(),
      givenName: `Test${unique()}`,
      familyName: 'Synthetic',
      dateOfBirth: '1990-01-01',
      programId,
      primaryTherapistId: options.primaryTherapistId ?? null,
      status: 'referred',
    })
    .returning();
  const created = client as typeof clients.$inferSelect;
  await insertReferredEpisode(db, { clinicId, clientId: created.id, programId, policyVersion: 1, referredOn: today(), createdBy });
  return created;
}

/** A new staff member of the clinic with the given roles, and a token to call the API as them. */
export async function memberWithToken(app: App, clinicId: string, roles: StaffRole[]) {
  const row = await createStaffMember(clinicId, roles);
  return { ...row, token: tokenFor(app, row) };
}

/**
 * A clinic with a client and the people around it: the primary therapist, and those who must not
 * see the clinical record (an unrelated therapist, an administrator, a compliance officer), each
 * with a token.
 */
export async function clientWithCareTeam(app: App) {
  const { clinic, admin } = await createClinic();
  const member = (roles: StaffRole[]) => memberWithToken(app, clinic.id, roles);
  const therapist = await member(['therapist']);
  const client = await createClientRecord(clinic.id, { primaryTherapistId: therapist.id });
  return {
    clinic,
    client,
    therapist,
    admin: { ...admin, token: tokenFor(app, admin) },
    colleague: await member(['therapist']),
    compliance: await member(['compliance']),
  };
}
