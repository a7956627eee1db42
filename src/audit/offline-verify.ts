import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type AuditEventRow, chainHmac, GENESIS_HMAC } from './chain.js';
import { type ExportLine, type ExportManifest, exportManifest } from './export-format.js';

export type OfflineProblemReason =
  | 'parse-error'
  | 'hmac-mismatch'
  | 'previous-link-mismatch'
  | 'sequence-gap'
  | 'duplicate-seq'
  | 'clinic-mismatch'
  | 'manifest-invalid'
  | 'manifest-count-mismatch'
  | 'manifest-hash-mismatch'
  | 'manifest-chain-mismatch';

export interface OfflineProblem {
  /** 1-based line of the export file; null for a problem of a separate manifest file. */
  line: number | null;
  eventId: string | null;
  seq: number | null;
  reason: OfflineProblemReason;
  detail: string;
}

export interface ManifestCheck {
  source: 'inline' | 'file';
  /** The manifest file, or the export file for an inline manifest. */
  path: string;
  /** The manifest line's number (inline only). */
  line: number | null;
  ok: boolean;
  /** Whether the manifest declares filters, which allows gaps in the chain. */
  filtered: boolean;
  expectedSha256: string | null;
  actualSha256: string;
}

export interface OfflineReport {
  ok: boolean;
  exportPath: string;
  /** Event lines (every line but an inline manifest), parseable or not. */
  linesChecked: number;
  sealedRows: number;
  unsealedRows: number;
  firstSeq: number | null;
  lastSeq: number | null;
  clinicIds: string[];
  /** False when some clinic's seals are not in ascending seq order in the file (checked sorted). */
  inSeqOrder: boolean;
  /** Empty: no manifest given, so the content hash was not checked. */
  manifests: ManifestCheck[];
  contentHashChecked: boolean;
  /** The first problem by line (manifest-file problems last), or null. */
  firstProblem: OfflineProblem | null;
  problemCount: number;
  /** The first problems, in the same order, at most MAX_PROBLEMS. */
  problems: OfflineProblem[];
}

const MAX_PROBLEMS = 100;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const uuid = z.uuid();
/** Present, any JSON (null included): a missing key would otherwise hash like null. */
const jsonValue = z.json();

/** An export line exactly as `toExportLine` writes it; unknown keys are refused, since no HMAC covers them. */
const exportLineSchema = z.strictObject({
  clinicId: uuid,
  id: uuid,
  txid: z.string().regex(/^\d+$/),
  occurredAt: z.string(),
  endedAt: z.string().nullable(),
  recordedAt: z.string(),
  requestId: z.string(),
  actorType: z.enum(['staff', 'anonymous', 'system']),
  actorId: uuid.nullable(),
  actorRoles: z.array(z.string()),
  action: z.enum(['C', 'R', 'U', 'D', 'E']),
  subtype: z.string(),
  outcome: z.enum(['success', 'denied', 'failure', 'error']),
  httpStatus: z.number().int(),
  denialReason: z.string().nullable(),
  method: z.string(),
  route: z.string(),
  resourceType: z.string().nullable(),
  resourceId: z.string().nullable(),
  clientIds: z.array(uuid),
  dataCategory: z.string().nullable(),
  purposeOfUse: z.string().nullable(),
  accessBasis: jsonValue,
  query: jsonValue,
  details: jsonValue,
  resultCount: z.number().int().nullable(),
  sourceIp: z.string().nullable(),
  userAgent: z.string().nullable(),
  serviceVersion: z.string(),
  seal: z.strictObject({ seq: z.number().int().positive(), prevHmac: hex64, hmac: hex64 }).nullable(),
}) satisfies z.ZodType<ExportLine>;

const inlineManifestLine = z.strictObject({ manifest: z.unknown() });

/** What the continuity check keeps of a sealed line: its position and links, not the event. */
interface SealedEntry {
  seq: number;
  line: number;
  eventId: string;
  prevHmac: string;
  hmac: string;
}

/** The file's lines as exact bytes (terminator included), so hashes cover what is on disk. */
async function* rawLines(path: string): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let newline = data.indexOf(0x0a);
    while (newline !== -1) {
      yield data.subarray(0, newline + 1);
      data = data.subarray(newline + 1);
      newline = data.indexOf(0x0a);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) yield rest;
}

function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(line)';
  return `${path}: ${issue.message}`;
}

