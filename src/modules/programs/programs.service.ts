import { and, asc, desc, eq, gt, inArray } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { modalities, programPolicies, programs, treatmentEpisodes, twentyFourHourTriggers } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { defaultPolicy, insertProgram, type PolicySettings, type ProgramPolicyRow, today } from './programs.queries.js';
import type { ChangePolicyBody, CreateProgramBody, ListProgramsQuery, PolicyVersionResponse, ProgramResponse } from './programs.schema.js';

type ProgramRow = typeof programs.$inferSelect;

/** The settings a policy version holds, in one order, for responses and for the audit's before/after. */
const settingKeys = Object.keys(defaultPolicy('adult')) as Array<keyof PolicySettings>;

export const toPolicyVersionResponse = (row: ProgramPolicyRow): PolicyVersionResponse => ({
  version: row.version,
  effectiveFrom: row.effectiveFrom,
  ...(Object.fromEntries(settingKeys.map((key) => [key, row[key]])) as PolicySettings),
  contractWeeks: row.contractWeeks,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
});

const toProgramResponse = (program: ProgramRow, shown: ProgramPolicyRow | undefined, latestVersion: number): ProgramResponse => ({
  id: program.id,
  name: program.name,
  kind: program.kind,
  createdAt: program.createdAt,
  policy: shown ? toPolicyVersionResponse(shown) : null,
  latestPolicyVersion: latestVersion,
});

/** Lists keep their fixed order (the one the enum gives), so a reordering is not a change of policy. */
function canonical<T extends Partial<PolicySettings>>(settings: T): T {
  const result = { ...settings };
  if (result.countedModalities) result.countedModalities = modalities.filter((m) => result.countedModalities?.includes(m));
  if (result.twentyFourHourTriggers) {
    result.twentyFourHourTriggers = twentyFourHourTriggers.filter((t) => result.twentyFourHourTriggers?.includes(t));
  }
  return result;
}

/** Every policy version of the given programs, newest first. */
async function policyVersionsOf(db: DbOrTx, clinicId: string, programIds: string[]): Promise<ProgramPolicyRow[]> {
  if (programIds.length === 0) return [];
  return db
    .select()
    .from(programPolicies)
    .where(and(eq(programPolicies.clinicId, clinicId), inArray(programPolicies.programId, programIds)))
    .orderBy(desc(programPolicies.version));
}

/**
 * The version in force on a date, by the rule policyInForce applies in SQL: the latest effective
 * date on or before it, and of versions effective the same day the newest.
 */
function inForceOn(versions: ProgramPolicyRow[], onDate: string): ProgramPolicyRow | undefined {
  let found: ProgramPolicyRow | undefined;
  for (const version of versions) {
    if (version.effectiveFrom > onDate) continue;
    if (
      !found ||
      version.effectiveFrom > found.effectiveFrom ||
      (version.effectiveFrom === found.effectiveFrom && version.version > found.version)
    ) {
      found = version;
    }
  }
  return found;
}

const latestOf = (versions: ProgramPolicyRow[]) => Math.max(0, ...versions.map((version) => version.version));

async function findProgram(db: DbOrTx, ctx: AuthedContext, id: string): Promise<ProgramRow> {
  ctx.audit.resourceId = id;
  const [row] = await db
    .select()
    .from(programs)
    .where(and(eq(programs.clinicId, ctx.actor.clinicId), eq(programs.id, id)));
  if (!row) throw notFound('Program');
  return row;
}

export function createProgram(db: Db, ctx: AuthedContext, input: CreateProgramBody): Promise<ProgramResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const effectiveFrom = input.effectiveFrom ?? today();
      const overrides = canonical(input.policy ?? {});
      const { program, policy } = await insertProgram(tx, {
        clinicId: ctx.actor.clinicId,
        name: input.name,
        kind: input.kind,
        effectiveFrom,
        createdBy: ctx.actor.staffId,
        policy: overrides,
      });
      ctx.audit.resourceId = program.id;
      ctx.audit.details = { kind: program.kind, effectiveFrom, overrides };
      return toProgramResponse(program, policy, policy.version);
    }),
    () => new AppError('conflict', 'A program with this name already exists in the clinic'),
  );
}

