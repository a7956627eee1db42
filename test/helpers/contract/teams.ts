import { uuidv7 } from '../../../src/lib/ids.js';
import type { RouteSamples } from '../route-contract.js';

/** A valid request for each consultation-team route that takes a body or headers. */
export const teamSamples: RouteSamples = {
  'POST /v1/teams': { body: { programId: uuidv7(), name: 'Contract probe team', leadId: uuidv7() } },
  'PATCH /v1/teams/:id': { body: { name: 'Renamed probe team' }, headers: { 'if-match': '"1"' } },
  'POST /v1/teams/:id/members': { body: { staffId: uuidv7() } },
  'PATCH /v1/teams/:id/members/:memberId': {
    body: { agreementsAcceptedAt: '2030-01-07T17:00:00Z' },
    headers: { 'if-match': '"1"' },
  },
  'POST /v1/teams/:id/meetings': { body: { date: '2030-01-08', durationMinutes: 90 } },
  'PATCH /v1/meetings/:id': { body: { minutes: 'Probe minutes' }, headers: { 'if-match': '"1"' } },
  'POST /v1/meetings/:id/agenda': { body: { category: 'admin', question: 'Who covers the coaching line over the holidays?' } },
  'PATCH /v1/meetings/:id/agenda/:itemId': { body: { status: 'discussed' }, headers: { 'if-match': '"1"' } },
  'POST /v1/meetings/:id/proposals/:proposalId/accept': { body: {} },
  'POST /v1/meetings/:id/proposals/:proposalId/dismiss': { body: { reason: 'Already discussed in supervision this week' } },
};
