import { and, asc, eq, gte, inArray, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { diaryCards, diaryDays, skills } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError } from '../../lib/errors.js';
import { authorizeClient } from '../../policy/client-access.js';
import { today } from '../programs/programs.queries.js';
import { addDays, daysBetween } from '../skills-groups/skills-groups.curriculum.js';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, type SkillsUseQuery, type SkillsUseResponse } from './skills-use.schema.js';

const invalidQuery = (field: string, message: string) =>
  new AppError('validation_failed', `Invalid query.${field}: ${message}`, { errors: [{ in: 'query', field, message }] });

/** The range asked for, with the defaults filled in: to is today, from four weeks back. */
function rangeOf(query: SkillsUseQuery) {
  const to = query.to ?? today();
  const from = query.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1));
  if (from > to) throw invalidQuery('from', 'must not be after to (today when to is not given)');
  if (daysBetween(from, to) + 1 > MAX_RANGE_DAYS) throw invalidQuery('to', `must be at most ${MAX_RANGE_DAYS} days from from`);
  return { from, to };
}

/**
 * The skills a client recorded on their diary cards, day by day: what the client's skills trainers
 * may see of the cards (besides the primary therapist and break-glass).
 */
export async function readSkillsUse(db: Db, ctx: AuthedContext, clientId: string, query: SkillsUseQuery): Promise<SkillsUseResponse> {
  await authorizeClient(db, ctx, clientId, 'group');
  const { from, to } = rangeOf(query);
  const days = await db
    .select({ date: diaryDays.day, entry: diaryDays.entry })
    .from(diaryDays)
    .innerJoin(diaryCards, and(eq(diaryCards.clinicId, diaryDays.clinicId), eq(diaryCards.id, diaryDays.cardId)))
    .where(
      and(eq(diaryCards.clinicId, ctx.actor.clinicId), eq(diaryCards.clientId, clientId), gte(diaryDays.day, from), lte(diaryDays.day, to)),
    )
    .orderBy(asc(diaryDays.day));
  const skillIds = [...new Set(days.flatMap((day) => day.entry.skillIds))];
  const catalog =
    skillIds.length === 0
      ? []
      : await db
          .select({ id: skills.id, name: skills.name, module: skills.module })
          .from(skills)
          .where(and(eq(skills.clinicId, ctx.actor.clinicId), inArray(skills.id, skillIds)));
  const byId = new Map(catalog.map((skill) => [skill.id, skill]));
  ctx.audit.resultCount = days.length;
  return {
    clientId,
    from,
    to,
    days: days.map(({ date, entry }) => ({
      date,
      skillsOverall: entry.skillsOverall,
      skills: entry.skillIds.flatMap((id) => byId.get(id) ?? []),
    })),
  };
}
