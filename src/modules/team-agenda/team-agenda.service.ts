import { and, eq, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { type AgendaCategory, agendaItems, clients } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeMeeting, heldByTeam, type TeamRow } from '../../policy/team-access.js';
import { categoryOrderOf } from '../teams/teams.service.js';
import { timeBoxAgenda } from './team-agenda.compute.js';
import type { AgendaItemResponse, AgendaResponse, CreateAgendaItemBody, UpdateAgendaItemBody } from './team-agenda.schema.js';

export type AgendaItemRow = typeof agendaItems.$inferSelect;

/** Categories about one client's behaviour: an item in them names the client. */
const clientCategories: readonly AgendaCategory[] = ['client_life_threatening', 'client_therapy_interfering'];

export const toAgendaItemResponse = (row: AgendaItemRow): AgendaItemResponse => ({
  id: row.id,
  meetingId: row.meetingId,
  requestedBy: row.requestedBy,
  requestedAt: row.requestedAt,
  clientId: row.clientId,
  category: row.category,
  question: row.question,
  minutesRequested: row.minutesRequested,
  clarity: row.clarity,
  motivation: row.motivation,
  obstacles: row.obstacles,
  obstaclesNote: row.obstaclesNote,
  outcome: row.outcome,
  plan: row.plan,
  followUpDue: row.followUpDue,
  status: row.status,
  carriedFromId: row.carriedFromId,
  proposalId: row.proposalId,
  version: row.version,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** The items of a meeting still on its agenda (open or discussed), in the team's order. */
const isScheduled = (item: Pick<AgendaItemRow, 'status'>) => item.status === 'open' || item.status === 'discussed';

function loadAgendaItems(db: DbOrTx, clinicId: string, meetingId: string) {
  return db
    .select()
    .from(agendaItems)
    .where(and(eq(agendaItems.clinicId, clinicId), eq(agendaItems.meetingId, meetingId)));
}

/** The agenda in the team's order, time-boxed by the meeting's duration less the opening. */
export async function readMeetingAgenda(db: Db, ctx: AuthedContext, meetingId: string): Promise<AgendaResponse> {
  const { meeting, team } = await authorizeMeeting(db, ctx, meetingId);
  const rows = await loadAgendaItems(db, meeting.clinicId, meeting.id);
  const order = categoryOrderOf(team);
  const boxed = timeBoxAgenda(rows.filter(isScheduled), order, meeting.durationMinutes, team.openingMinutes);
  const closed = rows.filter((row) => !isScheduled(row)).sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime());
  ctx.audit.clientIds.push(...new Set(rows.flatMap((row) => (row.clientId ? [row.clientId] : []))));
  ctx.audit.resultCount = rows.length;
  return {
    meetingId: meeting.id,
    date: meeting.date,
    durationMinutes: meeting.durationMinutes,
    openingMinutes: team.openingMinutes,
    availableMinutes: boxed.availableMinutes,
    requestedMinutes: boxed.requestedMinutes,
    overMinutes: boxed.overMinutes,
    categoryOrder: order,
    items: boxed.placed.map(({ item, position, startsAtMinute, fits }) => ({
      ...toAgendaItemResponse(item),
      position,
      startsAtMinute,
      fits,
    })),
    doesNotFit: boxed.placed.filter((placed) => !placed.fits).map((placed) => placed.item.id),
    closed: closed.map(toAgendaItemResponse),
  };
}

async function checkClient(tx: DbOrTx, team: TeamRow, clientId: string | null | undefined, category: AgendaCategory) {
  if (!clientId) {
    if (clientCategories.includes(category)) throw invalidField('clientId', `is required for the category ${category}`);
    return;
  }
  const [held] = await tx
    .select({ id: clients.id })
    .from(clients)
    .where(and(heldByTeam(team.clinicId, team.id), eq(clients.id, clientId)));
  if (!held) throw invalidField('clientId', 'must be a client this team holds');
}

/** A current member puts an item on the agenda. */
export function createAgendaItem(db: Db, ctx: AuthedContext, meetingId: string, input: CreateAgendaItemBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const { meeting, team } = await authorizeMeeting(tx, ctx, meetingId);
    await checkClient(tx, team, input.clientId, input.category);
    const [row] = await tx
      .insert(agendaItems)
      .values({
        clinicId: meeting.clinicId,
        id: uuidv7(),
        meetingId: meeting.id,
        requestedBy: ctx.actor.staffId,
        requestedAt: sql`now()`,
        clientId: input.clientId ?? null,
        category: input.category,
        question: input.question,
        minutesRequested: input.minutesRequested,
        clarity: input.clarity ?? null,
        motivation: input.motivation ?? null,
        obstacles: input.obstacles ?? [],
        obstaclesNote: input.obstaclesNote ?? null,
        followUpDue: input.followUpDue ?? null,
      })
      .returning();
    const item = row as AgendaItemRow;
    if (item.clientId) ctx.audit.clientIds.push(item.clientId);
    ctx.audit.details = { itemId: item.id, category: item.category };
    return toAgendaItemResponse(item);
  });
}

/** A current member keeps an item: its question, the Koerner fields, the outcome and plan, its status. */
export function updateAgendaItem(
  db: Db,
  ctx: AuthedContext,
  meetingId: string,
  itemId: string,
  ifMatch: string | undefined,
  input: UpdateAgendaItemBody,
) {
  return auditedTransaction(db, ctx, async (tx) => {
    const { meeting, team } = await authorizeMeeting(tx, ctx, meetingId);
    const [current] = await tx
      .select()
      .from(agendaItems)
      .where(and(eq(agendaItems.clinicId, meeting.clinicId), eq(agendaItems.meetingId, meeting.id), eq(agendaItems.id, itemId)))
      .for('update');
    if (!current) throw notFound('Agenda item');
    if (current.clientId) ctx.audit.clientIds.push(current.clientId);
    if (current.status === 'carried_over') {
      throw new AppError('conflict', 'This item was carried over to a later meeting; change it there');
    }
    checkIfMatch(ifMatch, current.version);
    if (input.category && !current.clientId) await checkClient(tx, team, null, input.category);
    ctx.audit.details = { itemId, fields: Object.keys(input).sort() };
    const [row] = await tx
      .update(agendaItems)
      .set({ ...input, version: current.version + 1, updatedAt: sql`now()` })
      .where(and(eq(agendaItems.clinicId, meeting.clinicId), eq(agendaItems.id, itemId)))
      .returning();
    return toAgendaItemResponse(row as AgendaItemRow);
  });
}
