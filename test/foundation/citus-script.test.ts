import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { query } from '../helpers/app.js';

/**
 * scripts/citus.sql against the schema the migrations build: every tenant table (one with
 * clinic_id) is distributed by clinic_id and can be (its keys and foreign keys carry clinic_id),
 * every other table is a reference table or kept on the coordinator with a reason. Reads only the
 * catalogue, so it runs on PGlite and PostgreSQL alike. docs/scaling.md explains the rules.
 */

const scriptText = readFileSync(new URL('../../scripts/citus.sql', import.meta.url), 'utf8');
const DISTRIBUTION_COLUMN = 'clinic_id';

type CallKind = 'distributed' | 'reference' | 'local';
interface Call {
  kind: CallKind;
  table: string;
  column?: string;
  colocateWith?: string;
  /** The comment block right above the line (the reason a table stays local). */
  comment: string;
  line: number;
}

const callPatterns: Array<[CallKind, RegExp]> = [
  ['distributed', /^select create_distributed_table\('(\w+)', '(\w+)'(?:, colocate_with => '(\w+)')?\);$/i],
  ['reference', /^select create_reference_table\('(\w+)'\);$/i],
  ['local', /^select citus_add_local_table_to_metadata\('(\w+)'\);$/i],
];
const anyCall = /create_distributed_table|create_reference_table|citus_add_local_table_to_metadata/i;

/** The script's Citus calls, one per line; a line that names a Citus function in another form is unparsed. */
function parseScript(text: string) {
  const calls: Call[] = [];
  const unparsed: string[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line.startsWith('--') || !anyCall.test(line)) continue;
    const found = callPatterns.map(([kind, pattern]) => [kind, pattern.exec(line)] as const).find(([, match]) => match);
    if (!found?.[1]) {
      unparsed.push(`line ${index + 1}: ${line}`);
      continue;
    }
    const [kind, [, table = '', second, third]] = found;
    let above = index - 1;
    while (above >= 0 && lines[above]?.trim().startsWith('--')) above -= 1;
    const comment = lines.slice(above + 1, index).join('\n');
    calls.push(
      kind === 'distributed'
        ? { kind, table, column: second, colocateWith: third, comment, line: index + 1 }
        : { kind, table, comment, line: index + 1 },
    );
  }
  return { calls, unparsed };
}
type Script = ReturnType<typeof parseScript>;

interface Catalog {
  tables: Array<{ name: string; kind: string; tenant: boolean; clinicIdType: string | null; clinicIdNotNull: boolean | null }>;
  keys: Array<{ table: string; key: string; columns: string[] }>;
  foreignKeys: Array<{ table: string; key: string; references: string; pairs: string[] }>;
}

/** Tables (partitions are their parent's storage), unique keys and foreign keys of one schema. */
async function readCatalog(schema: string): Promise<Catalog> {
  const tables = await query<Catalog['tables'][number]>(sql`
    select c.relname as name, c.relkind::text as kind, a.attname is not null as tenant,
           format_type(a.atttypid, a.atttypmod) as "clinicIdType", a.attnotnull as "clinicIdNotNull"
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      left join pg_attribute a on a.attrelid = c.oid and a.attname = ${DISTRIBUTION_COLUMN} and a.attnum > 0 and not a.attisdropped
     where n.nspname = ${schema} and c.relkind in ('r', 'p') and not c.relispartition
     order by c.relname`);
  // Unique indexes back primary keys and unique constraints; exclusion constraints are unique too.
  // Only key columns count (not INCLUDE), and an expression is not the column.
  const keys = await query<Catalog['keys'][number]>(sql`
    select c.relname as table, i.relname as key,
           array(select a.attname::text from generate_series(0, x.indnkeyatts - 1) k
                   join pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[k])::text[] as columns
      from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and x.indisunique and not c.relispartition
    union all
    select c.relname, con.conname,
           array(select a.attname::text from unnest(con.conkey) k join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k)::text[]
      from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${schema} and con.contype = 'x' and not c.relispartition
     order by 1, 2`);
  // Keys cloned onto partitions (conparentid <> 0) follow their parent's.
  const foreignKeys = await query<Catalog['foreignKeys'][number]>(sql`
    select src.relname as table, con.conname as key, dst.relname as references,
           array(select a.attname::text || '>' || b.attname::text from unnest(con.conkey, con.confkey) as k(s, d)
                   join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.s
                   join pg_attribute b on b.attrelid = con.confrelid and b.attnum = k.d)::text[] as pairs
      from pg_constraint con join pg_class src on src.oid = con.conrelid join pg_class dst on dst.oid = con.confrelid
      join pg_namespace n on n.oid = src.relnamespace
     where n.nspname = ${schema} and con.contype = 'f' and con.conparentid = 0 and not src.relispartition
     order by 1, 2`);
  return { tables, keys, foreignKeys };
}

