import { fileURLToPath } from 'node:url';
import { type AuditPartitionReport, ensureAuditPartitions } from '../audit/partitions.js';
import type { Database } from './client.js';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Applies every pending migration in migrations/ with drizzle's own migrator for the driver, then
 * makes sure the audit partitions reach ahead (a few catalogue lookups when they already do).
 */
export async function migrate(database: Database): Promise<AuditPartitionReport> {
  if (database.kind === 'postgres') {
    const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type.
    await run(database.db as any, { migrationsFolder });
  } else {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator');
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type.
    await run(database.db as any, { migrationsFolder });
  }
  return ensureAuditPartitions(database.db);
}
