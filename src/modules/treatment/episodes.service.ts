import { and, eq, gte, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { clients, commitments, type dischargeReasons, type EpisodeStatus, treatmentEpisodes } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { policyInForce, today } from '../programs/programs.queries.js';
import { type EpisodeRow, episodesOf, lockClient, policyOfEpisode } from './episodes.queries.js';
import type { EpisodeResponse, OpenEpisodeBody, TransitionBody } from './treatment.schema.js';

type DischargeReason = (typeof dischargeReasons)[number];

/** The moves an episode may make, and the discharge reasons each status allows. */
const allowedMoves: Record<EpisodeStatus, EpisodeStatus[]> = {
  referred: ['pretreatment', 'discharged'],
  pretreatment: ['active', 'discharged'],
  active: ['discharged'],
  discharged: [],
};
const allowedReasons: Record<EpisodeStatus, DischargeReason[]> = {
  referred: ['declined_commitment', 'transferred', 'dropped_out', 'clinical'],
  pretreatment: ['dropped_out', 'clinical', 'declined_commitment', 'transferred'],
  active: ['completed', 'four_miss', 'dropped_out', 'clinical', 'declined_commitment', 'transferred'],
  discharged: [],
};

export const toEpisodeResponse = (row: EpisodeRow): EpisodeResponse => ({
  id: row.id,
  clientId: row.clientId,
  programId: row.programId,
  policyVersion: row.policyVersion,
  status: row.status,
  referredOn: row.referredOn,
  pretreatmentOn: row.pretreatmentOn,
  contractStart: row.contractStart,
  contractEnd: row.contractEnd,
  dischargedOn: row.dischargedOn,
  dischargeReason: row.dischargeReason,
  reEntryEligibleOn: row.reEntryEligibleOn,
  fourMissMetOn: row.fourMissMetOn,
  fourMissModalities: row.fourMissModalities,
  notes: row.notes,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** date + weeks, both as YYYY-MM-DD in UTC. */
export function addWeeks(date: string, weeks: number): string {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + weeks * 7);
  return day.toISOString().slice(0, 10);
}

/** The date the episode entered its current status: no later step may be dated before it. */
function stepDate(episode: EpisodeRow): string {
  switch (episode.status) {
    case 'pretreatment':
      return episode.pretreatmentOn ?? episode.referredOn;
    case 'active':
      return episode.contractStart ?? episode.pretreatmentOn ?? episode.referredOn;
    case 'discharged':
      return episode.dischargedOn ?? episode.referredOn;
    default:
      return episode.referredOn;
  }
}

/** The client's status mirrors its current episode and changes in the same transaction. */
async function setClientStatus(tx: DbOrTx, clinicId: string, clientId: string, status: EpisodeStatus) {
  await tx
    .update(clients)
    .set({ status, version: sql`${clients.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(clients.clinicId, clinicId), eq(clients.id, clientId)));
}

export async function listEpisodes(db: Db, ctx: AuthedContext, clientId: string) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const rows = await episodesOf(db, ctx.actor.clinicId, clientId);
  ctx.audit.resultCount = rows.length;
  return { items: rows.map(toEpisodeResponse) };
}

/**
 * After a four-miss discharge the client is out until the contract's end, and returns only by
 * renegotiating: a recommitment agreed on or after the discharge date. Lists every missing condition.
 */
async function checkReEntry(tx: DbOrTx, clinicId: string, clientId: string, discharged: EpisodeRow, referredOn: string) {
  const dischargedOn = discharged.dischargedOn ?? discharged.referredOn;
  const eligibleOn = discharged.reEntryEligibleOn ?? dischargedOn;
  const missing: string[] = [];
  if (referredOn < eligibleOn) missing.push(`the client may re-enter from ${eligibleOn}, not on ${referredOn}`);
  const [recommitment] = await tx
    .select({ id: commitments.id })
    .from(commitments)
    .where(
      and(
        eq(commitments.clinicId, clinicId),
        eq(commitments.clientId, clientId),
        eq(commitments.type, 'recommitment'),
        gte(commitments.agreedAt, new Date(`${dischargedOn}T00:00:00Z`)),
      ),
    )
    .limit(1);
  if (!recommitment) missing.push(`no commitment of type 'recommitment' has been agreed since the discharge`);
  if (missing.length > 0) {
    throw new AppError('conflict', `Re-entry after the four-miss discharge of ${dischargedOn} is not possible yet: ${missing.join('; ')}`);
  }
}

/** Opens a new referred episode: one open episode per client; four-miss re-entry has conditions. */
export function openEpisode(db: Db, ctx: AuthedContext, clientId: string, input: OpenEpisodeBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    const clinicId = ctx.actor.clinicId;
    const client = await authorizeClient(tx, ctx, clientId, 'clinical');
    await lockClient(tx, clinicId, clientId);
    const referredOn = input.referredOn ?? today();
    if (referredOn > today()) throw invalidField('referredOn', 'must not be in the future');
    const [latest] = await episodesOf(tx, clinicId, clientId);
    if (latest && latest.status !== 'discharged') {
      throw new AppError(
        'conflict',
        `The client already has an open episode (${latest.status}, referred ${latest.referredOn}); discharge it before opening another`,
      );
    }
    if (latest?.dischargeReason === 'four_miss') await checkReEntry(tx, clinicId, clientId, latest, referredOn);
    if (latest?.dischargedOn && referredOn < latest.dischargedOn) {
      throw invalidField('referredOn', `must not be before the last discharge (${latest.dischargedOn})`);
    }
    const policy = await policyInForce(tx, clinicId, client.programId, referredOn);
    if (!policy) throw invalidField('referredOn', `no policy of the client's program is in force on ${referredOn}`);
    const [episode] = await tx
      .insert(treatmentEpisodes)
      .values({
        clinicId,
        id: uuidv7(),
        clientId,
        programId: client.programId,
        policyVersion: policy.version,
        status: 'referred',
        referredOn,
        notes: input.notes ?? null,
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = episode as EpisodeRow;
    await setClientStatus(tx, clinicId, clientId, 'referred');
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { from: null, to: 'referred', policyVersion: policy.version };
    return toEpisodeResponse(created);
  });
}

/** What the move writes on the episode, after checking its dates against the previous step. */
async function changeFor(tx: DbOrTx, episode: EpisodeRow, input: TransitionBody, on: string): Promise<Partial<EpisodeRow>> {
  const previous = stepDate(episode);
  if (on < previous) throw invalidField('on', `must not be before ${previous}, when the episode became ${episode.status}`);
  if (input.to === 'pretreatment') return { pretreatmentOn: on };
  if (input.to === 'active') {
    const contractStart = input.contractStart ?? on;
    if (contractStart < previous)
      throw invalidField('contractStart', `must not be before ${previous}, when the episode became ${episode.status}`);
    const policy = await policyOfEpisode(tx, episode);
    if (!policy) throw new Error(`policy version ${episode.policyVersion} of program ${episode.programId} is missing`);
    const contractEnd = input.contractEnd ?? addWeeks(contractStart, policy.contractWeeks);
    if (contractEnd <= contractStart) throw invalidField('contractEnd', `must be after the contract start (${contractStart})`);
    return { contractStart, contractEnd };
  }
  return {
    dischargedOn: on,
    dischargeReason: input.reason,
    reEntryEligibleOn: input.reason === 'four_miss' ? (episode.contractEnd ?? on) : null,
  };
}

/** Moves an episode along referred → pretreatment → active → discharged; the client's status follows. */
export function transitionEpisode(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  episodeId: string,
  ifMatch: string | undefined,
  input: TransitionBody,
) {
  return auditedTransaction(db, ctx, async (tx) => {
    const clinicId = ctx.actor.clinicId;
    await authorizeClient(tx, ctx, clientId, 'clinical');
    await lockClient(tx, clinicId, clientId);
    ctx.audit.resourceId = episodeId;
    const [episode] = await tx
      .select()
      .from(treatmentEpisodes)
      .where(and(eq(treatmentEpisodes.clinicId, clinicId), eq(treatmentEpisodes.clientId, clientId), eq(treatmentEpisodes.id, episodeId)))
      .for('update');
    if (!episode) throw notFound('Treatment episode');
    checkIfMatch(ifMatch, episode.version);
    const from = episode.status;
    const moves = allowedMoves[from];
    if (!moves.includes(input.to)) {
      const allowed = moves.length > 0 ? moves.join(', ') : 'none (a discharged episode is closed; open a new episode instead)';
      throw new AppError('conflict', `The episode is ${from} and cannot move to ${input.to}. Allowed from ${from}: ${allowed}`);
    }
    const reason = input.to === 'discharged' ? input.reason : null;
    if (reason && !allowedReasons[from].includes(reason)) {
      throw new AppError(
        'conflict',
        `The episode is ${from} and cannot be discharged as ${reason}. Allowed reasons from ${from}: ${allowedReasons[from].join(', ')}`,
      );
    }
    const change = await changeFor(tx, episode, input, input.on ?? today());
    const [updated] = await tx
      .update(treatmentEpisodes)
      .set({
        ...change,
        status: input.to,
        ...(input.notes === undefined ? {} : { notes: input.notes }),
        version: episode.version + 1,
        updatedAt: sql`now()`,
      })
      .where(and(eq(treatmentEpisodes.clinicId, clinicId), eq(treatmentEpisodes.id, episodeId)))
      .returning();
    await setClientStatus(tx, clinicId, clientId, input.to);
    if (input.to === 'active') await reevaluateFourMiss(tx, clinicId, [clientId], ctx.audit);
    ctx.audit.details = { from, to: input.to, reason };
    return toEpisodeResponse(updated as EpisodeRow);
  });
}
