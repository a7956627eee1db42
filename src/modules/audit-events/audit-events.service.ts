import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { and, asc, desc, type SQL, sql } from 'drizzle-orm';
import { type ExportManifest, toExportLine } from '../../audit/export-format.js';
import { buildAuditRow } from '../../audit/record.js';
import { insertAuditRows } from '../../audit/writer.js';
import type { Db } from '../../db/client.js';
import { auditEvents, auditSeals } from '../../db/schema/index.js';
import type { AuthedContext } from '../../lib/context.js';
import { AppError } from '../../lib/errors.js';
import { csvHeader, csvLine } from './audit-events.csv.js';
import { fhirBundleEntry, fhirBundleHead, fhirBundleTail } from './audit-events.fhir.js';
import {
  databaseNow,
  type EventScope,
  type EventWithSeal,
  eventOf,
  eventWithSeal,
  readScopeInBatches,
  scopeCondition,
  sealOf,
} from './audit-events.queries.js';
import {
  type AuditEventFilters,
  type AuditEventPage,
  type AuditEventResponse,
  type AuditEventSort,
  type ExportAuditEventsQuery,
  type ExportFormat,
  filterNames,
  type SearchAuditEventsQuery,
} from './audit-events.schema.js';

const e = auditEvents;

/** The filters a request set, for the audit record and the manifest. */
function filtersOf(query: AuditEventFilters): Record<string, string> {
  return Object.fromEntries(filterNames.flatMap((name) => (query[name] === undefined ? [] : [[name, query[name]]])));
}

const rangeOf = (query: { from: Date; to: Date }) => ({ from: query.from.toISOString(), to: query.to.toISOString() });

/**
 * The sort key of each order; nulls become '' so the keyset comparison stays a plain row
 * comparison. `client` sorts by the first client of the event.
 */
const sortKeys: Record<Exclude<AuditEventSort, 'occurredAt'>, { column: SQL; of: (row: EventWithSeal) => string }> = {
  actor: { column: sql`coalesce(${e.actorId}::text, '')`, of: (row) => row.actorId ?? '' },
  client: { column: sql`coalesce((${e.clientIds})[1]::text, '')`, of: (row) => row.clientIds[0] ?? '' },
  action: { column: sql`${e.action}`, of: (row) => row.action },
};

/** What a search cursor carries: the order it belongs to, the last row's position, and the snapshot bound. */
interface SearchCursor {
  sort: AuditEventSort;
  order: 'asc' | 'desc';
  key: string | null;
  occurredAt: string;
  id: string;
  asOf: string;
}

