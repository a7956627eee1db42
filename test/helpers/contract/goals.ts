import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const goalSamples: RouteSamples = {
  'POST /v1/clients/:id/goals': { body: { text: 'Finish my pottery course', domain: 'creativity' } },
  'POST /v1/clients/:id/goals/:goalId/revisions': {
    body: { note: 'Signed up for the spring term', status: 'active' },
    headers: { 'if-match': '"1"' },
  },
};
