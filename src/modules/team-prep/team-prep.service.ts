import { and, eq, inArray } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { agendaItems, clients, staff } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { authorizeClient } from '../../policy/client-access.js';
import { authorizeMeeting, type MeetingRow, type TeamRow } from '../../policy/team-access.js';
import { clinicToday } from '../attendance/attendance.queries.js';
import { compareAgendaItems } from '../team-agenda/team-agenda.compute.js';
import { categoryOrderOf } from '../teams/teams.service.js';
import { loadClientSummaries, prepPeriod } from './team-prep.queries.js';
import type { ClientSummary, PacketClient, PrepFormat, TeamPrepPacket, TeamSummaryResponse } from './team-prep.schema.js';

/**
 * The meeting's open and discussed items (withdrawn and carried-over ones are not on this
 * agenda) in agenda order (as the agenda orders them).
 */
async function loadPacketItems(db: DbOrTx, meeting: MeetingRow, team: TeamRow) {
  const ai = agendaItems;
  const rows = await db
    .select({
      id: ai.id,
      clientId: ai.clientId,
      category: ai.category,
      question: ai.question,
      minutesRequested: ai.minutesRequested,
      requestedAt: ai.requestedAt,
      clarity: ai.clarity,
      motivation: ai.motivation,
      obstacles: ai.obstacles,
      obstaclesNote: ai.obstaclesNote,
      carriedFromId: ai.carriedFromId,
      requestedBy: { id: staff.id, displayName: staff.displayName },
      client: { givenName: clients.givenName, preferredName: clients.preferredName, familyName: clients.familyName },
    })
    .from(ai)
    .innerJoin(staff, and(eq(staff.clinicId, ai.clinicId), eq(staff.id, ai.requestedBy)))
    .leftJoin(clients, and(eq(clients.clinicId, ai.clinicId), eq(clients.id, ai.clientId)))
    .where(and(eq(ai.clinicId, meeting.clinicId), eq(ai.meetingId, meeting.id), inArray(ai.status, ['open', 'discussed'])));
  return rows.sort(compareAgendaItems(categoryOrderOf(team)));
}

type ItemRow = Awaited<ReturnType<typeof loadPacketItems>>[number];

const itemOf = (row: ItemRow) => ({
  id: row.id,
  category: row.category,
  question: row.question,
  minutesRequested: row.minutesRequested,
  requestedBy: row.requestedBy,
});

const clientItemOf = (row: ItemRow) => ({
  ...itemOf(row),
  clarity: row.clarity,
  motivation: row.motivation,
  obstacles: row.obstacles,
  obstaclesNote: row.obstaclesNote,
  carriedOver: row.carriedFromId !== null,
});

/** The name the team uses: the preferred name (or the given one) and the family name. */
const nameOf = (client: NonNullable<ItemRow['client']>) => `${client.preferredName ?? client.givenName} ${client.familyName}`;

function summaryOf(summaries: Map<string, ClientSummary>, clientId: string): ClientSummary {
  const summary = summaries.get(clientId);
  if (!summary) throw new Error(`no summary loaded for client ${clientId}`);
  return summary;
}

/**
 * A meeting's prep packet, for current members of its team: for each client on the agenda, the
 * items about them and the summary of their last four weeks; then the items about no client. One
 * audit record lists every client the packet shows.
 */
export async function readMeetingPrep(db: Db, ctx: AuthedContext, meetingId: string, format: PrepFormat): Promise<TeamPrepPacket> {
  const { meeting, team } = await authorizeMeeting(db, ctx, meetingId);
  const rows = await loadPacketItems(db, meeting, team);
  const period = prepPeriod(meeting.date);
  const byClient = new Map<string, { name: string; rows: ItemRow[] }>();
  for (const row of rows) {
    if (!row.clientId || !row.client) continue;
    const entry = byClient.get(row.clientId) ?? { name: nameOf(row.client), rows: [] };
    entry.rows.push(row);
    byClient.set(row.clientId, entry);
  }
  const clientIds = [...byClient.keys()];
  const summaries = await loadClientSummaries(db, ctx.actor.clinicId, clientIds, period);
  const packetClients = [...byClient.entries()].map(
    ([id, entry]): PacketClient => ({
      client: { id, name: entry.name },
      items: entry.rows.map(clientItemOf),
      ...summaryOf(summaries, id),
    }),
  );
  const otherItems = rows.filter((row) => !row.clientId).map(itemOf);

  ctx.audit.clientIds.push(...clientIds);
  ctx.audit.resultCount = clientIds.length;
  ctx.audit.details = { format, items: rows.length, clients: clientIds.length };
  return {
    meeting: { id: meeting.id, teamId: team.id, teamName: team.name, date: meeting.date, durationMinutes: meeting.durationMinutes },
    generatedAt: new Date(),
    period,
    clients: packetClients,
    otherItems,
  };
}

/** The same summary of one client, over the four weeks ending today, for a team member outside a meeting. */
export async function readTeamSummary(db: Db, ctx: AuthedContext, clientId: string): Promise<TeamSummaryResponse> {
  ctx.audit.resourceId = clientId;
  await authorizeClient(db, ctx, clientId, 'team');
  const period = prepPeriod(await clinicToday(db, ctx.actor.clinicId));
  const summaries = await loadClientSummaries(db, ctx.actor.clinicId, [clientId], period);
  ctx.audit.resultCount = 1;
  return { clientId, period, ...summaryOf(summaries, clientId) };
}
