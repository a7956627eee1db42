import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { Config } from '../config.js';
import * as schema from './schema/index.js';
import { endedReadsKept, releaseEndedReads } from './scope.js';

/** Both drivers return `{ rows }` from `execute`; this HKT lets one type describe either. */
type RowsOf<Row> = { rows: Row[] };
export interface RowsResultHKT extends PgQueryResultHKT {
  type: RowsOf<this['row']>;
}
export type Schema = typeof schema;
export type Db = PgDatabase<RowsResultHKT, Schema>;
export type Tx = PgTransaction<RowsResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type DbOrTx = Db | Tx;

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database {
  kind: DatabaseKind;
  db: Db;
  /** Human-readable, secret-free description for the first log line. */
  description: string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Connections of the node-postgres pool (PGlite has none); endedReads: those kept after a read
   * for the next request, their ROLLBACK not sent yet (src/db/scope.ts), counted in total.
   */
  poolStats?(): { total: number; idle: number; waiting: number; endedReads: number };
}

/** Pool limits for PostgreSQL: a statement timeout of 0 (or none) lets statements run as long as they take. */
export interface PoolOptions {
  poolMax?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export type DatabaseOptions = ({ url: string } & PoolOptions) | { dataDir: string } | { pglite: PGlite; description?: string };

/** The service's database as the configuration names it: PostgreSQL with its pool limits, else embedded PGlite. */
export function databaseOptions(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'DB_POOL_MAX' | 'DB_STATEMENT_TIMEOUT_MS' | 'DB_CONNECT_TIMEOUT_MS'>,
): DatabaseOptions {
  if (!config.DATABASE_URL) return { dataDir: config.DATA_DIR };
  return {
    url: config.DATABASE_URL,
    poolMax: config.DB_POOL_MAX,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if ('url' in options) return openPostgres(options.url, options);
  if ('dataDir' in options) {
    const { PGlite } = await import('@electric-sql/pglite');
    const client = await PGlite.create({ dataDir: options.dataDir });
    return wrapPglite(client, `embedded PGlite in ${options.dataDir}`);
  }
  return wrapPglite(options.pglite, options.description ?? 'embedded PGlite (in memory)');
}

async function openPostgres(url: string, { poolMax = 20, statementTimeoutMs, connectTimeoutMs = 5000 }: PoolOptions): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // Waiting for a connection (a new one, or a free one from a full pool) gives up after this, so a
    // request fails fast when the database is gone.
    connectionTimeoutMillis: connectTimeoutMs,
    // The server cancels a longer statement (SQLSTATE 57014); the client gives up a second later in
    // case the server does not answer at all.
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + 1000 } : {}),
    application_name: 'dialectic',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor one checked out between two statements (the server shut down): its next query fails, and
  // the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema }) as unknown as Db;
  const target = new URL(url);
  return {
    kind: 'postgres',
    db,
    description: `PostgreSQL at ${target.hostname}:${target.port || 5432}${target.pathname}`,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      await releaseEndedReads(pool);
      await pool.end();
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, endedReads: endedReadsKept(pool) }),
  };
}

async function wrapPglite(client: PGlite, description: string): Promise<Database> {
  const { drizzle } = await import('drizzle-orm/pglite');
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    description,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}

/**
 * The database as the tables' owner: migrations, audit partitions and clinic set-up create or own
 * what the API's own role may not (MIGRATION_DATABASE_URL; DATABASE_URL when that is the owner).
 */
export function ownerDatabaseOptions(config: Pick<Config, 'DATABASE_URL' | 'MIGRATION_DATABASE_URL' | 'DATA_DIR'>): DatabaseOptions {
  const url = config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL;
  return url ? { url, poolMax: 2 } : { dataDir: config.DATA_DIR };
}
