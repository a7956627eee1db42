import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const coachingContactSamples: RouteSamples = {
  'POST /v1/clients/:id/coaching-contacts': {
    body: { initiatedBy: 'client', channel: 'phone', requestedAt: '2024-01-10T21:30:00Z', purpose: 'skills_generalization' },
  },
  'PATCH /v1/coaching-contacts/:id': { body: { riskAssessed: true }, headers: { 'if-match': '"1"' } },
};
