import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';

/** Monthly audit partitions kept ready after the current month (UTC). */
export const AUDIT_PARTITION_MONTHS_AHEAD = 3;

export interface AuditPartitionReport {
  partitions: Array<{ name: string; status: 'created' | 'exists' | 'blocked' }>;
  /** Records in audit_events_default: months that had no partition when they were written. */
  defaultRows: number;
}

/**
 * Creates the missing monthly partitions of audit_events from this month to monthsAhead months
 * ahead (idempotent, see 0012_audit_partitions.sql), and counts what the default partition holds.
 */
export async function ensureAuditPartitions(db: DbOrTx, monthsAhead = AUDIT_PARTITION_MONTHS_AHEAD): Promise<AuditPartitionReport> {
  const { rows } = await db.execute<{ partition_name: string; status: 'created' | 'exists' | 'blocked' }>(
    sql`select partition_name, status from audit_ensure_partitions(${monthsAhead}::int)`,
  );
  const { rows: fallback } = await db.execute<{ n: number }>(sql`select count(*)::int as n from audit_events_default`);
  return { partitions: rows.map((row) => ({ name: row.partition_name, status: row.status })), defaultRows: fallback[0]?.n ?? 0 };
}

/** A one-line warning when records sit in the default partition or a month could not be created, else null. */
export function partitionWarning(report: AuditPartitionReport): string | null {
  const blocked = report.partitions.filter((p) => p.status === 'blocked').map((p) => p.name);
  if (report.defaultRows === 0 && blocked.length === 0) return null;
  const parts = [`audit_events_default holds ${report.defaultRows} record(s) from months without a partition`];
  if (blocked.length > 0) parts.push(`not created because of them: ${blocked.join(', ')}`);
  return `${parts.join('; ')} (nothing is lost; see src/audit/README.md, "Partitions and retention")`;
}
