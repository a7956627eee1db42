import { and, eq, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { sessionAgendas } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { defaultPolicy } from '../programs/programs.queries.js';
import { authorizeSession, type SessionRow } from '../sessions/sessions.service.js';
import { type AgendaInput, computeAgenda, dateOf, weekStartOf } from './agenda.compute.js';
import { loadWindow, loadWindowStart } from './agenda.queries.js';
import type { AgendaItem, AgendaResponse, PutAgendaBody } from './agenda.schema.js';

const DAY = 86_400_000;

/**
 * Gathers the client's data for the window [previous attended or late session, this session) and
 * computes the agenda. Without an earlier attended session the window opens at the client's first
 * diary day, but never more than 28 days before the session. Two statements, both by clinic and
 * client (agenda.queries.ts); `withSaved` also reads the therapist's saved order.
 */
async function computeFor(db: DbOrTx, session: SessionRow, withSaved = false) {
  const to = session.scheduledStart;
  const floor = new Date(to.getTime() - 28 * DAY);
  const start = await loadWindowStart(db, session, dateOf(floor));
  const from = start.previous?.scheduledStart ?? (start.firstDay ? new Date(`${start.firstDay}T00:00:00.000Z`) : floor);
  const { weekStartsOn, agendaUrgeThreshold } = start.policy ?? defaultPolicy('adult');
  const { saved, ...data } = await loadWindow(db, session, { from, firstWeek: weekStartOf(dateOf(from), weekStartsOn) }, withSaved);
  const input: AgendaInput = { from, to, weekStartsOn, urgeThreshold: agendaUrgeThreshold, ...data, previous: start.previous };
  return { computed: { items: computeAgenda(input), from, to }, saved };
}

/** The saved agenda, locked for the save that replaces it. */
async function lockSaved(tx: DbOrTx, session: SessionRow) {
  const [row] = await tx
    .select()
    .from(sessionAgendas)
    .where(and(eq(sessionAgendas.clinicId, session.clinicId), eq(sessionAgendas.sessionId, session.id)))
    .for('update');
  return row;
}

const toResponse = (
  session: SessionRow,
  computed: { items: AgendaItem[]; from: Date; to: Date },
  saved: { computed: unknown[]; final: unknown[]; version: number } | null | undefined,
): AgendaResponse => ({
  sessionId: session.id,
  window: { from: computed.from.toISOString(), to: computed.to.toISOString() },
  computed: computed.items,
  final: saved ? (saved.final as AgendaItem[]) : null,
  savedComputed: saved ? (saved.computed as AgendaItem[]) : null,
  version: saved?.version ?? null,
});

/** The agenda computed now from the hierarchy, with the therapist's saved order if there is one. */
export async function readAgenda(db: Db, ctx: AuthedContext, sessionId: string): Promise<AgendaResponse> {
  const session = await authorizeSession(db, ctx, sessionId);
  const { computed, saved } = await computeFor(db, session, true);
  ctx.audit.resultCount = computed.items.length;
  return toResponse(session, computed, saved);
}

/**
 * Saves the therapist's order: the current computation is kept as it is, and the final order is
 * the listed computed items followed by the added ones. The first save needs no If-Match; later
 * ones do. The session row is locked, so two first saves cannot both insert.
 */
export function saveAgenda(
  db: Db,
  ctx: AuthedContext,
  sessionId: string,
  ifMatch: string | undefined,
  input: PutAgendaBody,
): Promise<AgendaResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const session = await authorizeSession(tx, ctx, sessionId, true);
    const existing = await lockSaved(tx, session);
    if (existing) checkIfMatch(ifMatch, existing.version);
    else if (ifMatch) throw new AppError('precondition_failed', 'This session has no saved agenda yet; save it without If-Match');
    const { computed } = await computeFor(tx, session);
    const byId = new Map(computed.items.map((item) => [item.id, item]));
    const unknown = input.order.filter((id) => !byId.has(id));
    if (unknown.length > 0) throw invalidField('order', `not items of the current agenda: ${unknown.slice(0, 5).join(', ')}`);
    const now = new Date().toISOString();
    const final: AgendaItem[] = [
      ...input.order.map((id) => byId.get(id) as AgendaItem),
      ...input.added.map((added) => ({
        id: `therapist:${uuidv7()}`,
        category: added.category,
        kind: 'therapist',
        title: added.title,
        ...(added.note !== undefined ? { note: added.note } : {}),
        source: 'therapist' as const,
        evidence: [],
        severity: 0,
        lastAt: now,
      })),
    ];
    const version = (existing?.version ?? 0) + 1;
    const values = { computed: computed.items, final, version, updatedBy: ctx.actor.staffId, updatedAt: sql`now()` };
    const [row] = await tx
      .insert(sessionAgendas)
      .values({ clinicId: session.clinicId, sessionId: session.id, ...values })
      .onConflictDoUpdate({ target: [sessionAgendas.clinicId, sessionAgendas.sessionId], set: values })
      .returning();
    ctx.audit.details = { toVersion: version, ordered: input.order.length, added: input.added.length };
    return toResponse(session, computed, row);
  });
}
