import type { AuditAction } from '../audit/actions.js';
import type { StaffRole } from '../db/schema/index.js';

export interface Actor {
  staffId: string;
  clinicId: string;
  roles: StaffRole[];
  email: string;
  displayName: string;
  /** Token id (jti) of the credential this request came with. */
  tokenId: string;
  /** The rest of the member's record, read with the token check, so GET /v1/me needs no second query. */
  profile: { version: number; createdAt: Date; updatedAt: Date; clinicName: string };
}

/** Why a request was allowed; recorded on its audit event. */
export interface AccessBasis {
  rule: string;
  role?: StaffRole;
  relationship?: string;
  grantId?: string;
}

/** What the request did, filled in by the route and service, read by the audit writer. */
export interface AuditNotes {
  resourceId?: string;
  clientIds: string[];
  resultCount?: number;
  details?: Record<string, unknown>;
  /** Four-miss marks the request set or cleared on episodes as a consequence (recorded with the details). */
  fourMiss?: Array<{ episodeId: string; clientId: string; metOn: string | null; modalities: string[] }>;
  denialReason?: string;
  /** The success status, when a route answers more than one (200 unchanged, 201 created). */
  status?: number;
  /** Set once the record has been written inside the request's own transaction. */
  written: boolean;
}

/** The route being served, as the audit record names it. */
export interface RouteInfo {
  method: string;
  /** The route pattern (`/v1/staff/:id`), or the raw path when no route matched. */
  pattern: string;
  /** The declared audit action; false only for operational probes and docs. */
  audit: AuditAction | false;
  /** The status a successful call answers with (the first 2xx in its response schema). */
  successStatus: number;
  serviceVersion: string;
}

/** One request context, passed to every service as `ctx`. */
export interface RequestContext {
  requestId: string;
  route: RouteInfo;
  ip: string;
  userAgent: string | null;
  receivedAt: Date;
  actor: Actor | null;
  /** The clinic the request is about before anyone is signed in (a login names its clinic). */
  clinicId: string | null;
  basis: AccessBasis | null;
  /** Validated query parameters, recorded with the audit event. */
  query?: unknown;
  audit: AuditNotes;
  /** The Idempotency-Key of a POST seen for the first time (src/plugins/idempotency.ts). */
  idempotency?: IdempotencyNote;
}

export interface IdempotencyNote {
  key: string;
  /** SHA-256 of the method, route, path parameters, query and canonical body. */
  hash: string;
  /** Set once the key's row committed with the request's change. */
  claimed: boolean;
}

export type AuthedContext = RequestContext & { actor: Actor };

/** The context of a request that passed authentication (every non-public route). */
export function authed(request: { ctx: RequestContext }): AuthedContext {
  if (!request.ctx.actor) throw new Error('route reached without an authenticated actor');
  return request.ctx as AuthedContext;
}
