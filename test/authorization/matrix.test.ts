import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessBasis } from '../../src/lib/context.js';
import { buildTestApp, newRequestId, query } from '../helpers/app.js';
import { bearer } from '../helpers/factories.js';
import { routeSamples } from '../helpers/route-contract.js';
import { buildWorld, type Column, columns, type Resolve, type Scope, scopes, type World } from './fixtures.js';

/**
 * Runs every cell of matrix.md through HTTP: each route, as each column, about each relationship
 * of the route's scope, and compares the outcome with the table.
 */

const codes = ['A', 'D', 'N', 'U'] as const;

interface Row {
  key: string;
  scope: Scope;
  cells: Record<Column, string[]>;
}

function parseMatrix(text: string): Map<string, Row> {
  const cellsOf = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
  const lines = text.split('\n').filter((line) => line.startsWith('|'));
  const header = lines.find((line) => cellsOf(line)[0] === 'route');
  if (!header) throw new Error('matrix.md has no table with a "route" column');
  const names = cellsOf(header);
  const rows = new Map<string, Row>();
  for (const line of lines) {
    const cells = cellsOf(line);
    const route = /^`([A-Z]+ \S+)`$/.exec(cells[0] ?? '')?.[1];
    if (!route) continue;
    const scope = cells[names.indexOf('scope')] as Scope;
    if (!Object.hasOwn(scopes, scope)) throw new Error(`matrix.md, ${route}: unknown scope "${scope}"`);
    if (rows.has(route)) throw new Error(`matrix.md: ${route} has two rows`);
    const row = { key: route, scope, cells: {} as Record<Column, string[]> };
    for (const column of columns) {
      const cell = (cells[names.indexOf(column)] ?? '').split(/\s+/).filter(Boolean);
      const valid = cell.length === scopes[scope].length && cell.every((code) => (codes as readonly string[]).includes(code));
      if (!valid) throw new Error(`matrix.md, ${route}, ${column}: "${cell.join(' ')}" is not one of ${codes} per ${scopes[scope]}`);
      row.cells[column] = cell;
    }
    rows.set(route, row);
  }
  return rows;
}

const app = await buildTestApp();
const matrix = parseMatrix(readFileSync(new URL('./matrix.md', import.meta.url), 'utf8'));
const routes = new Map<string, { method: string; url: string }>(
  app.routeRegistry.flatMap((route) =>
    [route.method].flat().map((method) => [`${method} ${route.url}`, { method, url: route.url }] as const),
  ),
);

const reason = 'Synthetic emergency: the primary therapist is unreachable';

/** Requests whose sample in the route-contract table names ids that must exist in this world. */
const bodies: Record<string, (world: World, resolve: Resolve) => unknown> = {
  'POST /v1/auth/login': (world) => world.login,
  'POST /v1/clients': (world) => ({ givenName: 'Matrix', familyName: 'Synthetic', dateOfBirth: '1990-01-01', programId: world.program.id }),
  'POST /v1/break-glass': async (_, resolve) => ({ clientId: await resolve('/v1/clients'), reason, minutes: 30 }),
  'POST /v1/clients/:id/chain-analyses': async (_, resolve) => ({
    ...(routeSamples['POST /v1/clients/:id/chain-analyses']?.body as object),
    eventId: await resolve('eventId'),
  }),
  'POST /v1/skills-groups': (world) => ({
    ...(routeSamples['POST /v1/skills-groups']?.body as object),
    programId: world.program.id,
    leaderId: world.outsideTrainer.id,
  }),
  'POST /v1/skills-groups/:id/enrollments': (world) => ({ clientId: world.enrollee, startDate: '2024-01-15' }),
  'PUT /v1/group-sessions/:id/attendance': (world) => ({
    entries: [{ clientId: world.rosterClient, status: 'present', homeworkReviewed: true }],
  }),
  'POST /v1/teams': (world) => ({ programId: world.program.id, name: 'Matrix probe team', leadId: world.outsideLead.id }),
  'POST /v1/teams/:id/members': (world) => ({ staffId: world.newcomer.id }),
};

