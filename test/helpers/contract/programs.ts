import type { RouteSamples } from '../route-contract.js';

/** The policy an adult program starts with, written out (the tests check the defaults against it). */
export const adultDefaults = {
  fourMissThreshold: 4,
  missCountingUnit: 'consecutive_scheduled_weeks',
  countedModalities: ['individual', 'skills_group'],
  latenessMissMinutes: null,
  lateCancelMissHours: null,
  overrideAllowed: false,
  twentyFourHourRule: true,
  twentyFourHourTriggers: ['nssi', 'suicide_attempt'],
  contractWeeks: 26,
  skillsCycleWeeks: 24,
  groupSizeLimit: 8,
  entryAtModuleStartOnly: true,
  groupRequiresIndividual: true,
  weekStartsOn: 1,
  agendaUrgeThreshold: 4,
  diaryEmotions: ['anger', 'fear', 'joy', 'sadness', 'shame', 'emotional_misery', 'physical_misery'],
};

/** A valid request for each route of this module that takes a body or headers. */
export const programSamples: RouteSamples = {
  'POST /v1/programs': { body: { name: 'Contract Probe Program', kind: 'adult' } },
  'PUT /v1/programs/:id/policy': { body: { ...adultDefaults, fourMissThreshold: 3 }, headers: { 'if-match': '"1"' } },
};
