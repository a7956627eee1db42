import type { RouteSamples } from '../route-contract.js';

/** Limits a therapist might state: weekday evenings, by phone or text, ten minutes, an hour to respond. */
export const sampleLimits = {
  windows: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '17:00', to: '21:00' })),
  channels: ['phone', 'text'],
  maxMinutes: 10,
  responseMinutes: 60,
  backupStaffId: null,
};

/** A valid request for each route of this module that takes a body or headers (a first version needs no If-Match). */
export const coachingLimitsSamples: RouteSamples = {
  'PUT /v1/staff/:id/coaching-limits': { body: sampleLimits },
};
