import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { skills } from '../../db/schema/index.js';
import { invalidField } from '../../lib/errors.js';

/** The skills must be the clinic's own catalog entries; duplicates collapse, order is kept. */
export async function checkSkills(tx: DbOrTx, clinicId: string, skillIds: string[]): Promise<string[]> {
  const unique = [...new Set(skillIds)];
  if (unique.length === 0) return unique;
  const found = await tx
    .select({ id: skills.id })
    .from(skills)
    .where(and(eq(skills.clinicId, clinicId), inArray(skills.id, unique)));
  if (found.length !== unique.length) throw invalidField('skillIds', 'must all be skills of this clinic');
  return unique;
}
