import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { newRequestId, query } from './app.js';
import { bearer } from './factories.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Calls the app as a token's holder, with a fresh request id to find the call's audit record by. */
export function caller(app: App) {
  return async (token: string, method: Method, url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const requestId = newRequestId();
    const response = await app.inject({
      method,
      url,
      headers: { ...bearer(token), 'x-request-id': requestId, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { response, requestId };
  };
}

/** The one audit record a request wrote (the test fails if there is not exactly one). */
export async function auditRecord(requestId: string) {
  const rows = await query(sql`select * from audit_events where request_id = ${requestId}`);
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}
