import { and, eq, gt, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { breakGlassGrants } from '../db/schema/index.js';

/** The caller's grant for this client that is in force now, if any: the basis of a break-glass access. */
export async function findActiveGrant(db: DbOrTx, clinicId: string, staffId: string, clientId: string) {
  const [grant] = await db
    .select({ id: breakGlassGrants.id })
    .from(breakGlassGrants)
    .where(
      and(
        eq(breakGlassGrants.clinicId, clinicId),
        eq(breakGlassGrants.staffId, staffId),
        eq(breakGlassGrants.clientId, clientId),
        lte(breakGlassGrants.startsAt, sql`now()`),
        gt(breakGlassGrants.expiresAt, sql`now()`),
      ),
    )
    .limit(1);
  return grant ?? null;
}
