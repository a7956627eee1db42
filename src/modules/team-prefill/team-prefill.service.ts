import { and, eq, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, Tx } from '../../db/client.js';
import { agendaItems, agendaProposals, teamMeetings } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeMeeting, type MeetingRow } from '../../policy/team-access.js';
import { listMeetingProposals, type ProposalRow, prefillMeeting } from './team-prefill.queries.js';
import type {
  AcceptedProposalResponse,
  AcceptProposalBody,
  DismissProposalBody,
  ListProposalsQuery,
  ProposalListResponse,
  ProposalResponse,
} from './team-prefill.schema.js';

const toProposalResponse = (row: ProposalRow): ProposalResponse => ({
  id: row.id,
  meetingId: row.meetingId,
  clientId: row.clientId,
  kind: row.kind,
  category: row.category,
  summary: row.summary,
  evidence: row.evidence,
  status: row.status,
  decidedBy: row.decidedBy,
  decidedAt: row.decidedAt,
  dismissReason: row.dismissReason,
  agendaItemId: row.agendaItemId,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

function toList(ctx: AuthedContext, meeting: MeetingRow, rows: ProposalRow[]): ProposalListResponse {
  ctx.audit.clientIds.push(...rows.map((row) => row.clientId));
  ctx.audit.resultCount = rows.length;
  return {
    meetingId: meeting.id,
    prefillSince: meeting.prefillSince,
    prefilledAt: meeting.prefilledAt,
    items: rows.map(toProposalResponse),
  };
}

/** The meeting's proposals in agenda order, optionally in one state. */
export async function listProposals(db: Db, ctx: AuthedContext, meetingId: string, query: ListProposalsQuery) {
  const { meeting, team } = await authorizeMeeting(db, ctx, meetingId, 'member');
  return toList(ctx, meeting, await listMeetingProposals(db, team, meeting.id, query.status));
}

/**
 * Runs the pre-fill again (for a meeting created ahead of time, or after new data came in): new
 * proposals are added and open ones brought up to date; decided ones stay as they were.
 */
export function refreshPrefill(db: Db, ctx: AuthedContext, meetingId: string): Promise<ProposalListResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const { meeting, team } = await authorizeMeeting(tx, ctx, meetingId, 'member', { forUpdate: true });
    const { proposals } = await prefillMeeting(tx, team, meeting);
    // prefilledAt is bookkeeping of the pre-fill, not a change to the meeting record: no new version.
    const [stamped] = await tx
      .update(teamMeetings)
      .set({ prefilledAt: sql`now()` })
      .where(and(eq(teamMeetings.clinicId, meeting.clinicId), eq(teamMeetings.id, meeting.id)))
      .returning({ prefilledAt: teamMeetings.prefilledAt });
    ctx.audit.details = {
      since: meeting.prefillSince.toISOString(),
      proposed: proposals.filter((row) => row.status === 'proposed').length,
    };
    return toList(ctx, { ...meeting, prefilledAt: stamped?.prefilledAt ?? meeting.prefilledAt }, proposals);
  });
}

/** A proposal of the meeting, locked, that has not been decided yet (else 409). */
async function openProposal(tx: Tx, ctx: AuthedContext, meetingId: string, proposalId: string) {
  await authorizeMeeting(tx, ctx, meetingId, 'member');
  ctx.audit.resourceId = proposalId;
  const [row] = await tx
    .select()
    .from(agendaProposals)
    .where(
      and(eq(agendaProposals.clinicId, ctx.actor.clinicId), eq(agendaProposals.meetingId, meetingId), eq(agendaProposals.id, proposalId)),
    )
    .for('update');
  if (!row) throw notFound('Agenda proposal');
  ctx.audit.clientIds.push(row.clientId);
  ctx.audit.details = { meetingId, kind: row.kind };
  if (row.status !== 'proposed') throw new AppError('conflict', `This proposal was already ${row.status}`);
  return row;
}

async function decide(tx: Tx, row: ProposalRow, change: Partial<ProposalRow>, staffId: string) {
  const [updated] = await tx
    .update(agendaProposals)
    .set({ ...change, decidedBy: staffId, decidedAt: sql`now()`, version: row.version + 1, updatedAt: sql`now()` })
    .where(and(eq(agendaProposals.clinicId, row.clinicId), eq(agendaProposals.id, row.id)))
    .returning();
  return updated as ProposalRow;
}

const defaultQuestion = (summary: string) => `${summary} — what does the team need to consider?`.slice(0, 2000);

/** Puts the proposal on the agenda as an open item requested by the caller, and marks it accepted. */
export function acceptProposal(
  db: Db,
  ctx: AuthedContext,
  meetingId: string,
  proposalId: string,
  input: AcceptProposalBody,
): Promise<AcceptedProposalResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const row = await openProposal(tx, ctx, meetingId, proposalId);
    const agendaItemId = uuidv7();
    await tx.insert(agendaItems).values({
      clinicId: row.clinicId,
      id: agendaItemId,
      meetingId,
      requestedBy: ctx.actor.staffId,
      requestedAt: sql`now()`,
      clientId: row.clientId,
      category: row.category,
      question: input.question ?? defaultQuestion(row.summary),
      minutesRequested: input.minutesRequested,
      proposalId: row.id,
      status: 'open',
    });
    const accepted = await decide(tx, row, { status: 'accepted', agendaItemId }, ctx.actor.staffId);
    ctx.audit.details = { ...ctx.audit.details, agendaItemId, minutesRequested: input.minutesRequested };
    return { proposal: toProposalResponse(accepted), agendaItemId };
  });
}

/** Marks the proposal dismissed, with who did it and why. */
export function dismissProposal(
  db: Db,
  ctx: AuthedContext,
  meetingId: string,
  proposalId: string,
  input: DismissProposalBody,
): Promise<ProposalResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const row = await openProposal(tx, ctx, meetingId, proposalId);
    return toProposalResponse(await decide(tx, row, { status: 'dismissed', dismissReason: input.reason }, ctx.actor.staffId));
  });
}
