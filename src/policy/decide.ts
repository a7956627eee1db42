import type { StaffRole } from '../db/schema/index.js';
import type { AccessBasis, Actor } from '../lib/context.js';
import { type AccessRuleName, accessRules } from './rules.js';

export type Decision = { allow: true; basis: AccessBasis } | { allow: false; reason: string };

/** Role part of a rule: deny unless one of the caller's roles is admitted. */
export function decideByRole(ruleName: AccessRuleName, actor: Actor): Decision {
  const rule = accessRules[ruleName];
  if (rule.roles === 'any') return { allow: true, basis: { rule: ruleName, relationship: 'self' } };
  const allowed = rule.roles as readonly StaffRole[];
  const role = actor.roles.find((r) => allowed.includes(r));
  if (!role) return { allow: false, reason: `role-not-permitted:${ruleName}` };
  return { allow: true, basis: { rule: ruleName, role } };
}
