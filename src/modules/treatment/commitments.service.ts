import { and, desc, eq } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { commitments, treatmentEpisodes } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { invalidField } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import type { CommitmentResponse, CreateCommitmentBody } from './treatment.schema.js';

type CommitmentRow = typeof commitments.$inferSelect;

const toCommitmentResponse = (row: CommitmentRow): CommitmentResponse => ({
  id: row.id,
  clientId: row.clientId,
  episodeId: row.episodeId,
  type: row.type,
  items: row.items,
  method: row.method,
  agreedAt: row.agreedAt,
  recordedBy: row.recordedBy,
  createdAt: row.createdAt,
});

export async function listCommitments(db: Db, ctx: AuthedContext, clientId: string) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const rows = await db
    .select()
    .from(commitments)
    .where(and(eq(commitments.clinicId, ctx.actor.clinicId), eq(commitments.clientId, clientId)))
    .orderBy(desc(commitments.agreedAt), desc(commitments.createdAt), desc(commitments.id));
  ctx.audit.resultCount = rows.length;
  return { items: rows.map(toCommitmentResponse) };
}

/** Commitments are made and remade: each is a new record, never an edit of an earlier one. */
export function createCommitment(db: Db, ctx: AuthedContext, clientId: string, input: CreateCommitmentBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const clinicId = ctx.actor.clinicId;
    await authorizeClient(tx, ctx, clientId, 'clinical');
    if (input.episodeId) {
      const [episode] = await tx
        .select({ id: treatmentEpisodes.id })
        .from(treatmentEpisodes)
        .where(
          and(
            eq(treatmentEpisodes.clinicId, clinicId),
            eq(treatmentEpisodes.clientId, clientId),
            eq(treatmentEpisodes.id, input.episodeId),
          ),
        );
      if (!episode) throw invalidField('episodeId', 'is not an episode of this client');
    }
    const [row] = await tx
      .insert(commitments)
      .values({
        clinicId,
        id: uuidv7(),
        clientId,
        episodeId: input.episodeId ?? null,
        type: input.type,
        items: input.items,
        method: input.method,
        agreedAt: input.agreedAt,
        recordedBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as CommitmentRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { type: created.type, method: created.method, episodeId: created.episodeId };
    return toCommitmentResponse(created);
  });
}
