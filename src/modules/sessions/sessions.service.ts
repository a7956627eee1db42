import { and, arrayContains, desc, eq, gte, lte, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { individualSessions, staff } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { invalidField, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient } from '../../policy/client-access.js';
import { reevaluateFourMiss } from '../attendance/attendance.queries.js';
import { checkSkills } from '../skills/skills.queries.js';
import { noteExists } from './psychotherapy-notes.queries.js';
import type {
  CreateSessionBody,
  ListSessionsQuery,
  SessionResponse,
  SessionSummaryResponse,
  UpdateSessionBody,
} from './sessions.schema.js';

export type SessionRow = typeof individualSessions.$inferSelect;

const toSummary = (row: SessionRow): SessionSummaryResponse => ({
  id: row.id,
  clientId: row.clientId,
  therapistId: row.therapistId,
  scheduledStart: row.scheduledStart,
  durationMinutes: row.durationMinutes,
  type: row.type,
  attendance: row.attendance,
  lateMinutes: row.lateMinutes,
  noticeHours: row.noticeHours,
  diaryCardId: row.diaryCardId,
  diaryCardMissing: row.diaryCardMissing,
  riskAssessmentDone: row.riskAssessmentDone,
  riskLevel: row.riskLevel,
  skillIds: row.skillIds,
  version: row.version,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toResponse = (row: SessionRow, psychotherapyNoteByYou: boolean): SessionResponse => ({
  ...toSummary(row),
  homework: row.homework,
  note: row.note,
  psychotherapyNoteByYou,
});

/**
 * Loads a session of the caller's clinic (404 otherwise) and checks clinical access to its client.
 * Used by every /v1/sessions/:id route, so the relationship rule is the client's, not the session's.
 */
export async function authorizeSession(db: DbOrTx, ctx: AuthedContext, sessionId: string, forUpdate = false): Promise<SessionRow> {
  ctx.audit.resourceId = sessionId;
  const select = db
    .select()
    .from(individualSessions)
    .where(and(eq(individualSessions.clinicId, ctx.actor.clinicId), eq(individualSessions.id, sessionId)));
  const [session] = forUpdate
    ? await select.for('update').prepare('individual_session_for_update').execute()
    : await select.prepare('individual_session').execute();
  if (!session) throw notFound('Session');
  await authorizeClient(db, ctx, session.clientId, 'clinical');
  return session;
}

/** The session's state after a change, as the checks below see it. */
type SessionState = Pick<
  SessionRow,
  'attendance' | 'lateMinutes' | 'noticeHours' | 'diaryCardId' | 'diaryCardMissing' | 'riskAssessmentDone' | 'riskLevel'
>;

/**
 * Merges a body into the current state and enforces the rules between fields. A value the body
 * gives for a field that does not apply is a 400 naming that field; values that stop applying
 * because the body changed their companion (attendance, diary card, risk assessment) are cleared.
 */
function nextState(current: SessionState, input: Partial<CreateSessionBody>): SessionState {
  const attendance = input.attendance ?? current.attendance;
  const attendanceChanged = attendance !== current.attendance;
  if (input.lateMinutes !== undefined && attendance !== 'late') throw invalidField('lateMinutes', 'is only for attendance late');
  if (input.noticeHours !== undefined && attendance !== 'cancelled_by_client') {
    throw invalidField('noticeHours', 'is only for attendance cancelled_by_client');
  }
  const lateMinutes = input.lateMinutes ?? (attendanceChanged ? null : current.lateMinutes);
  const noticeHours = input.noticeHours ?? (attendanceChanged ? null : current.noticeHours);
  if (attendance === 'late' && lateMinutes === null) throw invalidField('lateMinutes', 'is required when attendance is late');
  if (attendance === 'cancelled_by_client' && noticeHours === null) {
    throw invalidField('noticeHours', 'is required when attendance is cancelled_by_client');
  }

  if (input.diaryCardId && input.diaryCardMissing) throw invalidField('diaryCardMissing', 'cannot be true together with diaryCardId');
  let { diaryCardId, diaryCardMissing } = current;
  if (input.diaryCardId !== undefined) [diaryCardId, diaryCardMissing] = [input.diaryCardId, false];
  if (input.diaryCardMissing !== undefined) {
    diaryCardMissing = input.diaryCardMissing;
    if (diaryCardMissing) diaryCardId = null;
  }

  const riskAssessmentDone = input.riskAssessmentDone ?? current.riskAssessmentDone;
  if (input.riskLevel && !riskAssessmentDone) throw invalidField('riskLevel', 'requires riskAssessmentDone true');
  let riskLevel = input.riskLevel !== undefined ? input.riskLevel : current.riskLevel;
  if (!riskAssessmentDone) riskLevel = null;

  return { attendance, lateMinutes, noticeHours, diaryCardId, diaryCardMissing, riskAssessmentDone, riskLevel };
}

async function checkTherapist(tx: DbOrTx, clinicId: string, therapistId: string) {
  const [found] = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.clinicId, clinicId), eq(staff.id, therapistId), eq(staff.active, true), arrayContains(staff.roles, ['therapist'])));
  if (!found) throw invalidField('therapistId', 'must be an active therapist of this clinic');
}