const named = (script: Script, kind: CallKind) => script.calls.filter((call) => call.kind === kind);

/** Every table in the right call, and every call naming a table that fits it. */
function placementProblems(catalog: Catalog, script: Script): string[] {
  const problems = script.unparsed.map((line) => `unparsed Citus call, ${line}`);
  const byName = new Map(catalog.tables.map((table) => [table.name, table]));
  const counts = new Map<string, number>();
  for (const call of script.calls) counts.set(call.table, (counts.get(call.table) ?? 0) + 1);
  for (const [table, count] of counts) if (count > 1) problems.push(`${table}: named in ${count} Citus calls`);
  for (const table of catalog.tables) {
    const calls = script.calls.filter((call) => call.table === table.name);
    if (table.tenant && !calls.some((call) => call.kind === 'distributed'))
      problems.push(`${table.name}: tenant table not distributed by create_distributed_table`);
    const local = calls.find((call) => call.kind === 'local');
    if (!table.tenant && !calls.some((call) => call.kind === 'reference') && !local?.comment.includes(table.name))
      problems.push(`${table.name}: no clinic_id, and neither a reference table nor kept local with a comment naming it`);
  }
  for (const call of script.calls) {
    const table = byName.get(call.table);
    if (!table) problems.push(`${call.table}: in a ${call.kind} call on line ${call.line}, but no such table`);
    else if (call.kind === 'distributed' && !table.tenant) problems.push(`${call.table}: distributed, but has no clinic_id`);
    else if (call.kind !== 'distributed' && table.tenant) problems.push(`${call.table}: has clinic_id, but is a ${call.kind} table`);
    if (call.kind === 'distributed' && call.column !== DISTRIBUTION_COLUMN)
      problems.push(`${call.table}: distributed by ${call.column}, not ${DISTRIBUTION_COLUMN}`);
  }
  const [anchor, ...rest] = named(script, 'distributed');
  if (anchor?.colocateWith) problems.push(`${anchor.table}: the first distributed table names colocate_with ${anchor.colocateWith}`);
  for (const call of rest)
    if (call.colocateWith !== anchor?.table)
      problems.push(`${call.table}: colocate_with ${call.colocateWith ?? '(none)'}, not ${anchor?.table}`);
  return problems;
}

/** Citus refuses a primary key, unique key or exclusion constraint without the distribution column. */
function keyProblems(catalog: Catalog): string[] {
  const tenants = new Set(catalog.tables.filter((table) => table.tenant).map((table) => table.name));
  return catalog.keys
    .filter((key) => tenants.has(key.table) && !key.columns.includes(DISTRIBUTION_COLUMN))
    .map((key) => `${key.table}: key ${key.key} (${key.columns.join(', ') || 'expressions'}) lacks clinic_id`);
}

/**
 * Between colocated tables a foreign key must pair clinic_id with clinic_id; from a tenant table
 * it may also point at a reference table; nothing but a tenant table may point at one. Citus
 * distributes a table only after the tables its keys reference.
 */
function foreignKeyProblems(catalog: Catalog, script: Script): string[] {
  const tenants = new Set(catalog.tables.filter((table) => table.tenant).map((table) => table.name));
  const references = new Set(named(script, 'reference').map((call) => call.table));
  const lineOf = new Map(script.calls.map((call) => [call.table, call.line]));
  const problems: string[] = [];
  for (const fk of catalog.foreignKeys) {
    const label = `${fk.table}: foreign key ${fk.key} to ${fk.references}`;
    if (tenants.has(fk.table) && tenants.has(fk.references) && !fk.pairs.includes(`${DISTRIBUTION_COLUMN}>${DISTRIBUTION_COLUMN}`))
      problems.push(`${label} does not pair clinic_id with clinic_id (${fk.pairs.join(', ')})`);
    if (tenants.has(fk.table) && !tenants.has(fk.references) && !references.has(fk.references))
      problems.push(`${label}, which is not a reference table`);
    if (!tenants.has(fk.table) && tenants.has(fk.references)) problems.push(`${label}: a table without clinic_id points at a tenant table`);
    const [from, to] = [lineOf.get(fk.table), lineOf.get(fk.references)];
    if (from !== undefined && to !== undefined && fk.table !== fk.references && to > from)
      problems.push(`${label}: ${fk.references} is placed on line ${to}, after ${fk.table} on line ${from}`);
  }
  return problems;
}

/** Colocated tables share one distribution column type, and a row without a clinic has no shard. */
function columnProblems(catalog: Catalog): string[] {
  const tenants = catalog.tables.filter((table) => table.tenant);
  const problems = tenants.filter((table) => !table.clinicIdNotNull).map((table) => `${table.name}: clinic_id may be null`);
  const tablesByType = new Map<string | null, string[]>();
  for (const table of tenants) tablesByType.set(table.clinicIdType, [...(tablesByType.get(table.clinicIdType) ?? []), table.name]);
  if (tablesByType.size > 1) {
    const listed = [...tablesByType].map(([type, names]) => `${type} (${names.join(', ')})`);
    problems.push(`clinic_id has ${tablesByType.size} types: ${listed.join('; ')}`);
  }
  return problems;
}

