import { isDeepStrictEqual } from 'node:util';
import { and, arrayContains, asc, eq, gt, ilike, isNull, or, type SQL, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { clients, staff, teams } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { authorizeClient, type ClientRow } from '../../policy/client-access.js';
import { inTeamOf } from '../../policy/team-access.js';
import { checkProgram, policyInForce, today } from '../programs/programs.queries.js';
import { insertReferredEpisode } from '../treatment/episodes.queries.js';
import type { ClientResponse, CreateClientBody, ListClientsQuery, UpdateClientBody } from './clients.schema.js';

export const toClientResponse = (row: ClientRow): ClientResponse => ({
  id: row.id,
  givenName: row.givenName,
  familyName: row.familyName,
  preferredName: row.preferredName,
  dateOfBirth: row.dateOfBirth,
  pronouns: row.pronouns,
  phone: row.phone,
  email: row.email,
  emergencyContact: row.emergencyContact,
  externalRecordNumber: row.externalRecordNumber,
  programId: row.programId,
  primaryTherapistId: row.primaryTherapistId,
  teamId: row.teamId,
  status: row.status,
  version: row.version,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  enteredInError:
    row.enteredInErrorAt && row.enteredInErrorBy
      ? { at: row.enteredInErrorAt, by: row.enteredInErrorBy, reason: row.enteredInErrorReason ?? '' }
      : null,
});

/** A team reference names a team of the clinic (the foreign key would otherwise answer with a 500). */
async function checkTeam(tx: DbOrTx, clinicId: string, teamId: string) {
  const [team] = await tx
    .select({ id: teams.id })
    .from(teams)
    .where(and(eq(teams.clinicId, clinicId), eq(teams.id, teamId)));
  if (!team) throw invalidField('teamId', 'is not a consultation team of this clinic');
}

async function checkTherapist(tx: DbOrTx, clinicId: string, staffId: string) {
  const [therapist] = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.clinicId, clinicId), eq(staff.id, staffId), eq(staff.active, true), arrayContains(staff.roles, ['therapist'])));
  if (!therapist) throw invalidField('primaryTherapistId', 'is not an active therapist of this clinic');
}

const isAdmin = (ctx: AuthedContext) => ctx.actor.roles.includes('admin');

/**
 * Registers a client and opens its referred episode under the program's policy in force today.
 * A therapist who names no primary therapist becomes it; only an administrator may leave it empty.
 */
export function createClient(db: Db, ctx: AuthedContext, input: CreateClientBody): Promise<ClientResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const clinicId = ctx.actor.clinicId;
      const primaryTherapistId = input.primaryTherapistId ?? (isAdmin(ctx) ? null : ctx.actor.staffId);
      await checkProgram(tx, clinicId, input.programId);
      if (primaryTherapistId) await checkTherapist(tx, clinicId, primaryTherapistId);
      if (input.teamId) await checkTeam(tx, clinicId, input.teamId);
      const onDate = today();
      const policy = await policyInForce(tx, clinicId, input.programId, onDate);
      if (!policy) throw invalidField('programId', `has no policy in force on ${onDate}`);

      const [row] = await tx
        .insert(clients)
        .values({ ...input, clinicId, id: uuidv7(), primaryTherapistId, status: 'referred' })
        .returning();
      const client = row as ClientRow;
      await insertReferredEpisode(tx, {
        clinicId,
        clientId: client.id,
        programId: client.programId,
        policyVersion: policy.version,
        referredOn: onDate,
        createdBy: ctx.actor.staffId,
      });
      ctx.audit.resourceId = client.id;
      ctx.audit.clientIds.push(client.id);
      return toClientResponse(client);
    }),
    () => new AppError('conflict', 'Another client of this clinic has this external record number'),
  );
}

/** `%`, `_` and the escape character itself match literally in the search text. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

function nameMatches(text: string): SQL | undefined {
  const pattern = containsPattern(text);
  return or(
    ilike(clients.givenName, pattern),
    ilike(clients.familyName, pattern),
    ilike(clients.preferredName, pattern),
    ilike(sql`${clients.givenName} || ' ' || ${clients.familyName}`, pattern),
    ilike(sql`${clients.preferredName} || ' ' || ${clients.familyName}`, pattern),
  );
}

/**
 * Administrators see every client's registration. Everyone else sees the clients they are primary
 * therapist of and the clients of the consultation teams they are a current member of. Clients
 * entered in error are hidden unless an administrator asks for them.
 */