export async function listPrograms(db: Db, ctx: AuthedContext, query: ListProgramsQuery) {
  const rows = await db
    .select()
    .from(programs)
    .where(and(eq(programs.clinicId, ctx.actor.clinicId), query.cursor ? gt(programs.id, query.cursor) : undefined))
    .orderBy(asc(programs.id))
    .limit(query.limit + 1);
  const shown = rows.slice(0, query.limit);
  const versions = await policyVersionsOf(
    db,
    ctx.actor.clinicId,
    shown.map((program) => program.id),
  );
  const onDate = today();
  // The extra row that only tells whether another page follows needs no policy.
  const items = rows.map((program) => {
    const own = versions.filter((version) => version.programId === program.id);
    return toProgramResponse(program, inForceOn(own, onDate), latestOf(own));
  });
  const result = toPage(items, query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

/** A program with the policy in force on a date (today unless `at` names one). */
export async function readProgram(db: Db, ctx: AuthedContext, id: string, at: string | undefined) {
  const program = await findProgram(db, ctx, id);
  const versions = await policyVersionsOf(db, ctx.actor.clinicId, [id]);
  const inForce = inForceOn(versions, at ?? today());
  if (at && !inForce) {
    const first = versions.at(-1)?.effectiveFrom;
    throw new AppError('not_found', `No policy of this program was in force on ${at}${first ? `; the first took effect on ${first}` : ''}`);
  }
  ctx.audit.resultCount = 1;
  return toProgramResponse(program, inForce, latestOf(versions));
}

export async function listPolicyVersions(db: Db, ctx: AuthedContext, id: string) {
  await findProgram(db, ctx, id);
  const versions = await policyVersionsOf(db, ctx.actor.clinicId, [id]);
  ctx.audit.resultCount = versions.length;
  return { items: versions.map(toPolicyVersionResponse) };
}

/** The audit's before/after: only what differs between the version replaced and the new one. */
function changesBetween(before: ProgramPolicyRow, after: ProgramPolicyRow) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of ['version', 'effectiveFrom', ...settingKeys] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[key] = { from: before[key], to: after[key] };
  }
  return changes;
}

/**
 * A policy change is a new version; earlier ones stay as they were. The program row is locked so
 * two changes made from the same version cannot both succeed: the second gets 412.
 */
export function changePolicy(db: Db, ctx: AuthedContext, id: string, ifMatch: string | undefined, input: ChangePolicyBody) {
  return auditedTransaction(db, ctx, async (tx) => {
    ctx.audit.resourceId = id;
    const [program] = await tx
      .select({ id: programs.id })
      .from(programs)
      .where(and(eq(programs.clinicId, ctx.actor.clinicId), eq(programs.id, id)))
      .for('update');
    if (!program) throw notFound('Program');
    const [latest] = await tx
      .select()
      .from(programPolicies)
      .where(and(eq(programPolicies.clinicId, ctx.actor.clinicId), eq(programPolicies.programId, id)))
      .orderBy(desc(programPolicies.version))
      .limit(1);
    if (!latest) throw new Error(`program ${id} has no policy version`);
    checkIfMatch(ifMatch, latest.version);
    const { effectiveFrom = today(), ...settings } = input;
    const [created] = await tx
      .insert(programPolicies)
      .values({
        clinicId: ctx.actor.clinicId,
        programId: id,
        version: latest.version + 1,
        effectiveFrom,
        createdBy: ctx.actor.staffId,
        ...canonical(settings),
      })
      .returning();
    const row = created as ProgramPolicyRow;
    const active = await tx
      .select({ clientId: treatmentEpisodes.clientId })
      .from(treatmentEpisodes)
      .where(
        and(
          eq(treatmentEpisodes.clinicId, ctx.actor.clinicId),
          eq(treatmentEpisodes.programId, id),
          eq(treatmentEpisodes.status, 'active'),
        ),
      );
    await reevaluateFourMiss(
      tx,
      ctx.actor.clinicId,
      active.map((episode) => episode.clientId),
      ctx.audit,
    );
    ctx.audit.details = changesBetween(latest, row);
    return toPolicyVersionResponse(row);
  });
}
