import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { clients } from '../db/schema/index.js';
import type { AuthedContext } from '../lib/context.js';
import { AppError, notFound } from '../lib/errors.js';
import { findActiveGrant } from './break-glass.js';

export type ClientRow = typeof clients.$inferSelect;

/**
 * What the caller wants of the client: its registration (name, contact, program, therapist) or
 * its clinical record (episodes' notes, stages, commitments, goals, targets and everything later).
 */
export type ClientAccess = 'registration' | 'clinical';

/**
 * The relationship check for one client, after the route's role check. Deny by default; allow with
 * a basis that goes into the audit record:
 *   - administrators: the registration only;
 *   - the primary therapist: everything;
 *   - anyone holding a break-glass grant for the client that is in force now: everything, flagged.
 * Team members and group trainers get their narrower views with their modules.
 * A client of another clinic is a 404, never a 403, so its existence is not revealed.
 */
export async function authorizeClient(db: DbOrTx, ctx: AuthedContext, clientId: string, access: ClientAccess): Promise<ClientRow> {
  const [client] = await db
    .select()
    .from(clients)
    .where(and(eq(clients.clinicId, ctx.actor.clinicId), eq(clients.id, clientId)));
  if (!client) throw notFound('Client');
  ctx.audit.clientIds.push(client.id);
  const rule = ctx.basis?.rule ?? 'clients';
  if (access === 'registration' && ctx.actor.roles.includes('admin')) {
    ctx.basis = { rule, role: 'admin', relationship: 'registration-only' };
    return client;
  }
  if (client.primaryTherapistId === ctx.actor.staffId) {
    ctx.basis = { rule, relationship: 'primary-therapist' };
    return client;
  }
  const grant = await findActiveGrant(db, ctx.actor.clinicId, ctx.actor.staffId, client.id);
  if (grant) {
    ctx.basis = { rule, relationship: 'break-glass', grantId: grant.id };
    return client;
  }
  throw new AppError('forbidden', 'You have no care relationship with this client', { denialReason: 'no-relationship' });
}