export async function listClients(db: Db, ctx: AuthedContext, query: ListClientsQuery) {
  const admin = isAdmin(ctx);
  const includeEnteredInError = query.includeEnteredInError === 'true';
  if (includeEnteredInError && !admin) {
    throw new AppError('forbidden', 'Only administrators may list clients entered in error', {
      denialReason: 'entered-in-error-admin-only',
    });
  }
  const rule = ctx.basis?.rule ?? 'clients.read';
  ctx.basis = admin
    ? { rule, role: 'admin', relationship: 'registration-only' }
    : { ...ctx.basis, rule, relationship: 'primary-therapist-or-team-member' };

  const rows = await db
    .select()
    .from(clients)
    .where(
      and(
        eq(clients.clinicId, ctx.actor.clinicId),
        admin ? undefined : or(eq(clients.primaryTherapistId, ctx.actor.staffId), inTeamOf(ctx.actor.clinicId, ctx.actor.staffId)),
        includeEnteredInError ? undefined : isNull(clients.enteredInErrorAt),
        query.cursor ? gt(clients.id, query.cursor) : undefined,
        query.status ? eq(clients.status, query.status) : undefined,
        query.primaryTherapistId ? eq(clients.primaryTherapistId, query.primaryTherapistId) : undefined,
        query.programId ? eq(clients.programId, query.programId) : undefined,
        query.q ? nameMatches(query.q) : undefined,
      ),
    )
    .orderBy(asc(clients.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toClientResponse), query.limit);
  ctx.audit.resultCount = result.items.length;
  ctx.audit.clientIds.push(...result.items.map((client) => client.id));
  return result;
}

export async function readClient(db: Db, ctx: AuthedContext, id: string): Promise<ClientResponse> {
  ctx.audit.resourceId = id;
  const client = await authorizeClient(db, ctx, id, 'registration');
  ctx.audit.resultCount = 1;
  return toClientResponse(client);
}

/**
 * Access first (404 for another clinic's id, 403 without a relationship), then the row lock. A
 * team member reads the registration but does not change it.
 */
async function lockForChange(tx: DbOrTx, ctx: AuthedContext, id: string): Promise<ClientRow> {
  ctx.audit.resourceId = id;
  await authorizeClient(tx, ctx, id, 'registration-change');
  const [row] = await tx
    .select()
    .from(clients)
    .where(and(eq(clients.clinicId, ctx.actor.clinicId), eq(clients.id, id)))
    .for('update');
  return row as ClientRow;
}

async function applyChange(tx: DbOrTx, row: ClientRow, change: Partial<ClientRow>): Promise<ClientResponse> {
  const [updated] = await tx
    .update(clients)
    .set({ ...change, version: row.version + 1, updatedAt: sql`now()` })
    .where(and(eq(clients.clinicId, row.clinicId), eq(clients.id, row.id)))
    .returning();
  return toClientResponse(updated as ClientRow);
}

/**
 * Changes registration fields. The audit record names the fields that changed, never their
 * values (they are PHI). A request that changes nothing leaves the version as it was.
 */
export function updateClient(db: Db, ctx: AuthedContext, id: string, ifMatch: string | undefined, input: UpdateClientBody) {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const row = await lockForChange(tx, ctx, id);
      checkIfMatch(ifMatch, row.version);
      if (row.enteredInErrorAt) throw new AppError('conflict', 'This client was entered in error; its registration can no longer change');
      const change = Object.fromEntries(
        Object.entries(input).filter(([field, value]) => !isDeepStrictEqual(value ?? null, row[field as keyof ClientRow] ?? null)),
      ) as Partial<ClientRow>;
      ctx.audit.details = { fields: Object.keys(change) };
      if (change.programId) await checkProgram(tx, row.clinicId, change.programId);
      if (change.primaryTherapistId) await checkTherapist(tx, row.clinicId, change.primaryTherapistId);
      if (change.teamId) await checkTeam(tx, row.clinicId, change.teamId);
      if (change.primaryTherapistId === null && !isAdmin(ctx)) {
        throw invalidField('primaryTherapistId', 'only an administrator may leave a client without a primary therapist');
      }
      if (Object.keys(change).length === 0) return toClientResponse(row);
      return applyChange(tx, row, change);
    }),
    () => new AppError('conflict', 'Another client of this clinic has this external record number'),
  );
}

/** No hard delete: the record is hidden from lists and kept, with who marked it and why. */
export function markEnteredInError(db: Db, ctx: AuthedContext, id: string, reason: string) {
  return auditedTransaction(db, ctx, async (tx) => {
    const row = await lockForChange(tx, ctx, id);
    if (row.enteredInErrorAt) throw new AppError('conflict', 'This client is already marked as entered in error');
    return applyChange(tx, row, {
      enteredInErrorAt: new Date(),
      enteredInErrorBy: ctx.actor.staffId,
      enteredInErrorReason: reason,
    });
  });
}
