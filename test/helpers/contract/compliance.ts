import type { RouteSamples } from '../route-contract.js';

const range = { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' };

/** The compliance routes' required query: a range. */
export const complianceSamples: RouteSamples = {
  'GET /v1/clients/:id/access-report': { query: range },
  'GET /v1/audit/events': { query: range },
  'GET /v1/audit/events/export': { query: range },
};