/** The path with its parameters resolved: the first by the path before it, the others by name. */
async function fillPath(url: string, resolve: Resolve): Promise<string> {
  const parts = url.split('/');
  const first = parts.findIndex((part) => part.startsWith(':'));
  const filled = parts.map((part, index) => {
    if (part === '*') return 'swagger-ui.css';
    if (!part.startsWith(':')) return part;
    return resolve(index === first ? parts.slice(0, index).join('/') : part.slice(1));
  });
  return (await Promise.all(filled)).join('/');
}

/** A 400 counts as allowed only when the service had already granted access (the audit record's basis names how). */
async function passedRelationshipCheck(requestId: string): Promise<boolean> {
  const [record] = await query<{ access_basis: AccessBasis | null }>(
    sql`select access_basis from audit_events where request_id = ${requestId}`,
  );
  const basis = record?.access_basis;
  return Boolean(basis?.grantId || (basis?.relationship && basis.relationship !== 'self'));
}

async function classify(status: number, requestId: string): Promise<string> {
  if (status === 401) return 'U';
  if (status === 403) return 'D';
  if (status === 404) return 'N';
  if (status < 400 || [409, 412, 422, 428].includes(status)) return 'A';
  if (status === 400 && (await passedRelationshipCheck(requestId))) return 'A';
  return `unclassified ${status}`;
}

async function observe(world: World, key: string, scope: Scope, column: Column, relationship: string) {
  const { method, url } = routes.get(key) as { method: string; url: string };
  const setting = await world.setting(scope, column, relationship, method !== 'GET' && method !== 'HEAD');
  const sample = routeSamples[key] ?? {};
  const path = await fillPath(url, setting.resolve);
  const payload = bodies[key] ? await bodies[key](world, setting.resolve) : sample.body;
  const requestId = newRequestId();
  const response = await app.inject({
    method: method as 'GET',
    url: sample.query ? `${path}?${new URLSearchParams(sample.query)}` : path,
    headers: { ...sample.headers, ...(setting.token ? bearer(setting.token) : {}), 'x-request-id': requestId },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  const code = await classify(response.statusCode, requestId);
  const problem = String(response.headers['content-type']).includes('problem+json') ? (response.json() as { detail?: string }).detail : '';
  return { code, detail: `${response.statusCode}${problem ? ` ${problem}` : ''}` };
}

describe('authorization matrix (test/authorization/matrix.md)', () => {
  let world: World;
  let checked = 0;
  beforeAll(async () => {
    world = await buildWorld(app);
  });
  afterAll(() => {
    if (checked > 0) process.stdout.write(`authorization matrix: ${checked} cells checked\n`);
  });

  it('has one row for every route, and no row for a route that does not exist', () => {
    expect([...routes.keys()].filter((key) => !matrix.has(key))).toEqual([]);
    expect([...matrix.keys()].filter((key) => !routes.has(key))).toEqual([]);
  });

  it.each([...matrix.values()].filter((row) => routes.has(row.key)).map((row) => [row.key, row] as const))('%s', async (key, row) => {
    const differences: string[] = [];
    const runColumn = async (column: Column) => {
      for (const [index, relationship] of scopes[row.scope].entries()) {
        const expected = row.cells[column][index];
        const observed = await observe(world, key, row.scope, column, relationship);
        checked += 1;
        if (observed.code !== expected) {
          differences.push(`${column} / ${relationship}: table ${expected}, API ${observed.code} (${observed.detail})`);
        }
      }
    };
    // Reads change nothing, so the columns of a read run side by side; writes one after another.
    if (['GET', 'HEAD'].includes(routes.get(key)?.method ?? '')) await Promise.all(columns.map(runColumn));
    else for (const column of columns) await runColumn(column);
    expect(differences.sort(), key).toEqual([]);
  });
});
