import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import { auditAccessColumns } from '../../audit/access-entry.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { auditEvents, clinics, staff } from '../../db/schema/index.js';
import type { AccessBasis, AuthedContext } from '../../lib/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { clientOfClinic } from '../../policy/client-access.js';
import type { AccessReportQuery, AccessReportResponse, ReportAccess, ReportPerson } from './access-report.schema.js';

const e = auditEvents;

/**
 * Compliance reads the report of any client of the clinic; a therapist only of a client whose
 * primary therapist they are. Compliance has no care relationship, so this is not authorizeClient.
 */
async function authorizeReport(db: DbOrTx, ctx: AuthedContext, clientId: string) {
  const client = await clientOfClinic(db, ctx.actor.clinicId, clientId);
  ctx.audit.clientIds.push(client.id);
  const rule = ctx.basis?.rule ?? 'clients.access-report';
  if (ctx.actor.roles.includes('compliance')) {
    ctx.basis = { rule, role: 'compliance' };
    return;
  }
  if (client.primaryTherapistId === ctx.actor.staffId) {
    ctx.basis = { rule, role: 'therapist', relationship: 'primary-therapist' };
    return;
  }
  throw new AppError('forbidden', 'A therapist reads the access report of their own clients only (as primary therapist)', {
    denialReason: 'not-primary-therapist',
  });
}

const isBreakTheGlass = (basis: AccessBasis | null) => basis?.relationship === 'break-glass' || Boolean(basis?.grantId);

/** The audit events of the caller's clinic naming the client in [from, to), oldest first, with each one's local day. */
function selectClientEvents(db: DbOrTx, clinicId: string, clientId: string, timeZone: string, from: Date, to: Date) {
  return db
    .select({
      ...auditAccessColumns,
      date: sql<string>`to_char(${e.occurredAt} at time zone ${timeZone}, 'YYYY-MM-DD')`,
      actorType: e.actorType,
      actorId: e.actorId,
      actorRoles: e.actorRoles,
      name: staff.displayName,
      denialReason: e.denialReason,
      purpose: e.purposeOfUse,
      basis: sql<AccessBasis | null>`${e.accessBasis}`,
    })
    .from(e)
    .leftJoin(staff, and(eq(staff.clinicId, e.clinicId), eq(staff.id, e.actorId)))
    .where(and(eq(e.clinicId, clinicId), sql`${e.clientIds} @> array[${clientId}]::uuid[]`, gte(e.occurredAt, from), lt(e.occurredAt, to)))
    .orderBy(asc(e.occurredAt), asc(e.id));
}

type EventRow = Awaited<ReturnType<typeof selectClientEvents>>[number];

const emptyTotals = () => ({ accesses: 0, denied: 0, breakTheGlass: 0 });

/** Groups events (oldest first) by person, then by local day, keeping the order within each. */
function groupByPersonAndDay(rows: EventRow[]): ReportPerson[] {
  const people = new Map<string, ReportPerson & { roleSet: Set<string> }>();
  for (const row of rows) {
    const key = row.actorId ?? row.actorType;
    let person = people.get(key);
    if (!person) {
      person = {
        staffId: row.actorId,
        actorType: row.actorType,
        name: row.name,
        roles: [],
        roleSet: new Set(),
        days: [],
        totals: { ...emptyTotals(), days: 0 },
      };
      people.set(key, person);
    }
    for (const role of row.actorRoles) person.roleSet.add(role);
    const { date, actorType: _t, actorId: _a, actorRoles: _r, name: _n, ...fields } = row;
    const access: ReportAccess = { ...fields, breakTheGlass: isBreakTheGlass(row.basis) };
    let day = person.days.at(-1);
    if (day?.date !== date) {
      day = { date, accesses: [] };
      person.days.push(day);
    }
    day.accesses.push(access);
    person.totals.accesses += 1;
    if (access.outcome === 'denied') person.totals.denied += 1;
    if (access.breakTheGlass) person.totals.breakTheGlass += 1;
  }
  return [...people.values()]
    .map(({ roleSet, ...person }) => ({ ...person, roles: [...roleSet].sort(), totals: { ...person.totals, days: person.days.length } }))
    .sort(
      (a, b) =>
        Number(a.name === null) - Number(b.name === null) ||
        (a.name ?? a.actorType).localeCompare(b.name ?? b.actorType) ||
        (a.staffId ?? '').localeCompare(b.staffId ?? ''),
    );
}

/**
 * Who accessed the client's record in the range: every audit event of the clinic naming the
 * client, by person and clinic-local day. Audit metadata only, never the record's content.
 */
export async function readAccessReport(
  db: Db,
  ctx: AuthedContext,
  clientId: string,
  query: AccessReportQuery,
): Promise<AccessReportResponse> {
  ctx.audit.resourceId = clientId;
  await authorizeReport(db, ctx, clientId);
  const { from, to } = query;
  ctx.audit.details = { from: from.toISOString(), to: to.toISOString() };
  const [clinic] = await db.select({ timeZone: clinics.timeZone }).from(clinics).where(eq(clinics.id, ctx.actor.clinicId));
  if (!clinic) throw notFound('Clinic');
  const rows = await selectClientEvents(db, ctx.actor.clinicId, clientId, clinic.timeZone, from, to);
  const people = groupByPersonAndDay(rows);
  const totals = people.reduce(
    (sum, person) => ({
      people: sum.people + 1,
      accesses: sum.accesses + person.totals.accesses,
      denied: sum.denied + person.totals.denied,
      breakTheGlass: sum.breakTheGlass + person.totals.breakTheGlass,
    }),
    { ...emptyTotals(), people: 0 },
  );
  ctx.audit.resultCount = totals.accesses;
  return { clientId, from, to, timeZone: clinic.timeZone, people, totals };
}
