import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { type StaffRole, staff } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { checkIfMatch, toPage } from '../../lib/http.js';
import { uuidv7 } from '../../lib/ids.js';
import { hashPassword } from '../../lib/passwords.js';
import type { CreateStaffBody, ListStaffQuery, StaffResponse, UpdateStaffBody } from './staff.schema.js';

type StaffRow = typeof staff.$inferSelect;

export const toStaffResponse = (row: StaffRow): StaffResponse => ({
  id: row.id,
  email: row.email,
  displayName: row.displayName,
  roles: row.roles,
  active: row.active,
  version: row.version,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const emailTaken = () => new AppError('conflict', 'A staff member with this email already exists in the clinic');

export async function findStaff(db: DbOrTx, clinicId: string, id: string): Promise<StaffRow | undefined> {
  const [row] = await db
    .select()
    .from(staff)
    .where(and(eq(staff.clinicId, clinicId), eq(staff.id, id)));
  return row;
}

export async function insertStaff(db: DbOrTx, clinicId: string, input: CreateStaffBody): Promise<StaffRow> {
  const [row] = await db
    .insert(staff)
    .values({
      clinicId,
      id: uuidv7(),
      email: input.email,
      displayName: input.displayName,
      roles: input.roles,
      passwordHash: await hashPassword(input.password),
    })
    .returning();
  return row as StaffRow;
}

export async function createStaff(db: Db, ctx: AuthedContext, input: CreateStaffBody): Promise<StaffResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const row = await insertStaff(tx, ctx.actor.clinicId, input);
      ctx.audit.resourceId = row.id;
      ctx.audit.details = { roles: { from: [], to: input.roles } };
      return toStaffResponse(row);
    }),
    emailTaken,
  );
}

export async function listStaff(db: Db, ctx: AuthedContext, query: ListStaffQuery) {
  const rows = await db
    .select()
    .from(staff)
    .where(
      and(
        eq(staff.clinicId, ctx.actor.clinicId),
        query.cursor ? gt(staff.id, query.cursor) : undefined,
        query.active ? eq(staff.active, query.active === 'true') : undefined,
      ),
    )
    .orderBy(asc(staff.id))
    .limit(query.limit + 1);
  const result = toPage(rows.map(toStaffResponse), query.limit);
  ctx.audit.resultCount = result.items.length;
  return result;
}

export async function readStaff(db: Db, ctx: AuthedContext, id: string): Promise<StaffResponse> {
  ctx.audit.resourceId = id;
  const row = await findStaff(db, ctx.actor.clinicId, id);
  if (!row) throw notFound('Staff member');
  ctx.audit.resultCount = 1;
  return toStaffResponse(row);
}

/**
 * Loads and locks the row for a change; 404 comes before 428/412 so another clinic's id reveals
 * nothing. ifMatch null means the change needs no precondition (activation is idempotent).
 */
async function lockForChange(tx: DbOrTx, ctx: AuthedContext, id: string, ifMatch: string | undefined | null): Promise<StaffRow> {
  ctx.audit.resourceId = id;
  const [row] = await tx
    .select()
    .from(staff)
    .where(and(eq(staff.clinicId, ctx.actor.clinicId), eq(staff.id, id)))
    .for('update');
  if (!row) throw notFound('Staff member');
  if (ifMatch !== null) checkIfMatch(ifMatch, row.version);
  return row;
}

async function applyChange(tx: DbOrTx, row: StaffRow, change: Partial<StaffRow>): Promise<StaffResponse> {
  const [updated] = await tx
    .update(staff)
    .set({ ...change, version: row.version + 1, updatedAt: sql`now()` })
    .where(and(eq(staff.clinicId, row.clinicId), eq(staff.id, row.id)))
    .returning();
  return toStaffResponse(updated as StaffRow);
}

export function updateStaff(db: Db, ctx: AuthedContext, id: string, ifMatch: string | undefined, input: UpdateStaffBody) {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      const row = await lockForChange(tx, ctx, id, ifMatch);
      ctx.audit.details = { fields: Object.keys(input) };
      return applyChange(tx, row, input);
    }),
    emailTaken,
  );
}

/** Role changes and (de)activation are privilege changes: the audit record names before and after. */
export function changeRoles(db: Db, ctx: AuthedContext, id: string, ifMatch: string | undefined, roles: StaffRole[]) {
  return auditedTransaction(db, ctx, async (tx) => {
    const row = await lockForChange(tx, ctx, id, ifMatch);
    if (row.id === ctx.actor.staffId && row.roles.includes('admin') && !roles.includes('admin')) {
      throw new AppError('conflict', 'You cannot remove your own admin role; ask another administrator');
    }
    ctx.audit.details = { roles: { from: row.roles, to: roles } };
    return applyChange(tx, row, { roles });
  });
}

export function setActive(db: Db, ctx: AuthedContext, id: string, active: boolean) {
  return auditedTransaction(db, ctx, async (tx) => {
    const row = await lockForChange(tx, ctx, id, null);
    if (!active && row.id === ctx.actor.staffId) throw new AppError('conflict', 'You cannot deactivate your own account');
    ctx.audit.details = { active: { from: row.active, to: active } };
    if (row.active === active) return toStaffResponse(row);
    // Deactivation revokes every token issued so far; reactivation does not bring them back.
    return applyChange(tx, row, { active, tokensValidAfter: new Date() });
  });
}
