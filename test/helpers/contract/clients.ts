import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const clientSamples: RouteSamples = {
  'POST /v1/clients': {
    body: {
      givenName: 'Contract',
      familyName: 'Probe',
      dateOfBirth: '1990-01-01',
      programId: '01900000-0000-7000-8000-000000000000',
    },
  },
  'PATCH /v1/clients/:id': { body: { pronouns: 'they/them' }, headers: { 'if-match': '"1"' } },
  'POST /v1/clients/:id/entered-in-error': { body: { reason: 'Registered twice by the contract suite' } },
};
