import { and, desc, eq, gt, inArray, isNull, lte } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { clinicalEvents, type twentyFourHourRedirections } from '../../db/schema/index.js';
import { invalidField } from '../../lib/errors.js';
import { localTime } from '../coaching-limits/coaching-limits.queries.js';
import { policyInForce } from '../programs/programs.queries.js';

const WINDOW_MS = 24 * 60 * 60_000;
/** The event kinds that can open the window; a program's triggers may name fewer (or ones that are not events). */
const windowKinds = ['nssi', 'suicide_attempt'] as const;

export interface TwentyFourHourWindow {
  /** Whether the client's program policy in force on the instant's local date applies the rule. */
  enabled: boolean;
  policyVersion: number | null;
  /** The window open at the instant, if any: the one that ends latest. */
  open: { eventId: string; eventKind: (typeof windowKinds)[number]; until: Date } | null;
}

/**
 * The 24-hour rule at an instant. A trigger event (not entered in error) opens the window
 * [occurredAt, occurredAt + 24 h): 24 real hours, whatever the clock does at a DST change. Of
 * several, the latest event's window ends latest.
 */
export async function twentyFourHourWindow(
  db: DbOrTx,
  clinicId: string,
  client: { id: string; programId: string },
  at: Date,
  timeZone: string,
): Promise<TwentyFourHourWindow> {
  const policy = await policyInForce(db, clinicId, client.programId, localTime(at, timeZone).date);
  const policyVersion = policy?.version ?? null;
  const kinds = windowKinds.filter((kind) => policy?.twentyFourHourTriggers.includes(kind));
  if (!policy?.twentyFourHourRule || kinds.length === 0) return { enabled: Boolean(policy?.twentyFourHourRule), policyVersion, open: null };
  const e = clinicalEvents;
  const [event] = await db
    .select({ id: e.id, kind: e.kind, occurredAt: e.occurredAt })
    .from(e)
    .where(
      and(
        eq(e.clinicId, clinicId),
        eq(e.clientId, client.id),
        inArray(e.kind, kinds),
        isNull(e.enteredInErrorAt),
        lte(e.occurredAt, at),
        gt(e.occurredAt, new Date(at.getTime() - WINDOW_MS)),
      ),
    )
    .orderBy(desc(e.occurredAt), desc(e.id))
    .limit(1);
  const open = event
    ? { eventId: event.id, eventKind: event.kind as (typeof windowKinds)[number], until: new Date(event.occurredAt.getTime() + WINDOW_MS) }
    : null;
  return { enabled: true, policyVersion, open };
}

export interface RuleInput {
  initiatedBy: 'client' | 'staff';
  redirection?: (typeof twentyFourHourRedirections)[number];
  safetyCheckDone?: boolean;
  override?: { reason: string };
}

/**
 * The rule's outcome for a new contact. A client-initiated request inside an open window is
 * redirected to safety (redirection and a safety check required) or overridden with a reason;
 * anything else is not_applicable, and then the rule's fields have no place in the body.
 */
export function applyTwentyFourHourRule(window: TwentyFourHourWindow, input: RuleInput) {
  const open = input.initiatedBy === 'client' ? window.open : null;
  if (!open) {
    for (const field of ['redirection', 'safetyCheckDone', 'override'] as const) {
      if (input[field] !== undefined) throw invalidField(field, 'the 24-hour rule does not apply to this contact');
    }
    return {
      row: { ruleStatus: 'not_applicable', ruleEventId: null, redirection: null, safetyCheckDone: null, overrideReason: null },
      audit: { status: 'not_applicable', policyVersion: window.policyVersion },
    } as const;
  }
  const noted = { eventId: open.eventId, until: open.until.toISOString(), policyVersion: window.policyVersion };
  const row = { ruleEventId: open.eventId, redirection: input.redirection ?? null, safetyCheckDone: input.safetyCheckDone ?? null };
  if (input.override) {
    const reason = input.override.reason;
    return {
      row: { ...row, ruleStatus: 'overridden', overrideReason: reason },
      audit: { status: 'overridden', ...noted, reason },
    } as const;
  }
  const why = `the 24-hour rule window is open until ${noted.until} because of event ${open.eventId}; redirect to safety or send override with a reason`;
  if (!input.redirection) throw invalidField('redirection', `is required: ${why}`);
  if (input.safetyCheckDone !== true) throw invalidField('safetyCheckDone', `must be true: ${why}`);
  return {
    row: { ...row, ruleStatus: 'blocked_redirected', overrideReason: null },
    audit: { status: 'blocked_redirected', ...noted },
  } as const;
}