const encodeCursor = (cursor: SearchCursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

const invalidCursor = (message: string) =>
  new AppError('validation_failed', `Invalid query.cursor: ${message}`, { errors: [{ in: 'query', field: 'cursor', message }] });

function decodeCursor(value: string, sort: AuditEventSort, order: 'asc' | 'desc'): SearchCursor {
  let cursor: SearchCursor;
  try {
    cursor = JSON.parse(Buffer.from(value, 'base64url').toString());
  } catch {
    throw invalidCursor('is not one this API issued');
  }
  const instants = [cursor?.occurredAt, cursor?.asOf].map((instant) => new Date(String(instant)).getTime());
  if (typeof cursor?.id !== 'string' || instants.some(Number.isNaN)) throw invalidCursor('is not one this API issued');
  if (cursor.sort !== sort || cursor.order !== order) throw invalidCursor('belongs to another sort or order');
  return cursor;
}

function toAuditEvent(row: EventWithSeal): AuditEventResponse {
  const seal = sealOf(row);
  return { ...eventOf(row), seal: seal ? { seq: seal.seq, hmac: seal.hmac } : null };
}

/**
 * One page of the clinic's audit events. Keyset pagination on (sort key, occurred_at, id), a total
 * order, so a row is never returned twice. The first page pins a snapshot bound (`asOf`, the
 * database clock when it was read) into the cursor; every page returns only rows recorded at or
 * before it. Rows are append-only, so every row that was visible when the first page was read
 * appears exactly once across the pages, in order, however many are written meanwhile; rows
 * written later (recorded_at > asOf) appear on none of them — start a new search to see them. A
 * row recorded before asOf by a transaction that commits after the first page was read may be
 * missed if it sorts before the cursor (it was not visible to that page either).
 */
export async function searchAuditEvents(db: Db, ctx: AuthedContext, query: SearchAuditEventsQuery): Promise<AuditEventPage> {
  const { sort, limit } = query;
  const order = query.order ?? (sort === 'occurredAt' ? 'desc' : 'asc');
  const cursor = query.cursor ? decodeCursor(query.cursor, sort, order) : null;
  const asOf = cursor ? new Date(cursor.asOf) : await databaseNow(db);
  const filters = filtersOf(query);
  ctx.audit.details = { range: rangeOf(query), filters, sort, order, page: cursor ? 'next' : 'first', asOf: asOf.toISOString() };
  if (query.clientId) ctx.audit.clientIds.push(query.clientId);

  const key = sort === 'occurredAt' ? null : sortKeys[sort];
  const direction = order === 'asc' ? asc : desc;
  const position = key ? sql`(${key.column}, ${e.occurredAt}, ${e.id})` : sql`(${e.occurredAt}, ${e.id})`;
  const after = cursor
    ? sql`${position} ${sql.raw(order === 'asc' ? '>' : '<')} (${key ? sql`${cursor.key ?? ''}::text, ` : sql``}${cursor.occurredAt}::timestamptz, ${cursor.id}::uuid)`
    : undefined;
  const scope: EventScope = { clinicId: ctx.actor.clinicId, from: query.from, to: query.to, asOf, filters: query };
  const rows = await db
    .select(eventWithSeal)
    .from(e)
    .leftJoin(auditSeals, sql`${auditSeals.clinicId} = ${e.clinicId} and ${auditSeals.eventId} = ${e.id}`)
    .where(and(scopeCondition(scope), after))
    .orderBy(...(key ? [direction(key.column)] : []), direction(e.occurredAt), direction(e.id))
    .limit(limit + 1);

  const page = rows.slice(0, limit);
  const last = page.at(-1);
  ctx.audit.resultCount = page.length;
  return {
    items: page.map(toAuditEvent),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({
            sort,
            order,
            key: key ? key.of(last) : null,
            occurredAt: last.occurredAt.toISOString(),
            id: last.id,
            asOf: asOf.toISOString(),
          })
        : null,
  };
}

export const exportContentTypes: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  fhir: 'application/fhir+json; charset=utf-8',
};

