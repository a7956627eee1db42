import { and, desc, eq, lte, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { type programKinds, programPolicies, programs } from '../../db/schema/index.js';
import { invalidField } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';

export type ProgramKind = (typeof programKinds)[number];
export type ProgramPolicyRow = typeof programPolicies.$inferSelect;
export type PolicySettings = Omit<ProgramPolicyRow, 'clinicId' | 'programId' | 'version' | 'effectiveFrom' | 'createdBy' | 'createdAt'>;

/** The emotions on a standard DBT diary card. */
export const defaultDiaryEmotions = ['anger', 'fear', 'joy', 'sadness', 'shame', 'emotional_misery', 'physical_misery'] as const;

/**
 * Defaults from the DBT literature: four consecutive scheduled weeks of either required modality,
 * lateness and late cancellation not counted unless the program says so, no overrides, the
 * 24-hour rule on for adults and off for adolescent programs, a six-month contract, a 24-week
 * skills cycle, groups of eight joined at a module start, group only alongside individual therapy.
 */
export function defaultPolicy(kind: ProgramKind): PolicySettings {
  return {
    fourMissThreshold: 4,
    missCountingUnit: 'consecutive_scheduled_weeks',
    countedModalities: ['individual', 'skills_group'],
    latenessMissMinutes: null,
    lateCancelMissHours: null,
    overrideAllowed: false,
    twentyFourHourRule: kind === 'adult',
    twentyFourHourTriggers: ['nssi', 'suicide_attempt'],
    contractWeeks: 26,
    skillsCycleWeeks: 24,
    groupSizeLimit: 8,
    entryAtModuleStartOnly: true,
    groupRequiresIndividual: true,
    weekStartsOn: 1,
    agendaUrgeThreshold: 4,
    diaryEmotions: [...defaultDiaryEmotions],
  };
}

/**
 * The policy version in force on a date (YYYY-MM-DD): the latest version effective on or before it.
 * As a query, so a statement that needs it beside other reads can embed it (a lateral subquery,
 * with the program and the date given as SQL).
 */
export function policyInForceQuery(db: DbOrTx, clinicId: string, programId: string | SQL, onDate: string | SQL) {
  return db
    .select()
    .from(programPolicies)
    .where(
      and(eq(programPolicies.clinicId, clinicId), eq(programPolicies.programId, programId), lte(programPolicies.effectiveFrom, onDate)),
    )
    .orderBy(desc(programPolicies.effectiveFrom), desc(programPolicies.version))
    .limit(1);
}

export async function policyInForce(
  db: DbOrTx,
  clinicId: string,
  programId: string,
  onDate: string,
): Promise<ProgramPolicyRow | undefined> {
  const [policy] = await policyInForceQuery(db, clinicId, programId, onDate);
  return policy;
}

/** Creates a program with its first policy version, effective from the given date. */
export async function insertProgram(
  db: DbOrTx,
  input: {
    clinicId: string;
    name: string;
    kind: ProgramKind;
    effectiveFrom: string;
    createdBy: string | null;
    policy?: Partial<PolicySettings>;
  },
) {
  const [program] = await db
    .insert(programs)
    .values({ clinicId: input.clinicId, id: uuidv7(), name: input.name, kind: input.kind })
    .returning();
  const created = program as typeof programs.$inferSelect;
  const [policy] = await db
    .insert(programPolicies)
    .values({
      clinicId: input.clinicId,
      programId: created.id,
      version: 1,
      effectiveFrom: input.effectiveFrom,
      createdBy: input.createdBy,
      ...defaultPolicy(input.kind),
      ...input.policy,
    })
    .returning();
  return { program: created, policy: policy as ProgramPolicyRow };
}

/** Today's date in UTC as YYYY-MM-DD. */
export const today = () => new Date().toISOString().slice(0, 10);

/** A 400 naming programId unless it is a program of the clinic. */
export async function checkProgram(db: DbOrTx, clinicId: string, programId: string) {
  const [found] = await db
    .select({ id: programs.id })
    .from(programs)
    .where(and(eq(programs.clinicId, clinicId), eq(programs.id, programId)));
  if (!found) throw invalidField('programId', 'must be a program of this clinic');
}
