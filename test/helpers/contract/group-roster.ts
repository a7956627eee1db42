import { uuidv7 } from '../../../src/lib/ids.js';
import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of enrollments and group attendance that takes a body or headers. */
export const groupRosterSamples: RouteSamples = {
  'POST /v1/skills-groups/:id/enrollments': { body: { clientId: uuidv7(), startDate: '2030-01-21' } },
  'POST /v1/skills-groups/:id/enrollments/:enrollmentId/end': {
    body: { endDate: '2030-02-01', reason: 'completed' },
    headers: { 'if-match': '"1"' },
  },
  'PUT /v1/group-sessions/:id/attendance': { body: { entries: [{ clientId: uuidv7(), status: 'present', homeworkReviewed: true }] } },
};