/**
 * Checks an NDJSON audit export without the database: every sealed line hashes to its seal under
 * the key, each clinic's seals link up in seq order, and the manifest (an inline final
 * `{"manifest": …}` line and/or a separate file) matches the content's count, hash and chain
 * positions. Reads the file as a stream; memory grows by one small entry per sealed line.
 */
export async function verifyExport(input: { exportPath: string; manifestPath?: string; key: string }): Promise<OfflineReport> {
  const problems: OfflineProblem[] = [];
  const problem = (p: OfflineProblem) => problems.push(p);

  // A separate manifest is read first so a missing file fails before the export is streamed.
  const fileManifestText = input.manifestPath === undefined ? null : await readFile(input.manifestPath, 'utf8');

  const wholeFile: Hash = createHash('sha256');
  const beforeManifest: Hash = createHash('sha256');
  const sealedByClinic = new Map<string, SealedEntry[]>();
  const clinicIds = new Set<string>();
  let lineNo = 0;
  let eventLines = 0;
  let unsealed = 0;
  let inline: { line: number; value: unknown; sha256: string } | null = null;
  let lineAfterManifest = false;

  for await (const bytes of rawLines(input.exportPath)) {
    lineNo++;
    wholeFile.update(bytes);
    let raw: unknown;
    let notJson: string | null = null;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      notJson = (error as Error).message;
    }
    if (notJson === null && inlineManifestLine.safeParse(raw).success) {
      if (inline !== null) {
        problem({
          line: lineNo,
          eventId: null,
          seq: null,
          reason: 'parse-error',
          detail: `a second manifest line (first on line ${inline.line})`,
        });
      } else {
        inline = { line: lineNo, value: (raw as { manifest: unknown }).manifest, sha256: beforeManifest.copy().digest('hex') };
      }
      continue;
    }
    if (inline !== null && !lineAfterManifest) {
      lineAfterManifest = true;
      problem({
        line: lineNo,
        eventId: null,
        seq: null,
        reason: 'parse-error',
        detail: `the manifest (line ${inline.line}) is not the last line`,
      });
    }
    if (inline === null) beforeManifest.update(bytes);
    eventLines++;
    if (notJson !== null) {
      problem({ line: lineNo, eventId: null, seq: null, reason: 'parse-error', detail: `not JSON: ${notJson}` });
      continue;
    }
    const parsed = exportLineSchema.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      const eventId = typeof id === 'string' ? id : null;
      problem({ line: lineNo, eventId, seq: null, reason: 'parse-error', detail: describeZodError(parsed.error) });
      continue;
    }
    const line = parsed.data;
    clinicIds.add(line.clinicId);
    if (line.seal === null) {
      unsealed++;
      continue;
    }
    const { seq, prevHmac, hmac } = line.seal;
    // canonicalJson renders a Date as its ISO string, so the line's ISO strings give the same text as the row.
    if (chainHmac(input.key, line.clinicId, seq, prevHmac, line as unknown as AuditEventRow) !== hmac) {
      problem({ line: lineNo, eventId: line.id, seq, reason: 'hmac-mismatch', detail: `the line does not hash to its seal at seq ${seq}` });
    }
    const entries = sealedByClinic.get(line.clinicId) ?? [];
    if (entries.length === 0) sealedByClinic.set(line.clinicId, entries);
    entries.push({ seq, line: lineNo, eventId: line.id, prevHmac, hmac });
  }

  const manifests: { check: ManifestCheck; manifest: ExportManifest | null }[] = [];
  const readManifest = (source: 'inline' | 'file', value: unknown, line: number | null, actualSha256: string) => {
    const path = source === 'file' ? (input.manifestPath as string) : input.exportPath;
    const parsed = exportManifest.safeParse(value);
    if (!parsed.success) {
      problem({
        line,
        eventId: null,
        seq: null,
        reason: 'manifest-invalid',
        detail: `${source} manifest: ${describeZodError(parsed.error)}`,
      });
    }
    const manifest = parsed.success ? parsed.data : null;
    const filtered = manifest !== null && Object.keys(manifest.filters).length > 0;
    manifests.push({
      check: { source, path, line, ok: manifest !== null, filtered, expectedSha256: manifest?.sha256 ?? null, actualSha256 },
      manifest,
    });
  };
  if (inline) readManifest('inline', inline.value, inline.line, inline.sha256);
  if (fileManifestText !== null) {
    let value: unknown;
    try {
      value = JSON.parse(fileManifestText);
    } catch (error) {
      value = { invalidJson: (error as Error).message };
    }
    readManifest('file', value, null, wholeFile.digest('hex'));
  }
  // Gaps are records left out; a filtered export leaves some out on purpose.
  const gapsAllowed = manifests.some(({ manifest }) => manifest !== null && Object.keys(manifest.filters).length > 0);

  let inSeqOrder = true;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let sealed = 0;
  for (const entries of sealedByClinic.values()) {
    sealed += entries.length;
    if (entries.some((entry, i) => i > 0 && entry.seq < (entries[i - 1] as SealedEntry).seq)) inSeqOrder = false;
    entries.sort((a, b) => a.seq - b.seq || a.line - b.line);
    let previous: SealedEntry | null = null;
    for (const entry of entries) {
      const at = { line: entry.line, eventId: entry.eventId, seq: entry.seq };
      if (firstSeq === null || entry.seq < firstSeq) firstSeq = entry.seq;
      if (lastSeq === null || entry.seq > lastSeq) lastSeq = entry.seq;
      if (previous === null) {
        if (entry.seq === 1 && entry.prevHmac !== GENESIS_HMAC) {
          problem({ ...at, reason: 'previous-link-mismatch', detail: 'seq 1 does not link to the genesis value' });
        }
      } else if (entry.seq === previous.seq) {
        problem({ ...at, reason: 'duplicate-seq', detail: `seq ${entry.seq} also on line ${previous.line}` });
        continue;
      } else if (entry.seq === previous.seq + 1) {
        if (entry.prevHmac !== previous.hmac) {
          problem({
            ...at,
            reason: 'previous-link-mismatch',
            detail: `prevHmac is not the hmac of seq ${previous.seq} (line ${previous.line})`,
          });
        }
      } else if (!gapsAllowed) {
        const missing = entry.seq - previous.seq - 1;
        problem({
          ...at,
          reason: 'sequence-gap',
          detail: `seq ${entry.seq} follows seq ${previous.seq}: ${missing} record${missing === 1 ? '' : 's'} missing from an unfiltered export`,
        });
      }
      previous = entry;
    }
  }

  for (const { check, manifest } of manifests) {
    if (manifest === null) continue;
    const at = { line: check.line, eventId: null, seq: null };
    const mismatch = (reason: OfflineProblemReason, detail: string) => {
      check.ok = false;
      problem({ ...at, reason, detail: `${check.source} manifest: ${detail}` });
    };
    if (manifest.rowCount !== eventLines)
      mismatch('manifest-count-mismatch', `rowCount ${manifest.rowCount}, the export has ${eventLines} lines`);
    if (manifest.sha256 !== check.actualSha256) {
      mismatch('manifest-hash-mismatch', `sha256 ${manifest.sha256}, the content hashes to ${check.actualSha256}`);
    }
    const actual = { firstSeq, lastSeq, sealedRows: sealed, unsealedRows: unsealed };
    for (const field of ['firstSeq', 'lastSeq', 'sealedRows', 'unsealedRows'] as const) {
      if (manifest.chain[field] !== actual[field]) {
        mismatch('manifest-chain-mismatch', `chain.${field} ${manifest.chain[field]}, the export has ${actual[field]}`);
      }
    }
    const others = [...clinicIds].filter((id) => id !== manifest.clinicId);
    if (others.length > 0) mismatch('clinic-mismatch', `clinic ${manifest.clinicId}, but lines of ${others.join(', ')}`);
  }

  // First by line; manifest-file problems (no line) last; the scan order breaks ties.
  const ordered = problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i);
  return {
    ok: problems.length === 0,
    exportPath: input.exportPath,
    linesChecked: eventLines,
    sealedRows: sealed,
    unsealedRows: unsealed,
    firstSeq,
    lastSeq,
    clinicIds: [...clinicIds],
    inSeqOrder,
    manifests: manifests.map(({ check }) => check),
    contentHashChecked: manifests.some(({ manifest }) => manifest !== null),
    firstProblem: ordered[0]?.p ?? null,
    problemCount: problems.length,
    problems: ordered.slice(0, MAX_PROBLEMS).map(({ p }) => p),
  };
}
