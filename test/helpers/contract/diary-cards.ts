import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const diarySamples: RouteSamples = {
  'POST /v1/clients/:id/diary-cards/days/:date': { body: { skillsOverall: 4, urgeToQuit: 1, notes: 'Synthetic contract entry' } },
  'PUT /v1/clients/:id/diary-cards/:weekStart': { body: { days: {} }, headers: { 'if-match': '"1"' } },
};
