import { z } from 'zod';
import type { AuditEventRow } from './chain.js';

/** An event's place in its clinic's HMAC chain, as an export carries it (null: not sealed yet). */
export interface ExportSeal {
  seq: number;
  prevHmac: string;
  hmac: string;
}

/**
 * One line of an NDJSON export: every column of the event exactly as the chain hashes it
 * (timestamps as ISO 8601, txid as text), and its seal. Nothing is renamed or dropped, so
 * `canonicalEvent` of the parsed line gives the same text the HMAC was computed over, and an
 * export can be verified without the database.
 */
export type ExportLine = {
  [K in keyof AuditEventRow]: AuditEventRow[K] extends Date
    ? string
    : AuditEventRow[K] extends Date | null
      ? string | null
      : AuditEventRow[K];
} & {
  seal: ExportSeal | null;
};

export function toExportLine(event: AuditEventRow, seal: ExportSeal | null): ExportLine {
  return {
    ...event,
    occurredAt: event.occurredAt.toISOString(),
    endedAt: event.endedAt ? event.endedAt.toISOString() : null,
    recordedAt: event.recordedAt.toISOString(),
    seal,
  };
}

/** What comes with every export, so it can be checked offline: range, filters, count, hash, chain positions. */
export const exportManifest = z
  .object({
    kind: z.literal('dialectic-audit-export'),
    version: z.literal(1),
    clinicId: z.uuid(),
    format: z.enum(['ndjson', 'csv', 'fhir']),
    range: z.object({ from: z.string(), to: z.string() }),
    filters: z.record(z.string(), z.unknown()),
    rowCount: z.number().int(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe('SHA-256 of the export content, hex'),
    chain: z.object({
      sealedRows: z.number().int(),
      unsealedRows: z.number().int(),
      firstSeq: z.number().int().nullable(),
      lastSeq: z.number().int().nullable(),
    }),
    generatedAt: z.string(),
    exportedBy: z.uuid(),
  })
  .meta({ id: 'AuditExportManifest' });

export type ExportManifest = z.infer<typeof exportManifest>;
