import { and, eq, ne } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { psychotherapyNotes } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';

/**
 * Whether a note on the session exists by the caller (`mine`) or by anyone else (`others`): the
 * session view says the first to its author; the second goes only into the audit record.
 */
export async function noteExists(db: DbOrTx, ctx: AuthedContext, sessionId: string, whose: 'mine' | 'others'): Promise<boolean> {
  const author = whose === 'mine' ? eq(psychotherapyNotes.authorId, ctx.actor.staffId) : ne(psychotherapyNotes.authorId, ctx.actor.staffId);
  const [found] = await db
    .select({ id: psychotherapyNotes.id })
    .from(psychotherapyNotes)
    .where(and(eq(psychotherapyNotes.clinicId, ctx.actor.clinicId), eq(psychotherapyNotes.sessionId, sessionId), author))
    .limit(1)
    .prepare(`psychotherapy_note_of_${whose}`)
    .execute();
  return Boolean(found);
}
