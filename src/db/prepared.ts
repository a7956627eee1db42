import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client.js';

interface Session {
  prepareQuery(
    query: ReturnType<PgDialect['sqlToQuery']>,
    fields: undefined,
    name: string,
    isResponseInArrayMode: false,
  ): { execute(): Promise<{ rows: unknown[] }> };
}

/**
 * Runs a statement as a named prepared statement: each connection parses and plans it once, and
 * after five runs PostgreSQL keeps a generic plan, if that is no worse than the custom ones, and
 * plans it no more. For the few statements on the hot write paths, whose text never changes
 * (values are parameters) and whose plans are index lookups by clinic and key: parsing and
 * planning them under row-level security cost more than running them. One name, one text — the
 * driver refuses a second text under a name it has prepared. PGlite ignores the name.
 */
export async function executePrepared<Row>(db: DbOrTx, name: string, query: SQL): Promise<{ rows: Row[] }> {
  const { session, dialect } = db as unknown as { session: Session; dialect: PgDialect };
  const result = await session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false).execute();
  return result as { rows: Row[] };
}
