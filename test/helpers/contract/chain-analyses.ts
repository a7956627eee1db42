import { uuidv7 } from '../../../src/lib/ids.js';
import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const chainAnalysisSamples: RouteSamples = {
  'POST /v1/clients/:id/chain-analyses': {
    body: {
      eventId: uuidv7(),
      behaviourAt: '2024-01-10T21:30:00Z',
      problemBehaviour: 'Scratched forearm',
      links: [{ type: 'thought', text: 'Nobody cares' }],
      completedIn: 'homework',
    },
  },
  'PATCH /v1/clients/:id/chain-analyses/:analysisId': { body: { repair: 'Apologised' }, headers: { 'if-match': '"1"' } },
};
