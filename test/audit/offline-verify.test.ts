import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalEvent } from '../../src/audit/chain.js';
import type { ExportLine, ExportManifest } from '../../src/audit/export-format.js';
import { toExportLine } from '../../src/audit/export-format.js';
import { verifyExport } from '../../src/audit/offline-verify.js';
import { auditEvents, auditSeals } from '../../src/db/schema/index.js';
import { buildTestApp, testDatabase } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';

const execute = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const key = randomBytes(32).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'dialectic-audit-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm run audit:verify -- …` as an officer would run it, on a machine without the database. */
function auditVerifyCommand(args: string[], env: Record<string, string> = { AUDIT_HMAC_KEY: key }) {
  const cleanEnv = { ...process.env, DATABASE_URL: '', TEST_DATABASE_URL: '', AUDIT_HMAC_KEY: '', ...env };
  return execute(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], { cwd: root, env: cleanEnv }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

let fileCounter = 0;
const ndjson = (lines: object[]) => lines.map((line) => `${JSON.stringify(line)}\n`).join('');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The manifest the exporter would write for these lines: counts, chain positions and the content's sha256. */
function manifestFor(lines: ExportLine[], content: string, filters: Record<string, unknown> = {}): ExportManifest {
  const seqs = lines.flatMap((line) => (line.seal ? [line.seal.seq] : []));
  return {
    kind: 'dialectic-audit-export',
    version: 1,
    clinicId: lines[0]?.clinicId ?? '',
    format: 'ndjson',
    range: { from: '2020-01-01T00:00:00.000Z', to: new Date().toISOString() },
    filters,
    rowCount: lines.length,
    sha256: sha256(content),
    chain: {
      sealedRows: seqs.length,
      unsealedRows: lines.length - seqs.length,
      firstSeq: seqs.length > 0 ? Math.min(...seqs) : null,
      lastSeq: seqs.length > 0 ? Math.max(...seqs) : null,
    },
    generatedAt: new Date().toISOString(),
    exportedBy: lines[0]?.actorId ?? '',
  };
}

/** Writes an export (and its manifest file, unless told otherwise) to the temp dir; returns the paths. */
function writeExport(
  lines: ExportLine[],
  options: { manifest?: 'file' | 'inline' | 'none'; filters?: Record<string, unknown>; edit?: (m: ExportManifest) => void } = {},
) {
  const name = join(dir, `export-${fileCounter++}`);
  const content = ndjson(lines);
  const manifest = manifestFor(lines, content, options.filters);
  options.edit?.(manifest);
  const exportPath = `${name}.ndjson`;
  const mode = options.manifest ?? 'file';
  writeFileSync(exportPath, mode === 'inline' ? content + ndjson([{ manifest }]) : content);
  if (mode !== 'file') return { exportPath };
  const manifestPath = `${name}.manifest.json`;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return { exportPath, manifestPath };
}

const verify = (paths: { exportPath: string; manifestPath?: string }, withKey = key) => verifyExport({ ...paths, key: withKey });

describe('offline verification of an NDJSON audit export', async () => {
  const database = await testDatabase();
  const app = await buildTestApp({ AUDIT_HMAC_KEY: key });
  const { clinic, admin } = await createClinic();
  const therapist = await createStaffMember(clinic.id, ['therapist']);
  const adminAuth = bearer(tokenFor(app, admin));
  for (const request of [
    { url: '/v1/me', headers: adminAuth },
    { url: '/v1/staff', headers: adminAuth },
    { url: '/v1/staff', headers: bearer(tokenFor(app, therapist)) },
    { url: `/v1/staff/${therapist.id}`, headers: adminAuth },
    { url: '/v1/me', headers: bearer(tokenFor(app, therapist)) },
    { url: '/v1/me', headers: adminAuth },
  ]) {
    await app.inject({ method: 'GET', ...request });
  }

  // The sealer takes only events below the cluster's xmin: on a shared Postgres another file's open
  // transaction can hold the newest back for a moment, so seal until the clinic has nothing pending.
  const unsealedCount = async () => {
    const [row] = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(auditEvents)
      .leftJoin(auditSeals, and(eq(auditSeals.clinicId, auditEvents.clinicId), eq(auditSeals.eventId, auditEvents.id)))
      .where(and(eq(auditEvents.clinicId, clinic.id), isNull(auditSeals.seq)));
    return row?.n ?? 0;
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    await app.auditSealer.sealPending();
    if ((await unsealedCount()) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // One more request, recorded but not sealed: the export's unsealed tail.
  await app.inject({ method: 'GET', url: '/v1/me', headers: adminAuth });

  const rows = await database.db
    .select({ event: auditEvents, seal: auditSeals })
    .from(auditEvents)
    .leftJoin(auditSeals, and(eq(auditSeals.clinicId, auditEvents.clinicId), eq(auditSeals.eventId, auditEvents.id)))
    .where(eq(auditEvents.clinicId, clinic.id))
    .orderBy(sql`${auditSeals.seq} asc nulls last`, asc(auditEvents.id));
  const lines = rows.map(({ event, seal }) => toExportLine(event, seal && { seq: seal.seq, prevHmac: seal.prevHmac, hmac: seal.hmac }));
  const sealedCount = lines.filter((line) => line.seal).length;
  /** A copy of the export lines, so a test's tampering stays its own. */
  const copy = (): ExportLine[] => structuredClone(lines);

  it('the export has sealed lines from seq 1 and an unsealed tail', () => {
    expect(sealedCount).toBeGreaterThanOrEqual(6);
    expect(lines.slice(0, sealedCount).map((line) => line.seal?.seq)).toEqual(Array.from({ length: sealedCount }, (_, i) => i + 1));
    expect(lines.at(-1)?.seal).toBeNull();
  });

  it('a parsed line gives the same canonical text as the row it came from (ISO strings render like Dates)', () => {
    rows.forEach(({ event }, i) => {
      const parsed = JSON.parse(JSON.stringify(lines[i])) as ExportLine;
      expect(canonicalEvent(parsed as never)).toBe(canonicalEvent(event));
    });
  });

  it('a good export with a manifest file verifies through the command (exit 0)', async () => {
    const paths = writeExport(copy());
    const result = await auditVerifyCommand([paths.exportPath, '--manifest', paths.manifestPath as string]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Lines checked: ${lines.length} (${sealedCount} sealed, ${lines.length - sealedCount} unsealed)`);
    expect(result.stdout).toContain(`Sequence: 1 to ${sealedCount}`);
    expect(result.stdout).toContain(`Manifest (${paths.manifestPath}): OK`);
    expect(result.stdout).toContain('Result: OK');
  });

  it('a good export reports its counts and positions, and the manifest file matches', async () => {
    const report = await verify(writeExport(copy()));
    expect(report).toMatchObject({
      ok: true,
      linesChecked: lines.length,
      sealedRows: sealedCount,
      unsealedRows: lines.length - sealedCount,
      firstSeq: 1,
      lastSeq: sealedCount,
      clinicIds: [clinic.id],
      inSeqOrder: true,
      contentHashChecked: true,
      firstProblem: null,
      problemCount: 0,
    });
    expect(report.manifests).toMatchObject([{ source: 'file', ok: true, filtered: false }]);
  });

  it('an inline final manifest line is checked against every byte before it', async () => {
    const good = await verify(writeExport(copy(), { manifest: 'inline' }));
    expect(good).toMatchObject({ ok: true, linesChecked: lines.length, contentHashChecked: true });
    expect(good.manifests).toMatchObject([{ source: 'inline', line: lines.length + 1, ok: true }]);

    const edited = await verify(writeExport(copy(), { manifest: 'inline', edit: (m) => (m.rowCount += 1) }));
    expect(edited.firstProblem).toMatchObject({ line: lines.length + 1, reason: 'manifest-count-mismatch' });
  });

  it('without a manifest only the chain is checked, and the report says the hash was not', async () => {
    const report = await verify(writeExport(copy(), { manifest: 'none' }));
    expect(report).toMatchObject({ ok: true, manifests: [], contentHashChecked: false });
    const result = await auditVerifyCommand([report.exportPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('content hash not checked');
  });

  it('a tampered field fails at its line with hmac-mismatch (the manifest recomputed to match)', async () => {
    const tampered = copy();
    const target = tampered[2] as ExportLine;
    target.outcome = target.outcome === 'success' ? 'denied' : 'success';
    const paths = writeExport(tampered);
    const report = await verify(paths);
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ line: 3, eventId: target.id, seq: 3, reason: 'hmac-mismatch' });
    expect(report.problemCount).toBe(1);

    const result = await auditVerifyCommand([paths.exportPath, '--manifest', paths.manifestPath as string]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`First problem: line 3 (event ${target.id}, seq 3): hmac-mismatch`);
  });

  it('a removed line in an unfiltered export is a sequence gap at the next line; a filtered export allows it', async () => {
    const removed = copy();
    removed.splice(3, 1);
    const report = await verify(writeExport(removed));
    expect(report.firstProblem).toMatchObject({ line: 4, eventId: removed[3]?.id, seq: 5, reason: 'sequence-gap' });
    expect(report.firstProblem?.detail).toContain('1 record missing');
    expect(await verify(writeExport(removed, { manifest: 'none' }))).toMatchObject({ ok: false, firstProblem: { reason: 'sequence-gap' } });
    expect(await verify(writeExport(removed, { filters: { actorId: admin.id } }))).toMatchObject({ ok: true, problemCount: 0 });
  });

  it('lines out of seq order are checked sorted by seq', async () => {
    const swapped = copy();
    [swapped[1], swapped[4]] = [swapped[4] as ExportLine, swapped[1] as ExportLine];
    const report = await verify(writeExport(swapped));
    expect(report).toMatchObject({ ok: true, inSeqOrder: false, firstSeq: 1, lastSeq: sealedCount });
  });

  it('a duplicated line is a duplicate seq, and an edited link a previous-link mismatch', async () => {
    const duplicated = copy();
    duplicated.splice(2, 0, structuredClone(duplicated[1] as ExportLine));
    expect((await verify(writeExport(duplicated))).firstProblem).toMatchObject({ line: 3, seq: 2, reason: 'duplicate-seq' });

    const relinked = copy();
    (relinked[0]?.seal as { prevHmac: string }).prevHmac = 'f'.repeat(64);
    const report = await verify(writeExport(relinked));
    expect(report.problems).toMatchObject([
      { line: 1, seq: 1, reason: 'hmac-mismatch' },
      { line: 1, seq: 1, reason: 'previous-link-mismatch' },
    ]);
  });

  it('an edited manifest hash, count or chain position fails', async () => {
    const hash = await verify(writeExport(copy(), { edit: (m) => (m.sha256 = '0'.repeat(64)) }));
    expect(hash).toMatchObject({ ok: false, firstProblem: { line: null, reason: 'manifest-hash-mismatch' }, problemCount: 1 });
    expect(hash.manifests).toMatchObject([{ ok: false, expectedSha256: '0'.repeat(64) }]);
    const count = await verify(writeExport(copy(), { edit: (m) => (m.rowCount -= 1) }));
    expect(count.firstProblem).toMatchObject({ reason: 'manifest-count-mismatch' });
    const chain = await verify(writeExport(copy(), { edit: (m) => (m.chain.lastSeq = (m.chain.lastSeq ?? 0) + 1) }));
    expect(chain.firstProblem).toMatchObject({ reason: 'manifest-chain-mismatch' });

    // The export edited after the manifest was written: the hash no longer matches.
    const paths = writeExport(copy());
    writeFileSync(paths.exportPath, ndjson(copy().slice(0, -1)));
    const shortened = await verify(paths);
    expect(shortened.problems.map((p) => p.reason)).toEqual(expect.arrayContaining(['manifest-count-mismatch', 'manifest-hash-mismatch']));
  });

  it('a line that is not an export line is a parse error naming the line', async () => {
    const paths = writeExport(copy(), { manifest: 'none' });
    const content = ndjson(copy());
    const extra = { ...copy()[0], note: 'not covered by any hmac' };
    writeFileSync(paths.exportPath, `${content}{"id": "truncated\n${JSON.stringify(extra)}\n`);
    const report = await verify(paths);
    expect(report.problems.slice(0, 2)).toMatchObject([
      { line: lines.length + 1, eventId: null, reason: 'parse-error' },
      { line: lines.length + 2, eventId: extra.id, reason: 'parse-error' },
    ]);
  });

  it('another key fails every sealed line, the first named', async () => {
    const report = await verify(writeExport(copy()), randomBytes(32).toString('hex'));
    expect(report).toMatchObject({ ok: false, problemCount: sealedCount, firstProblem: { line: 1, seq: 1, reason: 'hmac-mismatch' } });
  });

  it('exits 2 without AUDIT_HMAC_KEY, on bad arguments or an unreadable file', async () => {
    const paths = writeExport(copy());
    const noKey = await auditVerifyCommand([paths.exportPath], {});
    expect(noKey).toMatchObject({ code: 2, stderr: expect.stringContaining('AUDIT_HMAC_KEY is required') });
    expect(await auditVerifyCommand([])).toMatchObject({ code: 2, stderr: expect.stringContaining('Missing: the export file') });
    expect(await auditVerifyCommand([paths.exportPath, '--bogus'])).toMatchObject({ code: 2 });
    expect(await auditVerifyCommand([join(dir, 'missing.ndjson')])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Cannot read'),
    });
  });
});
