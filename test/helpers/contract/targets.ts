import type { RouteSamples } from '../route-contract.js';

const target = { category: 'quality_of_life', measure: 'count', label: 'Skipping lunch' };

/** A valid request for each route of this module that takes a body or headers. */
export const targetSamples: RouteSamples = {
  'POST /v1/clients/:id/targets': { body: target },
  'PUT /v1/clients/:id/targets/:targetId': { body: target, headers: { 'if-match': '"1"' } },
  'POST /v1/clients/:id/targets/:targetId/retire': { body: { reason: 'Reached the goal for eight weeks' } },
};
