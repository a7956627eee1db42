import { getTableColumns } from 'drizzle-orm';
import type { ExportLine } from '../../audit/export-format.js';
import { auditEvents } from '../../db/schema/index.js';

/** Every column of the event, in table order, then its seal: the NDJSON line's fields, flattened. */
const eventColumns = Object.keys(getTableColumns(auditEvents)) as (keyof ExportLine)[];
export const csvColumns = [...eventColumns, 'sealSeq', 'sealPrevHmac', 'sealHmac'] as const;

/** Characters a spreadsheet reads as the start of a formula (OWASP CSV injection). */
const formulaStart = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field: null is empty, arrays and objects are JSON text, a cell a spreadsheet would
 * evaluate gets a leading single quote, and a field with a comma, quote, CR or LF is quoted with
 * its quotes doubled.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let cell = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (formulaStart.test(cell)) cell = `'${cell}`;
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

const csvRecord = (fields: unknown[]) => `${fields.map(csvField).join(',')}\r\n`;

export const csvHeader = () => csvRecord([...csvColumns]);

export function csvLine(line: ExportLine): string {
  const { seal } = line;
  return csvRecord([...eventColumns.map((key) => line[key]), seal?.seq ?? null, seal?.prevHmac ?? null, seal?.hmac ?? null]);
}
