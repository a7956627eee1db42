import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const eventSamples: RouteSamples = {
  'POST /v1/clients/:id/events': {
    body: { kind: 'nssi', occurredAt: '2024-01-10T21:30:00Z', severity: 'moderate', source: 'client_report' },
  },
  'PATCH /v1/clients/:id/events/:eventId': { body: { severity: 'high' }, headers: { 'if-match': '"1"' } },
  'POST /v1/clients/:id/events/:eventId/entered-in-error': { body: { reason: 'Recorded against the wrong client' } },
};
