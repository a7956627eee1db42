import { describe, expect, it } from 'vitest';
import { query } from './helpers/app.js';

/** Tables that are not owned by one clinic: the tenant table itself, and sign-in throttling. */
const notTenantOwned = ['clinics', 'login_throttle'];

interface KeyColumns {
  table_name: string;
  constraint_name: string;
  constraint_type: string;
  columns: string[];
  foreign_table: string | null;
}

describe('tenancy: every tenant table is keyed by clinic_id (ready for distribution by clinic)', async () => {
  const tables = (
    await query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_\\_%'",
    )
  ).map((row) => row.table_name);
  const withClinic = new Set(
    (
      await query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'clinic_id'",
      )
    ).map((row) => row.table_name),
  );
  const constraints = await query<KeyColumns>(`
    SELECT tc.table_name, tc.constraint_name, tc.constraint_type,
           array_agg(kcu.column_name::text ORDER BY kcu.ordinal_position) AS columns,
           (SELECT ccu.table_name FROM information_schema.constraint_column_usage ccu
             WHERE ccu.constraint_name = tc.constraint_name AND ccu.table_schema = 'public' LIMIT 1) AS foreign_table
      FROM information_schema.table_constraints tc
      JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
     WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
     GROUP BY tc.table_name, tc.constraint_name, tc.constraint_type`);
  const tenantTables = tables.filter((table) => !notTenantOwned.includes(table));

  it('finds the tables it checks', () => {
    expect(tenantTables).toEqual(expect.arrayContaining(['staff', 'audit_events', 'audit_seals', 'break_glass_grants']));
  });

  it.each(tenantTables)('%s has clinic_id, in its primary key, unique keys and foreign keys', (table) => {
    expect(withClinic.has(table), `${table} has no clinic_id`).toBe(true);
    const own = constraints.filter((c) => c.table_name === table);
    const primary = own.find((c) => c.constraint_type === 'PRIMARY KEY');
    expect(primary?.columns, `${table} primary key`).toContain('clinic_id');
    for (const key of own.filter((c) => c.constraint_type !== 'PRIMARY KEY')) {
      if (key.constraint_type === 'FOREIGN KEY' && key.foreign_table === 'clinics') continue;
      expect(key.columns, `${table}.${key.constraint_name}`).toContain('clinic_id');
    }
  });
});
