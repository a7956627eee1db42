import { and, asc, desc, eq, gte, inArray, isNull, lt, min, ne, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import {
  clients,
  clinicalEvents,
  diaryCards,
  diaryDays,
  individualSessions,
  lifeThreateningEventKinds,
  sessionAgendas,
  targets,
} from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { openEventsWithoutChain } from '../chain-analyses/chain-analyses.service.js';
import { defaultPolicy, policyInForce } from '../programs/programs.queries.js';
import { authorizeSession, type SessionRow } from '../sessions/sessions.service.js';
import { type AgendaInput, computeAgenda, weekStartOf } from './agenda.compute.js';
import type { AgendaItem, AgendaResponse, PutAgendaBody } from './agenda.schema.js';

const DAY = 86_400_000;
const dateOf = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Gathers the client's data for the window [previous attended or late session, this session) and
 * computes the agenda. Without an earlier attended session the window opens at the client's first
 * diary day, but never more than 28 days before the session. Every query is by clinic and client.
 */
async function computeFor(db: DbOrTx, session: SessionRow): Promise<{ items: AgendaItem[]; from: Date; to: Date }> {
  const { clinicId, clientId } = session;
  const to = session.scheduledStart;
  const s = individualSessions;
  const ofClient = and(eq(s.clinicId, clinicId), eq(s.clientId, clientId));
  const [previous] = await db
    .select({ id: s.id, scheduledStart: s.scheduledStart, homework: s.homework })
    .from(s)
    .where(and(ofClient, lt(s.scheduledStart, to), inArray(s.attendance, ['attended', 'late']), ne(s.id, session.id)))
    .orderBy(desc(s.scheduledStart), desc(s.id))
    .limit(1);
  let from = previous?.scheduledStart;
  if (!from) {
    const floor = new Date(to.getTime() - 28 * DAY);
    const [first] = await db
      .select({ day: min(diaryDays.day) })
      .from(diaryDays)
      .innerJoin(diaryCards, and(eq(diaryCards.clinicId, diaryDays.clinicId), eq(diaryCards.id, diaryDays.cardId)))
      .where(and(eq(diaryCards.clinicId, clinicId), eq(diaryCards.clientId, clientId), gte(diaryDays.day, dateOf(floor))));
    from = first?.day ? new Date(`${first.day}T00:00:00.000Z`) : floor;
  }

  const [client] = await db
    .select({ programId: clients.programId })
    .from(clients)
    .where(and(eq(clients.clinicId, clinicId), eq(clients.id, clientId)));
  const policy = client ? await policyInForce(db, clinicId, client.programId, dateOf(to)) : undefined;
  const { weekStartsOn, agendaUrgeThreshold } = policy ?? defaultPolicy('adult');

  const firstWeek = weekStartOf(dateOf(from), weekStartsOn);
  const [days, targetRows, events, openEvents, sessions] = await Promise.all([
    db
      .select({ day: diaryDays.day, entry: diaryDays.entry, backFilled: diaryDays.backFilled })
      .from(diaryDays)
      .innerJoin(diaryCards, and(eq(diaryCards.clinicId, diaryDays.clinicId), eq(diaryCards.id, diaryDays.cardId)))
      .where(
        and(
          eq(diaryCards.clinicId, clinicId),
          eq(diaryCards.clientId, clientId),
          gte(diaryDays.day, firstWeek),
          lt(diaryDays.day, dateOf(to)),
        ),
      ),
    // The latest version of each target names its category and label.
    db
      .selectDistinctOn([targets.targetId], { targetId: targets.targetId, category: targets.category, label: targets.label })
      .from(targets)
      .where(and(eq(targets.clinicId, clinicId), eq(targets.clientId, clientId)))
      .orderBy(asc(targets.targetId), desc(targets.version)),
    db
      .select()
      .from(clinicalEvents)
      .where(
        and(
          eq(clinicalEvents.clinicId, clinicId),
          eq(clinicalEvents.clientId, clientId),
          inArray(clinicalEvents.kind, [...lifeThreateningEventKinds]),
          isNull(clinicalEvents.enteredInErrorAt),
          gte(clinicalEvents.occurredAt, from),
          lt(clinicalEvents.occurredAt, to),
        ),
      ),
    openEventsWithoutChain(db, clinicId, clientId),
    db
      .select({ id: s.id, scheduledStart: s.scheduledStart, attendance: s.attendance, lateMinutes: s.lateMinutes })
      .from(s)
      .where(and(ofClient, gte(s.scheduledStart, from), lt(s.scheduledStart, to), ne(s.id, session.id))),
  ]);
  const input: AgendaInput = {
    from,
    to,
    weekStartsOn,
    urgeThreshold: agendaUrgeThreshold,
    targets: targetRows,
    days,
    events,
    openEvents,
    sessions,
    previous: previous ?? null,
  };
  return { items: computeAgenda(input), from, to };
}

async function stored(db: DbOrTx, session: SessionRow, forUpdate = false) {
  const select = db
    .select()
    .from(sessionAgendas)
    .where(and(eq(sessionAgendas.clinicId, session.clinicId), eq(sessionAgendas.sessionId, session.id)));
  const [row] = forUpdate ? await select.for('update') : await select;
  return row;
}

const toResponse = (
  session: SessionRow,
  computed: { items: AgendaItem[]; from: Date; to: Date },
  saved: typeof sessionAgendas.$inferSelect | undefined,
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
  const computed = await computeFor(db, session);
  ctx.audit.resultCount = computed.items.length;
  return toResponse(session, computed, await stored(db, session));
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
    const existing = await stored(tx, session, true);
    if (existing) checkIfMatch(ifMatch, existing.version);
    else if (ifMatch) throw new AppError('precondition_failed', 'This session has no saved agenda yet; save it without If-Match');
    const computed = await computeFor(tx, session);
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
