import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const sessionSamples: RouteSamples = {
  'POST /v1/clients/:id/sessions': {
    body: { scheduledStart: '2030-01-07T10:00:00+01:00', durationMinutes: 50, type: 'regular' },
  },
  'PATCH /v1/sessions/:id': { body: { attendance: 'attended' }, headers: { 'if-match': '"1"' } },
  'PUT /v1/sessions/:id/psychotherapy-note': { body: { body: 'Synthetic contract-probe note' } },
};