const problemsOf = (catalog: Catalog, script: Script) => [
  ...placementProblems(catalog, script),
  ...keyProblems(catalog),
  ...foreignKeyProblems(catalog, script),
  ...columnProblems(catalog),
];

const script = parseScript(scriptText);
const catalog = await readCatalog('public');

describe('scripts/citus.sql against the migrated schema', () => {
  it('reads a schema with tenant tables, among them the partitioned audit trail, and a script with calls', () => {
    expect(catalog.tables.filter((table) => table.tenant).length).toBeGreaterThan(0);
    expect(catalog.tables.find((table) => table.name === 'audit_events')).toMatchObject({ kind: 'p', tenant: true });
    expect(named(script, 'distributed').length).toBeGreaterThan(0);
    expect(script.unparsed).toEqual([]);
  });

  it('distributes every tenant table by clinic_id in one colocation group, and places every other table', () => {
    expect(placementProblems(catalog, script)).toEqual([]);
  });

  it('finds clinic_id in every primary key, unique key and exclusion constraint of a tenant table', () => {
    expect(keyProblems(catalog)).toEqual([]);
  });

  it('finds clinic_id paired in every foreign key between tenant tables, each referenced table placed first', () => {
    expect(foreignKeyProblems(catalog, script)).toEqual([]);
  });

  it('gives clinic_id one type and NOT NULL in every tenant table', () => {
    expect(columnProblems(catalog)).toEqual([]);
  });

  it('keeps every application table in the public schema', async () => {
    const elsewhere = await query<{ name: string }>(sql`
      select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p') and n.nspname not in ('public', 'drizzle', 'information_schema') and n.nspname not like 'pg\_%'`);
    expect(elsewhere).toEqual([]);
  });
});

describe('the checks fire', () => {
  it('on a script that leaves a table out, distributes one by another column, or orders a referenced table late', () => {
    const distributed = named(script, 'distributed');
    const last = distributed.at(-1) as Call;
    const anchor = distributed[0] as Call;
    const lines = scriptText.split('\n');
    const mutated = lines
      .filter((_, index) => index + 1 !== last.line && index + 1 !== anchor.line)
      .concat(`SELECT create_distributed_table('${anchor.table}', 'id');`)
      .join('\n');
    const problems = problemsOf(catalog, parseScript(mutated));
    expect(problems).toContain(`${last.table}: tenant table not distributed by create_distributed_table`);
    expect(problems).toContain(`${anchor.table}: distributed by id, not clinic_id`);
    const referencing = catalog.foreignKeys.find(
      (fk) => fk.references === anchor.table && fk.table !== anchor.table,
    ) as Catalog['foreignKeys'][number];
    expect(
      problems.some((problem) => problem.startsWith(`${referencing.table}: foreign key ${referencing.key} to ${anchor.table}: `)),
    ).toBe(true);
  });

  describe('on a schema that breaks the rules', () => {
    const probe = 'citus_probe';
    afterAll(async () => {
      await query(`drop schema if exists ${probe} cascade`);
    });

    it('reports keys and foreign keys without clinic_id, a missing reference table and a second clinic_id type', async () => {
      await query(`create schema ${probe}`);
      await query(`create table ${probe}.probe_cards (clinic_id uuid not null, id uuid not null, code text not null,
                     primary key (clinic_id, id), constraint probe_cards_code_key unique (code))`);
      await query(`create table ${probe}.probe_marks (clinic_id text, id uuid constraint probe_marks_pkey primary key,
                     card_code text constraint probe_marks_card_fk references ${probe}.probe_cards (code))`);
      await query(`create table ${probe}.probe_codes (code text primary key)`);
      await query(`create table ${probe}.${anchorName()} (id uuid primary key)`);
      const problems = problemsOf(await readCatalog(probe), script);
      expect(problems).toEqual(
        expect.arrayContaining([
          'probe_cards: tenant table not distributed by create_distributed_table',
          'probe_codes: no clinic_id, and neither a reference table nor kept local with a comment naming it',
          `${anchorName()}: distributed, but has no clinic_id`,
          'probe_cards: key probe_cards_code_key (code) lacks clinic_id',
          'probe_marks: key probe_marks_pkey (id) lacks clinic_id',
          'probe_marks: foreign key probe_marks_card_fk to probe_cards does not pair clinic_id with clinic_id (card_code>code)',
          'probe_marks: clinic_id may be null',
          'clinic_id has 2 types: uuid (probe_cards); text (probe_marks)',
        ]),
      );
    });
  });
});

function anchorName() {
  return (named(script, 'distributed')[0] as Call).table;
}
