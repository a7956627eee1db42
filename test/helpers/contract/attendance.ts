import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of the attendance module that takes a body. */
export const attendanceSamples: RouteSamples = {
  'POST /v1/clients/:id/attendance/override': {
    body: { modality: 'individual', reason: 'Synthetic contract probe: documented hospital stay' },
  },
};
