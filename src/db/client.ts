import type { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import * as schema from './schema/index.js';

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
}

export type DatabaseOptions = { url: string; poolMax?: number } | { dataDir: string } | { pglite: PGlite; description?: string };

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if ('url' in options) return openPostgres(options.url, options.poolMax ?? 20);
  if ('dataDir' in options) {
    const { PGlite } = await import('@electric-sql/pglite');
    const client = await PGlite.create({ dataDir: options.dataDir });
    return wrapPglite(client, `embedded PGlite in ${options.dataDir}`);
  }
  return wrapPglite(options.pglite, options.description ?? 'embedded PGlite (in memory)');
}

async function openPostgres(url: string, poolMax: number): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 5000,
    application_name: 'dialectic',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = drizzle(pool, { schema }) as unknown as Db;
  const target = new URL(url);
  return {
    kind: 'postgres',
    db,
    description: `PostgreSQL at ${target.hostname}:${target.port || 5432}${target.pathname}`,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
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
