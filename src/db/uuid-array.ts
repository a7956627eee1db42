import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * A list of uuids as one array parameter: hundreds of ids cost one parameter, not hundreds. The ids
 * are validated uuids (from the database or the request schema), so the literal needs no quoting.
 */
export const uuidArray = (ids: string[]): SQL => sql`${`{${ids.join(',')}}`}::uuid[]`;

/** `column = any(ids)`, with the ids as one array parameter. */
export const inUuids = (column: AnyPgColumn | SQL, ids: string[]): SQL => sql`${column} = any(${uuidArray(ids)})`;
