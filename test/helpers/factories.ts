import { createHmac, randomBytes } from 'node:crypto';
import type { App } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import type { StaffRole } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { createClinicWithAdmin } from '../../src/modules/clinics/clinics.service.js';
import { insertStaff } from '../../src/modules/staff/staff.service.js';
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
