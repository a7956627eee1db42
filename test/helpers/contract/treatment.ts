import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const treatmentSamples: RouteSamples = {
  'POST /v1/clients/:id/episodes': { body: { notes: 'Synthetic referral note' } },
  'POST /v1/clients/:id/episodes/:episodeId/transitions': { body: { to: 'pretreatment' }, headers: { 'if-match': '"1"' } },
  'POST /v1/clients/:id/stages': { body: { stage: 'stage_1', rationale: 'Synthetic rationale for the contract suite' } },
  'POST /v1/clients/:id/commitments': {
    body: { type: 'treatment', items: ['Attend every scheduled session'], method: 'oral', agreedAt: '2024-01-15T10:00:00Z' },
  },
};
