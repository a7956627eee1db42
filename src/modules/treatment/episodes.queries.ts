import { and, desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { clients, programPolicies, treatmentEpisodes } from '../../db/schema/index.js';
import { uuidv7 } from '../../lib/ids.js';

export type EpisodeRow = typeof treatmentEpisodes.$inferSelect;

/** Opens a referred episode; registration does this for every new client. */
export async function insertReferredEpisode(
  db: DbOrTx,
  input: { clinicId: string; clientId: string; programId: string; policyVersion: number; referredOn: string; createdBy: string },
): Promise<EpisodeRow> {
  const [episode] = await db
    .insert(treatmentEpisodes)
    .values({ ...input, id: uuidv7(), status: 'referred' })
    .returning();
  return episode as EpisodeRow;
}

/**
 * Locks the client's row for the rest of the transaction. Every change to a client's episodes or
 * stage history takes this lock first, so two such changes for one client run one after the other.
 */
export async function lockClient(tx: DbOrTx, clinicId: string, clientId: string): Promise<void> {
  await tx
    .select({ id: clients.id })
    .from(clients)
    .where(and(eq(clients.clinicId, clinicId), eq(clients.id, clientId)))
    .for('update');
}

/** A client's episodes, newest first. */
export function episodesOf(db: DbOrTx, clinicId: string, clientId: string): Promise<EpisodeRow[]> {
  return db
    .select()
    .from(treatmentEpisodes)
    .where(and(eq(treatmentEpisodes.clinicId, clinicId), eq(treatmentEpisodes.clientId, clientId)))
    .orderBy(desc(treatmentEpisodes.referredOn), desc(treatmentEpisodes.createdAt), desc(treatmentEpisodes.id))
    .prepare('client_episodes')
    .execute();
}

/** The policy version an episode's contract was made under. */
export async function policyOfEpisode(db: DbOrTx, episode: EpisodeRow) {
  const [policy] = await db
    .select()
    .from(programPolicies)
    .where(
      and(
        eq(programPolicies.clinicId, episode.clinicId),
        eq(programPolicies.programId, episode.programId),
        eq(programPolicies.version, episode.policyVersion),
      ),
    );
  return policy;
}
