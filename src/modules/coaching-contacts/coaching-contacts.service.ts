import { and, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { type ContactUrge, coachingContacts, targets } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient, type ClientRow } from '../../policy/client-access.js';
import { findTeamOfClient } from '../../policy/team-access.js';
import { clinicTimeZoneOf, judgeContact, limitsInForce, withinWindows } from '../coaching-limits/coaching-limits.queries.js';
import { checkSkills } from '../skills/skills.queries.js';
import { applyTwentyFourHourRule, twentyFourHourWindow } from './coaching-contacts.rule.js';
import type {
  CoachingContactResponse,
  CoachingContactSummaryResponse,
  CoachingStatusResponse,
  CreateCoachingContactBody,
  ListCoachingContactsQuery,
  UpdateCoachingContactBody,
} from './coaching-contacts.schema.js';

type ContactRow = typeof coachingContacts.$inferSelect;
type Times = Pick<ContactRow, 'requestedAt' | 'respondedAt' | 'startedAt' | 'endedAt'>;

const toSummary = (row: ContactRow): CoachingContactSummaryResponse => ({
  id: row.id,
  clientId: row.clientId,
  staffId: row.staffId,
  initiatedBy: row.initiatedBy,
  channel: row.channel,
  requestedAt: row.requestedAt,
  respondedAt: row.respondedAt,
  startedAt: row.startedAt,
  endedAt: row.endedAt,
  purpose: row.purpose,
  urges: row.urges,
  skillIds: row.skillIds,
  riskAssessed: row.riskAssessed,
  escalation: row.escalation,
  responseMinutes: row.responseMinutes,
  durationMinutes: row.durationMinutes,
  afterHours: row.afterHours,
  overMinuteLimit: row.overMinuteLimit,
  outsideLimits: row.outsideLimits,
  limitsVersion: row.limitsVersion,
  ruleStatus: row.ruleStatus,
  ruleEventId: row.ruleEventId,
  redirection: row.redirection,
  safetyCheckDone: row.safetyCheckDone,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toResponse = (row: ContactRow): CoachingContactResponse => ({
  ...toSummary(row),
  plan: row.plan,
  outcome: row.outcome,
  overrideReason: row.overrideReason,
});

/** The times must follow one another; a violation names the later field, the one to fix. */
function checkTimes({ requestedAt, respondedAt, startedAt, endedAt }: Times): void {
  if (respondedAt && respondedAt < requestedAt) throw invalidField('respondedAt', 'must not be before requestedAt');
  if (startedAt && startedAt < requestedAt) throw invalidField('startedAt', 'must not be before requestedAt');
  if (endedAt && !startedAt) throw invalidField('endedAt', 'requires startedAt');
  if (endedAt && startedAt && endedAt <= startedAt) throw invalidField('endedAt', 'must be after startedAt');
}

/** Urges are rated on the client's own targets (any version: the target id names them all). */
async function checkUrges(tx: DbOrTx, client: Pick<ClientRow, 'clinicId' | 'id'>, urges: ContactUrge[]): Promise<ContactUrge[]> {
  const ids = [...new Set(urges.map((urge) => urge.targetId))];
  if (ids.length < urges.length) throw invalidField('urges', 'must name each target once');
  if (ids.length === 0) return urges;
  const found = await tx
    .selectDistinct({ targetId: targets.targetId })
    .from(targets)
    .where(and(eq(targets.clinicId, client.clinicId), eq(targets.clientId, client.id), inArray(targets.targetId, ids)));
  const known = new Set(found.map((row) => row.targetId));
  const index = urges.findIndex((urge) => !known.has(urge.targetId));
  if (index >= 0) throw invalidField(`urges.${index}.targetId`, "is not one of this client's targets");
  return urges.map(({ targetId, start, end }) => ({ targetId, start, end }));
}

/**
 * Who took the contact: the primary therapist, the backup named in their limits in force at the
 * request, or a current member of a consultation team that holds the client (covering).
 */
async function checkCoach(tx: DbOrTx, client: ClientRow, staffId: string, requestedAt: Date): Promise<void> {
  if (staffId === client.primaryTherapistId) return;
  if (await findTeamOfClient(tx, client.clinicId, staffId, client)) return;
  const primaryLimits = client.primaryTherapistId
    ? await limitsInForce(tx, client.clinicId, client.primaryTherapistId, requestedAt)
    : undefined;
  if (primaryLimits?.backupStaffId !== staffId) {
    throw invalidField(
      'staffId',
      "must be the client's primary therapist, the backup covering for them at requestedAt, or a member of the client's team",
    );
  }
}

/** The derived fields, judged by the staff member's limits in force at the request, in the clinic's time zone. */
async function judge(tx: DbOrTx, clinicId: string, staffId: string, contact: Times & { channel: string }) {
  const timeZone = await clinicTimeZoneOf(tx, clinicId);
  const limits = await limitsInForce(tx, clinicId, staffId, contact.requestedAt);
  return { timeZone, judged: judgeContact(limits, contact, timeZone) };
}

/**
 * Loads a contact of the caller's clinic (404 otherwise) and checks coaching access to its client,
 * so the relationship rule is the client's, not the contact's.
 */
async function authorizeContact(db: DbOrTx, ctx: AuthedContext, contactId: string, forUpdate = false): Promise<ContactRow> {
  ctx.audit.resourceId = contactId;
  const select = db
    .select()
    .from(coachingContacts)
    .where(and(eq(coachingContacts.clinicId, ctx.actor.clinicId), eq(coachingContacts.id, contactId)));
  const [contact] = forUpdate ? await select.for('update') : await select;
  if (!contact) throw notFound('Coaching contact');
  await authorizeClient(db, ctx, contact.clientId, 'coaching');
  return contact;
}

/** A client's contacts, newest request first, without their free text. */
export async function listCoachingContacts(db: Db, ctx: AuthedContext, clientId: string, query: ListCoachingContactsQuery) {
  await authorizeClient(db, ctx, clientId, 'coaching');
  const c = coachingContacts;
  const rows = await db
    .select()
    .from(c)
    .where(
      and(
        eq(c.clinicId, ctx.actor.clinicId),
        eq(c.clientId, clientId),
        query.from ? gte(c.requestedAt, query.from) : undefined,
        query.to ? lte(c.requestedAt, query.to) : undefined,
        query.cursor
          ? sql`(${c.requestedAt}, ${c.id}) < (select x.requested_at, x.id from coaching_contacts x where x.clinic_id = ${ctx.actor.clinicId} and x.id = ${query.cursor})`
          : undefined,
      ),
    )
    .orderBy(desc(c.requestedAt), desc(c.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toSummary), query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createCoachingContact(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  input: CreateCoachingContactBody,
): Promise<CoachingContactResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const client = await authorizeClient(tx, ctx, clientId, 'coaching');
    const staffId = input.staffId ?? ctx.actor.staffId;
    const times = {
      requestedAt: input.requestedAt,
      respondedAt: input.respondedAt ?? null,
      startedAt: input.startedAt ?? null,
      endedAt: input.endedAt ?? null,
    };
    checkTimes(times);
    await checkCoach(tx, client, staffId, input.requestedAt);
    const urges = await checkUrges(tx, client, input.urges ?? []);
    const skillIds = await checkSkills(tx, client.clinicId, input.skillIds ?? []);
    const { timeZone, judged } = await judge(tx, client.clinicId, staffId, { ...times, channel: input.channel });
    const window = await twentyFourHourWindow(tx, client.clinicId, client, input.requestedAt, timeZone);
    const rule = applyTwentyFourHourRule(window, input);
    const [row] = await tx
      .insert(coachingContacts)
      .values({
        clinicId: client.clinicId,
        id: uuidv7(),
        clientId,
        staffId,
        initiatedBy: input.initiatedBy,
        channel: input.channel,
        ...times,
        purpose: input.purpose,
        urges,
        skillIds,
        plan: input.plan ?? null,
        outcome: input.outcome ?? null,
        riskAssessed: input.riskAssessed ?? false,
        escalation: input.escalation ?? 'none',
        ...judged,
        ...rule.row,
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as ContactRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { staffId, limitsVersion: judged.limitsVersion, twentyFourHourRule: rule.audit };
    return toResponse(created);
  });
}

export async function readCoachingContact(db: Db, ctx: AuthedContext, contactId: string): Promise<CoachingContactResponse> {
  const contact = await authorizeContact(db, ctx, contactId);
  ctx.audit.resultCount = 1;
  return toResponse(contact);
}

const comparable = (value: unknown) => (value instanceof Date ? value.getTime() : JSON.stringify(value));

/** Changes how the contact went; who, when it was requested and the 24-hour outcome stay as recorded. */
export function updateCoachingContact(
  db: Db,
  ctx: AuthedContext,
  contactId: string,
  ifMatch: string | undefined,
  input: UpdateCoachingContactBody,
): Promise<CoachingContactResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const current = await authorizeContact(tx, ctx, contactId, true);
    checkIfMatch(ifMatch, current.version);
    const change = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<ContactRow>;
    const merged = { ...current, ...change };
    checkTimes(merged);
    if (input.urges !== undefined) change.urges = await checkUrges(tx, { clinicId: current.clinicId, id: current.clientId }, input.urges);
    if (input.skillIds !== undefined) change.skillIds = await checkSkills(tx, current.clinicId, input.skillIds);
    const { judged } = await judge(tx, current.clinicId, current.staffId, merged);
    const next: Partial<ContactRow> = { ...change, ...judged };
    const fields = Object.entries(next)
      .filter(([key, value]) => comparable(value) !== comparable(current[key as keyof ContactRow]))
      .map(([key]) => key)
      .sort();
    ctx.audit.details = { fields, fromVersion: current.version };
    const [row] = await tx
      .update(coachingContacts)
      .set({ ...next, version: current.version + 1, updatedAt: sql`now()` })
      .where(and(eq(coachingContacts.clinicId, current.clinicId), eq(coachingContacts.id, contactId)))
      .returning();
    return toResponse(row as ContactRow);
  });
}

