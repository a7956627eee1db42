import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of these modules that takes a body or headers. */
export const skillsGroupSamples: RouteSamples = {
  'POST /v1/skills-groups': {
    body: {
      programId: '01900000-0000-7000-8000-000000000000',
      name: 'Contract probe group',
      leaderId: '01900000-0000-7000-8000-000000000001',
      weekday: 1,
      startTime: '18:00',
      durationMinutes: 150,
      cycleStartDate: '2030-01-07',
    },
  },
  'PATCH /v1/skills-groups/:id': { body: { startTime: '17:30' }, headers: { 'if-match': '"1"' } },
  'POST /v1/skills-groups/:id/sessions': { body: { date: '2030-01-14' } },
  'POST /v1/skills-groups/:id/sessions/generate': { body: { from: '2030-01-07', to: '2030-03-31' } },
  'PATCH /v1/group-sessions/:id': { body: { homework: 'Practise TIPP once a day (synthetic)' }, headers: { 'if-match': '"1"' } },
  'POST /v1/group-sessions/:id/cancel': { body: { reason: 'Clinic closed for the holiday' }, headers: { 'if-match': '"1"' } },
};
