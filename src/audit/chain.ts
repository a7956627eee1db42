import { createHmac } from 'node:crypto';
import type { auditEvents } from '../db/schema/index.js';

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** prev_hmac of the first seal in every clinic's chain. */
export const GENESIS_HMAC = '0'.repeat(64);

/** The fields of an event in a fixed order; the chain HMAC covers exactly this. */
const chainedFields = [
  'clinicId',
  'id',
  'txid',
  'occurredAt',
  'endedAt',
  'recordedAt',
  'requestId',
  'actorType',
  'actorId',
  'actorRoles',
  'action',
  'subtype',
  'outcome',
  'httpStatus',
  'denialReason',
  'method',
  'route',
  'resourceType',
  'resourceId',
  'clientIds',
  'dataCategory',
  'purposeOfUse',
  'accessBasis',
  'query',
  'details',
  'resultCount',
  'sourceIp',
  'userAgent',
  'serviceVersion',
] as const satisfies readonly (keyof AuditEventRow)[];

/** Deterministic JSON: object keys sorted at every depth, dates as ISO 8601. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function canonicalEvent(event: AuditEventRow): string {
  return canonicalJson(chainedFields.map((field) => event[field]));
}

/** HMAC-SHA256 over the chain position, the previous link and the event itself. */
export function chainHmac(key: string, clinicId: string, seq: number, prevHmac: string, event: AuditEventRow): string {
  return createHmac('sha256', key)
    .update(`${clinicId}\n${seq}\n${prevHmac}\n${canonicalEvent(event)}`)
    .digest('hex');
}
