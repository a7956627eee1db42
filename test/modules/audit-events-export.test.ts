import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { chainHmac } from '../../src/audit/chain.js';
import { type ExportLine, exportManifest } from '../../src/audit/export-format.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { buildTestApp, newRequestId, query } from '../helpers/app.js';
import { bearer, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';

const hmacKey = randomBytes(32).toString('hex');
const app = await buildTestApp({ AUDIT_HMAC_KEY: hmacKey });

const range = { from: '2021-03-01T00:00:00.000Z', to: '2021-03-02T00:00:00.000Z' };
const at = (minute: number) => new Date(Date.UTC(2021, 2, 1, 9, minute)).toISOString();

/** `count` audit rows in one statement, a second apart from `minute`, each with the given client and user agent. */
async function insertEvents(
  clinicId: string,
  count: number,
  options: { client?: string; userAgent?: string; outcome?: string; minute?: number } = {},
) {
  const clients = options.client ? `{${options.client}}` : '{}';
  await query(sql`insert into audit_events (clinic_id, id, occurred_at, request_id, actor_type, actor_id, action, subtype, outcome,
      http_status, method, route, resource_type, resource_id, client_ids, data_category, purpose_of_use, source_ip, user_agent, service_version)
    select ${clinicId}, gen_random_uuid(), ${at(options.minute ?? 0)}::timestamptz + g * interval '1 second', 'seed-' || g, 'staff', ${uuidv7()}::uuid,
      'R', 'read', ${options.outcome ?? 'success'}, 200, 'GET', '/v1/clients/:id', 'client', 'r-' || g, ${clients}::uuid[], 'clinical',
      'TREAT', '203.0.113.7', ${options.userAgent ?? 'probe'}, 'test'
    from generate_series(1, ${count}) g`);
}

async function officer() {
  const { clinic } = await createClinic();
  const member = await createStaffMember(clinic.id, ['compliance']);
  return { clinicId: clinic.id, member, headers: bearer(tokenFor(app, member)) };
}

async function exportAs(headers: Record<string, string>, params: Record<string, string> = {}, requestId = newRequestId()) {
  const qs = new URLSearchParams({ ...range, ...params });
  const response = await app.inject({
    method: 'GET',
    url: `/v1/audit/events/export?${qs}`,
    headers: { ...headers, 'x-request-id': requestId },
  });
  return { response, requestId };
}

/** Splits an NDJSON export into its event lines and the final manifest line. */
function parseNdjson(body: string) {
  const lines = body.split('\n');
  expect(lines.pop()).toBe('');
  const last = lines.pop() as string;
  const manifest = exportManifest.parse((JSON.parse(last) as { manifest: unknown }).manifest);
  const content = lines.map((line) => `${line}\n`).join('');
  return { events: lines.map((line) => JSON.parse(line) as ExportLine), manifest, content };
}

/** Enough of a FHIR resource to look into. */
// biome-ignore lint/suspicious/noExplicitAny: a FHIR resource is deep, loosely typed JSON
type FhirResource = Record<string, any>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Seals until the clinic has nothing pending: the sealer waits for the cluster's xmin, which any open transaction holds back. */
async function sealAll(clinicId: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    await app.auditSealer.sealPending();
    const [row] = await query<{ n: number }>(sql`select count(*)::int as n from audit_events e
      where e.clinic_id = ${clinicId} and not exists (select 1 from audit_seals s where s.clinic_id = e.clinic_id and s.event_id = e.id)`);
    if (row?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GET /v1/audit/events/export', () => {
  it('NDJSON by default: one toExportLine per event, then a manifest whose sha256 covers every line before it', async () => {
    const { clinicId, headers, member } = await officer();
    const other = await officer();
    await insertEvents(clinicId, 3);
    await insertEvents(other.clinicId, 2);
    await sealAll(clinicId);
    const { response } = await exportAs(headers, { outcome: 'success' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const { events, manifest, content } = parseNdjson(response.body);
    expect(events).toHaveLength(3);
    expect(events.every((event) => event.clinicId === clinicId)).toBe(true);
    expect(events.map((event) => event.occurredAt)).toEqual([1, 2, 3].map((s) => new Date(Date.parse(at(0)) + s * 1000).toISOString()));
    expect(manifest).toMatchObject({
      kind: 'dialectic-audit-export',
      clinicId,
      format: 'ndjson',
      range,
      filters: { outcome: 'success' },
      rowCount: 3,
      sha256: sha256(content),
      exportedBy: member.id,
      chain: { sealedRows: 3, unsealedRows: 0 },
    });
    // Each line is the event as the chain hashed it: its seal verifies offline.
    for (const event of events) {
      const { seal, ...row } = event;
      expect(seal).not.toBeNull();
      const restored = { ...row, occurredAt: new Date(row.occurredAt), recordedAt: new Date(row.recordedAt), endedAt: null };
      expect(chainHmac(hmacKey, clinicId, seal?.seq as number, seal?.prevHmac as string, restored)).toBe(seal?.hmac);
    }
    expect(Number(manifest.chain.lastSeq) - Number(manifest.chain.firstSeq)).toBe(2);
    expect(JSON.parse(String(response.trailers['x-audit-manifest']))).toEqual(manifest);
  });

  it('writes a start record before the body and a completion record with the row count and the manifest', async () => {
    const { clinicId, headers } = await officer();
    await insertEvents(clinicId, 4);
    const { response, requestId } = await exportAs(headers, { format: 'csv', action: 'R' });
    expect(response.statusCode).toBe(200);
    const records = await query<Record<string, unknown>>(
      sql`select action, subtype, outcome, result_count, details from audit_events where request_id = ${requestId} order by id`,
    );
    const base = { range, filters: { action: 'R' }, format: 'csv' };
    expect(records).toEqual([
      { action: 'E', subtype: 'export', outcome: 'success', result_count: null, details: { phase: 'started', ...base } },
      {
        action: 'E',
        subtype: 'export',
        outcome: 'success',
        result_count: 4,
        details: { phase: 'completed', ...base, rowCount: 4, sha256: sha256(response.body), manifest: expect.any(Object) },
      },
    ]);
    expect((records[1]?.details as { manifest?: unknown } | undefined)?.manifest).toEqual(
      JSON.parse(String(response.trailers['x-audit-manifest'])),
    );
  });

  it('CSV: RFC 4180 header, CRLF, quoting, and formula cells neutralised', async () => {
    const { clinicId, headers } = await officer();
    const hostile = '=HYPERLINK("http://evil.example","click, me")';
    await insertEvents(clinicId, 1, { userAgent: hostile });
    await insertEvents(clinicId, 1, { userAgent: '-2+3' });
    const { response } = await exportAs({ ...headers, accept: 'text/csv' });
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const body = response.body;
    expect(body.endsWith('\r\n')).toBe(true);
    const records = body.split('\r\n').slice(0, -1);
    expect(records).toHaveLength(3);
    const header = (records[0] as string).split(',');
    expect(header.slice(0, 4)).toEqual(['clinicId', 'id', 'txid', 'occurredAt']);
    expect(header.slice(-3)).toEqual(['sealSeq', 'sealPrevHmac', 'sealHmac']);
    expect(body).toContain(`,"'=HYPERLINK(""http://evil.example"",""click, me"")",`);
    expect(body).toContain(`,'-2+3,`);
    expect(body).not.toMatch(/,=HYPERLINK/);
    expect(sha256(body)).toBe(JSON.parse(String(response.trailers['x-audit-manifest'])).sha256);
  });

  it('FHIR: a Bundle of BALP AuditEvents with agent, Patient entity and outcome codes', async () => {
    const { clinicId, headers } = await officer();
    const client = uuidv7();
    await insertEvents(clinicId, 1, { client });
    await insertEvents(clinicId, 1, { outcome: 'denied', minute: 1 });
    await insertEvents(clinicId, 1, { outcome: 'error', minute: 2 });
    const { response } = await exportAs({ ...headers, accept: 'application/fhir+json' });
    expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = response.json() as { resourceType: string; type: string; entry: Array<{ resource: FhirResource }> };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(3);
    const [patientRead, denied, failed] = bundle.entry.map((entry) => entry.resource) as FhirResource[];
    expect(patientRead).toMatchObject({
      resourceType: 'AuditEvent',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R',
      outcome: '0',
      purposeOfUse: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
      agent: [{ who: { reference: expect.stringMatching(/^Practitioner\//) }, requestor: true, network: { address: '203.0.113.7' } }],
      source: { observer: { display: 'dialectic test' } },
    });
    expect(patientRead?.entity).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ what: { reference: `Patient/${client}` }, role: expect.objectContaining({ code: '1' }) }),
        expect.objectContaining({ role: expect.objectContaining({ code: '4', display: 'Domain Resource' }) }),
      ]),
    );
    expect(denied?.type.code).toBe('rest');
    expect([denied?.outcome, failed?.outcome]).toEqual(['4', '8']);
    expect(sha256(response.body)).toBe(JSON.parse(String(response.trailers['x-audit-manifest'])).sha256);
  });

  it('format= wins over Accept; other Accepts get NDJSON; bad formats and ranges are 400', async () => {
    const { clinicId, headers } = await officer();
    await insertEvents(clinicId, 1);
    expect((await exportAs({ ...headers, accept: 'text/csv' }, { format: 'fhir' })).response.headers['content-type']).toMatch(/fhir/);
    expect((await exportAs({ ...headers, accept: '*/*' })).response.headers['content-type']).toMatch(/ndjson/);
    expect((await exportAs(headers, { format: 'xml' })).response.statusCode).toBe(400);
    expect((await exportAs(headers, { from: range.to, to: range.from })).response.statusCode).toBe(400);
  });

  it('is for compliance only and never shows another clinic', async () => {
    const { clinic } = await createClinic();
    const therapist = await createStaffMember(clinic.id, ['therapist']);
    expect((await exportAs(bearer(tokenFor(app, therapist)))).response.statusCode).toBe(403);
  });

  it('streams a large export in batches: complete, ordered, hashed', async () => {
    const { clinicId, headers } = await officer();
    await insertEvents(clinicId, 5000);
    const { response } = await exportAs(headers);
    expect(response.statusCode).toBe(200);
    const { events, manifest, content } = parseNdjson(response.body);
    expect(events).toHaveLength(5000);
    expect(new Set(events.map((event) => event.id)).size).toBe(5000);
    const times = events.map((event) => Date.parse(event.occurredAt));
    expect(times.every((time, index) => index === 0 || time > (times[index - 1] as number))).toBe(true);
    expect(manifest).toMatchObject({ rowCount: 5000, sha256: sha256(content) });
  });

  it('a client that goes away stops the export: the cursor is released and the record says aborted', async () => {
    const { clinicId, member } = await officer();
    await insertEvents(clinicId, 20000);
    const server = await buildTestApp({ AUDIT_HMAC_KEY: hmacKey });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    const requestId = newRequestId();
    const qs = new URLSearchParams(range);
    await new Promise<void>((resolve, reject) => {
      const outgoing = httpRequest(
        {
          port,
          host: '127.0.0.1',
          path: `/v1/audit/events/export?${qs}`,
          headers: { ...bearer(tokenFor(server, member)), 'x-request-id': requestId },
        },
        (incoming) => {
          incoming.once('data', () => {
            outgoing.destroy();
            resolve();
          });
        },
      );
      outgoing.on('error', () => resolve());
      outgoing.setTimeout(10_000, () => reject(new Error('no first bytes')));
      outgoing.end();
    });
    let phases: string[] = [];
    for (let attempt = 0; attempt < 200 && phases.length < 2; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const rows = await query<{ phase: string }>(
        sql`select details->>'phase' as phase from audit_events where request_id = ${requestId} order by id`,
      );
      phases = rows.map((row) => row.phase);
    }
    expect(phases).toEqual(['started', 'aborted']);
    const [aborted] = await query<{ outcome: string; result_count: number }>(
      sql`select outcome, result_count from audit_events where request_id = ${requestId} and details->>'phase' = 'aborted'`,
    );
    expect(aborted?.outcome).toBe('failure');
    expect(aborted?.result_count).toBeLessThan(20000);
    // The export's connection went back to the pool: the server still answers and closes cleanly.
    const after = await server.inject({ method: 'GET', url: '/readyz' });
    expect(after.statusCode).toBe(200);
    await server.close();
  });
});