/** What the coach needs on screen now: whether the 24-hour window is open, and the primary therapist's limits. */
export async function readCoachingStatus(db: Db, ctx: AuthedContext, clientId: string): Promise<CoachingStatusResponse> {
  const client = await authorizeClient(db, ctx, clientId, 'coaching');
  ctx.audit.resourceId = clientId;
  const now = new Date();
  const timeZone = await clinicTimeZoneOf(db, client.clinicId);
  const window = await twentyFourHourWindow(db, client.clinicId, client, now, timeZone);
  const therapistId = client.primaryTherapistId;
  const limits = therapistId ? await limitsInForce(db, client.clinicId, therapistId, now) : undefined;
  return {
    now,
    twentyFourHourRule: {
      enabled: window.enabled,
      policyVersion: window.policyVersion,
      open: window.open !== null,
      until: window.open?.until ?? null,
      eventId: window.open?.eventId ?? null,
      eventKind: window.open?.eventKind ?? null,
    },
    primaryTherapist: therapistId
      ? {
          staffId: therapistId,
          limitsVersion: limits?.version ?? null,
          availableNow: limits ? withinWindows(limits.windows, now, timeZone) : null,
          channels: limits?.channels ?? [],
          maxMinutes: limits?.maxMinutes ?? null,
          responseMinutes: limits?.responseMinutes ?? null,
          backupStaffId: limits?.backupStaffId ?? null,
        }
      : null,
  };
}