/** `format` wins; otherwise the first of our media types the Accept header names; otherwise NDJSON. */
export function exportFormatFor(format: ExportFormat | undefined, accept: string | undefined): ExportFormat {
  if (format) return format;
  const wanted = (accept ?? '').toLowerCase();
  const named = (['csv', 'fhir', 'ndjson'] as const)
    .map((candidate) => ({ candidate, at: wanted.indexOf(exportContentTypes[candidate].split(';')[0] as string) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at);
  return named[0]?.candidate ?? 'ndjson';
}

export interface AuditExport {
  format: ExportFormat;
  body: Readable;
  /** Set once every row is out and the completion record is committed; null before (and after a failure). */
  manifest: () => ExportManifest | null;
}

/**
 * Streams every event of the range in (occurred_at, id) order, batch by batch (see
 * readScopeInBatches), hashing the bytes as they leave.
 *
 * Two audit records per export, both 'audit.export' under the request's id. The audit plugin
 * writes the first in onSend — before any byte of the body, so nothing leaves unless it is
 * committed (fail closed) — with details { phase: 'started', range, filters, format }. The row
 * count is only known at the end, so the stream writes the second itself, through insertAuditRows,
 * after the last row and before the end of the content: details { phase: 'completed', range,
 * filters, format, rowCount, sha256, manifest } and result_count = rowCount. If that write fails
 * the stream errors, the response is cut short and no manifest is sent, so the export cannot be
 * verified. A client that goes away or a failing read gets a record with phase 'aborted' or
 * 'failed' and the rows sent so far.
 *
 * The manifest: NDJSON ends with one line `{"manifest":{…}}` whose sha256 covers every byte before
 * that line; for CSV and FHIR (where a trailing line would break the format) sha256 covers the
 * whole body. Every format also sends it in the HTTP trailer `x-audit-manifest`, and it is kept in
 * the completion record's details (GET /v1/audit/events?requestId=<the export's x-request-id>).
 */
export function exportAuditEvents(db: Db, ctx: AuthedContext, query: ExportAuditEventsQuery, accept: string | undefined): AuditExport {
  const format = exportFormatFor(query.format, accept);
  const range = rangeOf(query);
  const filters = filtersOf(query);
  ctx.audit.details = { phase: 'started', range, filters, format };
  if (query.clientId) ctx.audit.clientIds.push(query.clientId);
  let manifest: ExportManifest | null = null;

  async function recordCompletion(phase: 'completed' | 'aborted' | 'failed', rowCount: number, sha256: string | null) {
    ctx.audit.resultCount = rowCount;
    ctx.audit.details = { phase, range, filters, format, rowCount, sha256, ...(manifest ? { manifest } : {}) };
    const row = buildAuditRow(ctx, 200);
    await insertAuditRows(db, [{ ...row, outcome: phase === 'completed' ? 'success' : phase === 'aborted' ? 'failure' : 'error' }]);
  }

  async function* produce(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    const emit = (text: string) => {
      const bytes = Buffer.from(text);
      hash.update(bytes);
      return bytes;
    };
    const chain = { sealedRows: 0, unsealedRows: 0, firstSeq: null as number | null, lastSeq: null as number | null };
    let rowCount = 0;
    let phase: 'completed' | 'aborted' | 'failed' = 'aborted';
    try {
      const asOf = await databaseNow(db);
      if (format === 'csv') yield emit(csvHeader());
      if (format === 'fhir') yield emit(fhirBundleHead(asOf.toISOString()));
      const scope: EventScope = { clinicId: ctx.actor.clinicId, from: query.from, to: query.to, asOf, filters: query };
      for await (const batch of readScopeInBatches(db, scope)) {
        let chunk = '';
        for (const row of batch) {
          const line = toExportLine(eventOf(row), sealOf(row));
          if (line.seal) {
            chain.sealedRows++;
            chain.firstSeq = Math.min(chain.firstSeq ?? line.seal.seq, line.seal.seq);
            chain.lastSeq = Math.max(chain.lastSeq ?? line.seal.seq, line.seal.seq);
          } else {
            chain.unsealedRows++;
          }
          chunk +=
            format === 'csv' ? csvLine(line) : format === 'fhir' ? fhirBundleEntry(line, rowCount === 0) : `${JSON.stringify(line)}\n`;
          rowCount++;
        }
        yield emit(chunk);
      }
      const tail = format === 'fhir' ? emit(fhirBundleTail) : null;
      const sha256 = hash.digest('hex');
      manifest = {
        kind: 'dialectic-audit-export',
        version: 1,
        clinicId: ctx.actor.clinicId,
        format,
        range,
        filters,
        rowCount,
        sha256,
        chain,
        generatedAt: asOf.toISOString(),
        exportedBy: ctx.actor.staffId,
      };
      await recordCompletion('completed', rowCount, sha256);
      phase = 'completed';
      if (tail) yield tail;
      if (format === 'ndjson') yield Buffer.from(`${JSON.stringify({ manifest })}\n`);
    } catch (error) {
      phase = 'failed';
      manifest = null;
      throw error;
    } finally {
      if (phase !== 'completed') await recordCompletion(phase, rowCount, null).catch(() => undefined);
    }
  }

  return { format, body: Readable.from(produce(), { objectMode: false }), manifest: () => manifest };
}
