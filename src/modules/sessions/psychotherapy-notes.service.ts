import { and, eq, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { psychotherapyNotes } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { noteExists } from './psychotherapy-notes.queries.js';
import type { PsychotherapyNoteResponse } from './sessions.schema.js';
import { authorizeSession } from './sessions.service.js';

type NoteRow = typeof psychotherapyNotes.$inferSelect;

const toResponse = (row: NoteRow): PsychotherapyNoteResponse => ({
  id: row.id,
  sessionId: row.sessionId,
  authorId: row.authorId,
  body: row.body,
  version: row.version,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const byAuthor = (clinicId: string, sessionId: string, authorId: string) =>
  and(eq(psychotherapyNotes.clinicId, clinicId), eq(psychotherapyNotes.sessionId, sessionId), eq(psychotherapyNotes.authorId, authorId));

/**
 * The caller's own psychotherapy note on a session. Anyone else's note answers exactly like no note
 * (404), even to the primary therapist or a break-glass holder, so its existence is not revealed;
 * only the audit record says the refusal was the author-only rule.
 */
export async function readNote(db: Db, ctx: AuthedContext, sessionId: string): Promise<PsychotherapyNoteResponse> {
  await authorizeSession(db, ctx, sessionId);
  const [note] = await db
    .select()
    .from(psychotherapyNotes)
    .where(byAuthor(ctx.actor.clinicId, sessionId, ctx.actor.staffId));
  if (note) {
    ctx.audit.resourceId = note.id;
    return toResponse(note);
  }
  const denialReason = (await noteExists(db, ctx, sessionId, 'others')) ? 'psychotherapy-note-author-only' : undefined;
  throw new AppError('not_found', 'You have no psychotherapy note on this session', denialReason ? { denialReason } : {});
}

/**
 * Creates (201) or replaces (200, If-Match required) the caller's note. Emergency access opens the
 * record to read, never to write psychotherapy notes. The session row is locked, so two first
 * writes by the same author cannot both create a note.
 */
export function putNote(
  db: Db,
  ctx: AuthedContext,
  sessionId: string,
  ifMatch: string | undefined,
  body: string,
): Promise<{ note: PsychotherapyNoteResponse; created: boolean }> {
  return auditedTransaction(db, ctx, async (tx) => {
    const session = await authorizeSession(tx, ctx, sessionId, true);
    if (ctx.basis?.relationship === 'break-glass') {
      throw new AppError('forbidden', 'Emergency access does not extend to writing psychotherapy notes', {
        denialReason: 'break-glass-no-psychotherapy-notes',
      });
    }
    const [existing] = await tx
      .select()
      .from(psychotherapyNotes)
      .where(byAuthor(session.clinicId, sessionId, ctx.actor.staffId));
    if (existing) {
      checkIfMatch(ifMatch, existing.version);
      const [row] = await tx
        .update(psychotherapyNotes)
        .set({ body, version: existing.version + 1, updatedAt: sql`now()` })
        .where(and(eq(psychotherapyNotes.clinicId, existing.clinicId), eq(psychotherapyNotes.id, existing.id)))
        .returning();
      ctx.audit.resourceId = existing.id;
      ctx.audit.details = { fields: ['body'], toVersion: existing.version + 1 };
      return { note: toResponse(row as NoteRow), created: false };
    }
    if (ifMatch) throw new AppError('precondition_failed', 'You have no psychotherapy note on this session to replace');
    const [row] = await tx
      .insert(psychotherapyNotes)
      .values({ clinicId: session.clinicId, id: uuidv7(), sessionId, authorId: ctx.actor.staffId, body })
      .returning();
    const created = row as NoteRow;
    ctx.audit.resourceId = created.id;
    ctx.audit.details = { fields: ['body'] };
    // A first note answers 201; the audit record, written in this transaction, must say so.
    ctx.audit.status = 201;
    return { note: toResponse(created), created: true };
  });
}
