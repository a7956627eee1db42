import { and, eq, max } from 'drizzle-orm';
import { auditedTransaction } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { onUniqueViolation } from '../../db/errors.js';
import { skillModules, skills } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import type { CreateSkillBody, ListSkillsQuery, SkillResponse, UpdateSkillBody } from './skills.schema.js';

type SkillRow = typeof skills.$inferSelect;

const toSkillResponse = (row: SkillRow): SkillResponse => ({
  id: row.id,
  module: row.module,
  name: row.name,
  acronym: row.acronym,
  sortOrder: row.sortOrder,
  standard: row.standard,
  active: row.active,
  createdAt: row.createdAt,
});

/** Module order as the skills are taught, then the order printed on the diary card, then name. */
function byCardOrder(a: SkillRow, b: SkillRow): number {
  const module = skillModules.indexOf(a.module) - skillModules.indexOf(b.module);
  if (module !== 0) return module;
  if (a.sortOrder !== b.sortOrder) return a.sortOrder - b.sortOrder;
  return a.name.localeCompare(b.name, 'en', { sensitivity: 'base' });
}

const nameTaken = () => new AppError('conflict', 'This module already has a skill with that name');

export async function listSkills(db: Db, ctx: AuthedContext, query: ListSkillsQuery) {
  const rows = await db
    .select()
    .from(skills)
    .where(
      and(
        eq(skills.clinicId, ctx.actor.clinicId),
        query.module ? eq(skills.module, query.module) : undefined,
        query.includeInactive === 'true' ? undefined : eq(skills.active, true),
      ),
    );
  rows.sort(byCardOrder);
  ctx.audit.resultCount = rows.length;
  return { items: rows.map(toSkillResponse) };
}

/** A clinic's own skill; without a sort order it goes after the module's last skill. */
export function createSkill(db: Db, ctx: AuthedContext, input: CreateSkillBody): Promise<SkillResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      let sortOrder = input.sortOrder;
      if (sortOrder === undefined) {
        const [last] = await tx
          .select({ value: max(skills.sortOrder) })
          .from(skills)
          .where(and(eq(skills.clinicId, ctx.actor.clinicId), eq(skills.module, input.module)));
        sortOrder = (last?.value ?? 0) + 10;
      }
      const [row] = await tx
        .insert(skills)
        .values({
          clinicId: ctx.actor.clinicId,
          id: uuidv7(),
          module: input.module,
          name: input.name,
          acronym: input.acronym ?? null,
          sortOrder,
          standard: false,
        })
        .returning();
      const created = row as SkillRow;
      ctx.audit.resourceId = created.id;
      ctx.audit.details = { module: created.module, standard: false };
      return toSkillResponse(created);
    }),
    nameTaken,
  );
}

/** The standard catalog keeps its wording; a clinic may reorder it or switch skills off. */
const standardFixed = ['name', 'acronym'] as const;

export function updateSkill(db: Db, ctx: AuthedContext, id: string, input: UpdateSkillBody): Promise<SkillResponse> {
  return onUniqueViolation(
    auditedTransaction(db, ctx, async (tx) => {
      ctx.audit.resourceId = id;
      const [row] = await tx
        .select()
        .from(skills)
        .where(and(eq(skills.clinicId, ctx.actor.clinicId), eq(skills.id, id)))
        .for('update');
      if (!row) throw notFound('Skill');
      if (row.standard) {
        const refused = standardFixed.filter((field) => input[field] !== undefined);
        if (refused.length > 0) {
          const message = 'cannot change on a standard skill; only sortOrder and active can';
          throw new AppError('validation_failed', `Invalid ${refused.map((field) => `body.${field}`).join(', ')}: ${message}`, {
            errors: refused.map((field) => ({ in: 'body', field, message })),
          });
        }
      }
      const change = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<SkillRow>;
      ctx.audit.details = { fields: Object.keys(change) };
      if (Object.keys(change).length === 0) return toSkillResponse(row);
      const [updated] = await tx
        .update(skills)
        .set(change)
        .where(and(eq(skills.clinicId, row.clinicId), eq(skills.id, row.id)))
        .returning();
      return toSkillResponse(updated as SkillRow);
    }),
    nameTaken,
  );
}
