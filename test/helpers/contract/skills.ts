import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const skillSamples: RouteSamples = {
  'POST /v1/skills': { body: { module: 'distress_tolerance', name: 'Contract probe skill' } },
  'PATCH /v1/skills/:id': { body: { sortOrder: 15 } },
};