/** A client's sessions, newest first, without their clinical text. */
export async function listSessions(db: Db, ctx: AuthedContext, clientId: string, query: ListSessionsQuery) {
  await authorizeClient(db, ctx, clientId, 'clinical');
  const s = individualSessions;
  const rows = await db
    .select()
    .from(s)
    .where(
      and(
        eq(s.clinicId, ctx.actor.clinicId),
        eq(s.clientId, clientId),
        query.from ? gte(s.scheduledStart, query.from) : undefined,
        query.to ? lte(s.scheduledStart, query.to) : undefined,
        query.cursor
          ? sql`(${s.scheduledStart}, ${s.id}) < (select c.scheduled_start, c.id from individual_sessions c where c.clinic_id = ${ctx.actor.clinicId} and c.id = ${query.cursor})`
          : undefined,
      ),
    )
    .orderBy(desc(s.scheduledStart), desc(s.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toSummary), query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

export function createSession(db: Db, ctx: AuthedContext, clientId: string, input: CreateSessionBody): Promise<SessionResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    await authorizeClient(tx, ctx, clientId, 'clinical');
    const state = nextState(
      {
        attendance: 'scheduled',
        lateMinutes: null,
        noticeHours: null,
        diaryCardId: null,
        diaryCardMissing: false,
        riskAssessmentDone: false,
        riskLevel: null,
      },
      input,
    );
    const therapistId = input.therapistId ?? ctx.actor.staffId;
    await checkTherapist(tx, ctx.actor.clinicId, therapistId);
    const skillIds = await checkSkills(tx, ctx.actor.clinicId, input.skillIds ?? []);
    const [row] = await tx
      .insert(individualSessions)
      .values({
        clinicId: ctx.actor.clinicId,
        id: uuidv7(),
        clientId,
        therapistId,
        scheduledStart: input.scheduledStart,
        durationMinutes: input.durationMinutes,
        type: input.type,
        ...state,
        skillIds,
        homework: input.homework ?? null,
        note: input.note ?? null,
        createdBy: ctx.actor.staffId,
      })
      .returning();
    const created = row as SessionRow;
    await reevaluateFourMiss(tx, ctx.actor.clinicId, [clientId], ctx.audit);
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { fields: Object.keys(input).sort() };
    return toResponse(created, false);
  });
}

export async function readSession(db: Db, ctx: AuthedContext, sessionId: string): Promise<SessionResponse> {
  const session = await authorizeSession(db, ctx, sessionId);
  return toResponse(session, await noteExists(db, ctx, sessionId, 'mine'));
}

/** Fields whose change can move the client's four-miss streak. */
const attendanceFields = ['attendance', 'lateMinutes', 'noticeHours', 'scheduledStart'];

const comparable = (value: unknown) => (value instanceof Date ? value.getTime() : Array.isArray(value) ? value.join(',') : value);

export function updateSession(
  db: Db,
  ctx: AuthedContext,
  sessionId: string,
  ifMatch: string | undefined,
  input: UpdateSessionBody,
): Promise<SessionResponse> {
  return auditedTransaction(db, ctx, async (tx) => {
    const current = await authorizeSession(tx, ctx, sessionId, true);
    checkIfMatch(ifMatch, current.version);
    const next: Partial<SessionRow> = {
      ...nextState(current, input),
      ...(input.scheduledStart !== undefined && { scheduledStart: input.scheduledStart }),
      ...(input.durationMinutes !== undefined && { durationMinutes: input.durationMinutes }),
      ...(input.type !== undefined && { type: input.type }),
      ...(input.homework !== undefined && { homework: input.homework }),
      ...(input.note !== undefined && { note: input.note }),
    };
    if (input.skillIds !== undefined) next.skillIds = await checkSkills(tx, current.clinicId, input.skillIds);
    const fields = Object.entries(next)
      .filter(([key, value]) => comparable(value) !== comparable(current[key as keyof SessionRow]))
      .map(([key]) => key)
      .sort();
    ctx.audit.details = { fields };
    const [row] = await tx
      .update(individualSessions)
      .set({ ...next, version: current.version + 1, updatedAt: sql`now()` })
      .where(and(eq(individualSessions.clinicId, current.clinicId), eq(individualSessions.id, sessionId)))
      .returning();
    if (fields.some((field) => attendanceFields.includes(field)))
      await reevaluateFourMiss(tx, current.clinicId, [current.clientId], ctx.audit);
    return toResponse(row as SessionRow, await noteExists(tx, ctx, sessionId, 'mine'));
  });
}
