import { and, arrayOverlaps, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { type StaffRole, staff } from '../../db/schema/index.js';

/** Whether every id names an active staff member of the clinic holding at least one of the roles. */
export async function allActiveWithRole(db: DbOrTx, clinicId: string, ids: string[], roles: StaffRole[]): Promise<boolean> {
  if (ids.length === 0) return true;
  const found = await db
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.clinicId, clinicId), inArray(staff.id, ids), eq(staff.active, true), arrayOverlaps(staff.roles, roles)));
  return found.length === new Set(ids).size;
}
