import type { RouteSamples } from '../route-contract.js';

/** A valid request for each route of this module that takes a body or headers. */
export const agendaSamples: RouteSamples = {
  'PUT /v1/sessions/:id/agenda': { body: { order: [], added: [{ category: 'quality_of_life', title: 'Housing (synthetic)' }] } },
};
