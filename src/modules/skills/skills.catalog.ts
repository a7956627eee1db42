import type { DbOrTx } from '../../db/client.js';
import { type skillModules, skills } from '../../db/schema/index.js';
import { uuidv7 } from '../../lib/ids.js';

type SkillModule = (typeof skillModules)[number];

export interface StandardSkill {
  module: SkillModule;
  name: string;
  acronym: string | null;
  /** The position on a diary card, within the module. */
  sortOrder: number;
}

/** Skill names per module in the order a standard diary card prints them; acronyms where DBT uses one. */
const catalog: Record<SkillModule, Array<[name: string, acronym?: string]>> = {
  mindfulness: [['Wise Mind'], ['Observe'], ['Describe'], ['Participate'], ['Nonjudgmental stance'], ['One-mindfully'], ['Effectively']],
  distress_tolerance: [
    ['STOP', 'STOP'],
    ['Pros and Cons'],
    ['TIPP', 'TIPP'],
    ['Distract with Wise Mind ACCEPTS', 'ACCEPTS'],
    ['Self-soothe'],
    ['IMPROVE the moment', 'IMPROVE'],
    ['Radical Acceptance'],
    ['Turning the Mind'],
    ['Willingness'],
    ['Half-smiling and willing hands'],
  ],
  emotion_regulation: [
    ['Check the Facts'],
    ['Opposite Action'],
    ['Problem Solving'],
    ['Accumulate positives, Build mastery, Cope ahead, PLEASE', 'ABC PLEASE'],
    ['Mindfulness of current emotion'],
  ],
  interpersonal_effectiveness: [['DEAR MAN', 'DEAR MAN'], ['GIVE', 'GIVE'], ['FAST', 'FAST'], ['Validation']],
  walking_the_middle_path: [['Dialectics'], ['Validation of self and others'], ['Behaviour change (reinforcement)']],
};

/** The standard DBT skills every clinic starts with, sort orders 10, 20, … so additions fit between. */
export const standardSkills: readonly StandardSkill[] = Object.entries(catalog).flatMap(([module, entries]) =>
  entries.map(([name, acronym], index) => ({ module: module as SkillModule, name, acronym: acronym ?? null, sortOrder: (index + 1) * 10 })),
);

/** Copies the standard catalog into a new clinic (inside the clinic's creation transaction). */
export async function insertStandardSkills(tx: DbOrTx, clinicId: string): Promise<void> {
  await tx.insert(skills).values(standardSkills.map((skill) => ({ clinicId, id: uuidv7(), ...skill, standard: true })));
}
