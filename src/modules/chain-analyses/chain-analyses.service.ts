import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { chainAnalyses, clinicalEvents, individualSessions, skills, targets } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import {
  type ChainAnalysisResponse,
  type CreateChainAnalysisBody,
  checkAnchors,
  type ListChainAnalysesQuery,
  type UpdateChainAnalysisBody,
} from './chain-analyses.schema.js';

type ChainAnalysisRow = typeof chainAnalyses.$inferSelect;
type Links = NonNullable<CreateChainAnalysisBody['links']>;

const toChainAnalysisResponse = (row: ChainAnalysisRow): ChainAnalysisResponse => ({
  id: row.id,
  clientId: row.clientId,
  targetId: row.targetId,
  targetVersion: row.targetVersion,
  eventId: row.eventId,
  behaviourAt: row.behaviourAt,
  problemBehaviour: row.problemBehaviour,
  promptingEvent: row.promptingEvent,
  vulnerabilities: row.vulnerabilities,
  links: row.links,
  consequences: row.consequences,
  solutions: row.solutions,
  repair: row.repair,
  commitment: row.commitment,
  completedIn: row.completedIn,
  sessionId: row.sessionId,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Links keep the order they were sent in; absent optional parts are stored as null. */
const normalizeLinks = (links: Links) =>
  links.map((link) => ({
    type: link.type,
    text: link.text,
    skillfulAlternative: link.skillfulAlternative ?? null,
    skillId: link.skillId ?? null,
  }));

/**
 * The version of the client's target in force at the time of the behaviour; failing that the
 * current version, failing that the last one (a target retired before the behaviour).
 */
async function targetVersionAt(tx: DbOrTx, clinicId: string, clientId: string, targetId: string, at: Date): Promise<number> {
  const inForce = sql`${targets.effectiveFrom} <= ${at} and (${targets.effectiveTo} is null or ${targets.effectiveTo} > ${at})`;
  const [found] = await tx
    .select({ version: targets.version })
    .from(targets)
    .where(and(eq(targets.clinicId, clinicId), eq(targets.clientId, clientId), eq(targets.targetId, targetId)))
    .orderBy(desc(inForce), desc(isNull(targets.effectiveTo)), desc(targets.version))
    .limit(1);
  if (!found) throw invalidField('targetId', 'must be a target of this client');
  return found.version;
}

async function checkEvent(tx: DbOrTx, clinicId: string, clientId: string, eventId: string) {
  const [found] = await tx
    .select({ id: clinicalEvents.id })
    .from(clinicalEvents)
    .where(
      and(
        eq(clinicalEvents.clinicId, clinicId),
        eq(clinicalEvents.clientId, clientId),
        eq(clinicalEvents.id, eventId),
        isNull(clinicalEvents.enteredInErrorAt),
      ),
    );
  if (!found) throw invalidField('eventId', 'must be a clinical event of this client, not entered in error');
}

async function checkSession(tx: DbOrTx, clinicId: string, clientId: string, sessionId: string) {
  const [found] = await tx
    .select({ id: individualSessions.id })
    .from(individualSessions)
    .where(and(eq(individualSessions.clinicId, clinicId), eq(individualSessions.clientId, clientId), eq(individualSessions.id, sessionId)));
  if (!found) throw invalidField('sessionId', 'must be a session of this client');
}

async function checkLinkSkills(tx: DbOrTx, clinicId: string, links: Links) {
  const wanted = [...new Set(links.flatMap((link) => (link.skillId ? [link.skillId] : [])))];
  if (wanted.length === 0) return;
  const found = await tx
    .select({ id: skills.id })
    .from(skills)
    .where(and(eq(skills.clinicId, clinicId), inArray(skills.id, wanted)));
  if (found.length !== wanted.length) throw invalidField('links', 'each skillId must be a skill of this clinic');
}

/** The client's chain analyses, newest behaviour first, optionally for one event or target. */
export async function listChainAnalyses(db: Db, ctx: AuthedContext, clientId: string, query: ListChainAnalysesQuery) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  // Keyset on (behaviourAt, id), newest first: the cursor names the last analysis of the previous page.
  const after = query.cursor
    ? sql`(${chainAnalyses.behaviourAt}, ${chainAnalyses.id}) < (select behaviour_at, id from chain_analyses where clinic_id = ${ctx.actor.clinicId} and id = ${query.cursor})`
    : undefined;
  const rows = await db
    .select()
    .from(chainAnalyses)
    .where(
      and(
        eq(chainAnalyses.clinicId, ctx.actor.clinicId),
        eq(chainAnalyses.clientId, clientId),
        after,
        query.eventId ? eq(chainAnalyses.eventId, query.eventId) : undefined,
        query.targetId ? eq(chainAnalyses.targetId, query.targetId) : undefined,
      ),
    )
    .orderBy(desc(chainAnalyses.behaviourAt), desc(chainAnalyses.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toChainAnalysisResponse), query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createChainAnalysis(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  input: CreateChainAnalysisBody,
): Promise<ChainAnalysisResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const { clinicId } = ctx.actor;
    const targetVersion = input.targetId ? await targetVersionAt(tx, clinicId, clientId, input.targetId, input.behaviourAt) : null;
    if (input.eventId) await checkEvent(tx, clinicId, clientId, input.eventId);
    if (input.sessionId) await checkSession(tx, clinicId, clientId, input.sessionId);
    await checkLinkSkills(tx, clinicId, input.links);
    const [row] = await tx
      .insert(chainAnalyses)
      .values({
        clinicId,
        id: uuidv7(),
        clientId,
        targetId: input.targetId ?? null,
        targetVersion,
        eventId: input.eventId ?? null,
        behaviourAt: input.behaviourAt,
        problemBehaviour: input.problemBehaviour,
        promptingEvent: input.promptingEvent ?? null,
        vulnerabilities: input.vulnerabilities,
        links: normalizeLinks(input.links),
        consequences: input.consequences,
        solutions: input.solutions,
        repair: input.repair ?? null,
        commitment: input.commitment ?? null,
        completedIn: input.completedIn,
        sessionId: input.sessionId ?? null,
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as ChainAnalysisRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { completedIn: created.completedIn, links: created.links.length };
    return toChainAnalysisResponse(created);
  });
}

async function findChainAnalysis(db: DbOrTx, ctx: AuthedContext, clientId: string, analysisId: string, lock: boolean) {
  ctx.audit.resourceId = analysisId;
  const select = db
    .select()
    .from(chainAnalyses)
    .where(and(eq(chainAnalyses.clinicId, ctx.actor.clinicId), eq(chainAnalyses.clientId, clientId), eq(chainAnalyses.id, analysisId)));
  const [row] = lock ? await select.for('update') : await select;
  if (!row) throw notFound('Chain analysis');
  return row;
}

export async function readChainAnalysis(db: Db, ctx: AuthedContext, clientId: string, analysisId: string) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const row = await findChainAnalysis(db, ctx, clientId, analysisId, false);
  ctx.audit.resultCount = 1;
  return toChainAnalysisResponse(row);
}

/** Changes any part of the analysis; references are checked again only when they change. */
export function updateChainAnalysis(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  analysisId: string,
  ifMatch: string | undefined,
  input: UpdateChainAnalysisBody,
): Promise<ChainAnalysisResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const row = await findChainAnalysis(tx, ctx, clientId, analysisId, true);
    checkIfMatch(ifMatch, row.version);
    const { links, ...rest } = input;
    const change = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Partial<ChainAnalysisRow>;
    if (links) change.links = normalizeLinks(links);
    const merged = { ...row, ...change };
    const problem = checkAnchors(merged);
    if (problem) throw invalidField(problem.field, problem.message);

    const { clinicId } = ctx.actor;
    if (merged.targetId && (change.targetId !== undefined || change.behaviourAt !== undefined)) {
      change.targetVersion = await targetVersionAt(tx, clinicId, clientId, merged.targetId, merged.behaviourAt);
    } else if (!merged.targetId) {
      change.targetVersion = null;
    }
    if (change.eventId) await checkEvent(tx, clinicId, clientId, change.eventId);
    if (change.sessionId) await checkSession(tx, clinicId, clientId, change.sessionId);
    if (links) await checkLinkSkills(tx, clinicId, links);

    ctx.audit.details = {
      fields: Object.keys(input).filter((key) => input[key as keyof typeof input] !== undefined),
      fromVersion: row.version,
    };
    const [updated] = await tx
      .update(chainAnalyses)
      .set({ ...change, version: row.version + 1, updatedAt: sql`now()` })
      .where(and(eq(chainAnalyses.clinicId, row.clinicId), eq(chainAnalyses.id, row.id)))
      .returning();
    return toChainAnalysisResponse(updated as ChainAnalysisRow);
  });
}
