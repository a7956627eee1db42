// Checks an NDJSON audit export without the database:
//   AUDIT_HMAC_KEY=… npm run audit:verify -- export.ndjson [--manifest manifest.json]
// A final `{"manifest": …}` line in the export is checked as its manifest. Exit 0: everything
// checks; 1: a line, the chain or the manifest is wrong; 2: missing key, bad arguments, unreadable file.
import { parseArgs } from 'node:util';
import { type OfflineProblem, type OfflineReport, verifyExport } from '../src/audit/offline-verify.js';

const usage = 'Usage: npm run audit:verify -- <export.ndjson> [--manifest <manifest.json>]  (AUDIT_HMAC_KEY in the environment)';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ options: { manifest: { type: 'string' } }; allowPositionals: true }>>;
try {
  parsed = parseArgs({ options: { manifest: { type: 'string' } }, allowPositionals: true });
} catch (error) {
  fail((error as Error).message);
}
const [exportPath, ...extra] = parsed.positionals;
if (!exportPath) fail('Missing: the export file');
if (extra.length > 0) fail(`Unexpected arguments: ${extra.join(' ')}`);
const key = process.env.AUDIT_HMAC_KEY;
if (!key) fail('AUDIT_HMAC_KEY is required: the key the chain was sealed with');
if (key.length < 32) fail('AUDIT_HMAC_KEY must be at least 32 characters');

function describe(p: OfflineProblem): string {
  const where = p.line === null ? 'manifest file' : `line ${p.line}`;
  const about = [p.eventId ? `event ${p.eventId}` : '', p.seq !== null ? `seq ${p.seq}` : ''].filter(Boolean).join(', ');
  return `${where}${about ? ` (${about})` : ''}: ${p.reason} — ${p.detail}`;
}

function render(report: OfflineReport): string {
  const out = [`Audit export: ${report.exportPath}`];
  out.push(`Lines checked: ${report.linesChecked} (${report.sealedRows} sealed, ${report.unsealedRows} unsealed)`);
  if (report.clinicIds.length > 0) out.push(`Clinic: ${report.clinicIds.join(', ')}`);
  out.push(
    report.firstSeq === null
      ? 'Sequence: no sealed lines'
      : `Sequence: ${report.firstSeq} to ${report.lastSeq}${report.inSeqOrder ? '' : ' (lines not in seq order; checked sorted by seq)'}`,
  );
  if (report.manifests.length === 0) out.push('Manifest: none given — content hash not checked; every gap counts as missing records');
  for (const m of report.manifests) {
    const where = m.source === 'inline' ? `inline, line ${m.line}` : m.path;
    out.push(`Manifest (${where}): ${m.ok ? 'OK' : 'MISMATCH'}${m.filtered ? ' (filtered export: gaps allowed)' : ''}`);
    out.push(`  sha256 expected ${m.expectedSha256 ?? '(unreadable)'}, actual ${m.actualSha256}`);
  }
  if (report.ok) {
    out.push('Result: OK');
  } else {
    out.push(`Result: FAILED (${report.problemCount} problem${report.problemCount === 1 ? '' : 's'})`);
    if (report.firstProblem) out.push(`First problem: ${describe(report.firstProblem)}`);
    const more = report.problems.slice(1, 10);
    for (const p of more) out.push(`  also ${describe(p)}`);
    if (report.problemCount > more.length + 1) out.push(`  … and ${report.problemCount - more.length - 1} more`);
  }
  return `${out.join('\n')}\n`;
}

try {
  const report = await verifyExport({ exportPath, manifestPath: parsed.values.manifest, key });
  process.stdout.write(render(report));
  process.exitCode = report.ok ? 0 : 1;
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') fail(`Cannot read: ${(error as Error).message}`);
  throw error;
}
