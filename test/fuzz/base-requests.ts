import type { RouteOptions } from 'fastify';
import type { App } from '../../src/app.js';
import type { StaffRole } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { bearer, createClinic, createStaffMember, tokenFor } from '../helpers/factories.js';
import { type ContractRoute, type RouteSamples, resourceFactories, rolesFor, routeSamples } from '../helpers/route-contract.js';
import type { BaseRequest } from './arbitraries.js';
import type { Contract, Operation } from './contract.js';

/** Valid requests for public routes, which the contract table leaves out. */
const publicSamples: RouteSamples = {
  'POST /v1/auth/login': { body: { clinic: 'fuzz-clinic', email: 'fuzz@example.test', password: 'not the password at all' } },
};
/** Path parameters that are not ids, with a valid value each. */
const pathSamples: Record<string, string> = { weekStart: '2030-01-07', date: '2030-01-07' };
const samplesAt = 'test/helpers/route-contract.ts (routeSamples)';

type ZodLike = { safeParse: (value: unknown) => { success: boolean; error?: unknown } };

/**
 * Builds, per operation, the valid request the fuzz cases start from: signed in (one clinic for
 * the file, one member per role a route admits), the first path parameter naming a resource that
 * exists, the sample body, query and headers of the contract table. Throws, naming what to add,
 * when an operation has no sample, so a new route cannot go unfuzzed.
 */
export function baseRequests(app: App, contract: Contract, routes: Map<string, ContractRoute>) {
  const schemas = new Map(app.routeRegistry.map((route: RouteOptions) => [`${route.method} ${route.url}`, route.schema ?? {}]));
  let clinic: Promise<string> | null = null;
  const clinicId = () => {
    clinic ??= createClinic().then((created) => created.clinic.id);
    return clinic;
  };
  const tokens = new Map<StaffRole, Promise<string>>();
  const tokenWith = (role: StaffRole) => {
    const token = tokens.get(role) ?? clinicId().then(async (id) => tokenFor(app, await createStaffMember(id, [role])));
    tokens.set(role, token);
    return token;
  };

  async function pathParams(operation: Operation, key: string, owner: string) {
    const params: Record<string, string> = {};
    for (const [index, parameter] of operation.parameters.filter((p) => p.part === 'params').entries()) {
      const factory = resourceFactories[owner];
      if (index === 0) {
        if (!factory) throw new Error(`${key}: add a factory for ${owner} to resourceFactories (test/helpers/route-contract.ts)`);
        params[parameter.name] = await factory(await clinicId());
      } else if (contract.resolve(parameter.schema).format === 'uuid') {
        params[parameter.name] = uuidv7();
      } else {
        const sample = pathSamples[parameter.name];
        if (!sample)
          throw new Error(`${key}: add a valid value for the path parameter ${parameter.name} to pathSamples (test/fuzz/base-requests.ts)`);
        params[parameter.name] = sample;
      }
    }
    return params;
  }

  /** The base must pass both the published schema and the route's own, or the cases prove nothing. */
  function check(operation: Operation, key: string, base: BaseRequest) {
    if (operation.body && base.body === undefined) throw new Error(`${key} takes a body: add a valid sample request to ${samplesAt}`);
    if (operation.body && !contract.conforms(operation.body, base.body))
      throw new Error(`${key}: its sample body is not valid against openapi.yaml`);
    for (const parameter of operation.parameters) {
      const value = base[parameter.part][parameter.name];
      if (value === undefined && parameter.required)
        throw new Error(`${key} requires ${parameter.part}.${parameter.name}: add it to ${samplesAt}`);
    }
    const schema = schemas.get(key) as Record<string, ZodLike | undefined>;
    const parts = { body: base.body, querystring: base.query, params: base.params, headers: base.headers };
    for (const [part, value] of Object.entries(parts)) {
      const result = schema[part]?.safeParse(value);
      if (result && !result.success) throw new Error(`${key}: its base ${part} fails the route's own schema: ${String(result.error)}`);
    }
  }

  return async (operation: Operation): Promise<BaseRequest> => {
    const key = `${operation.method} ${operation.route}`;
    const route = routes.get(key);
    if (!route) throw new Error(`${operation.name} is in openapi.yaml but the app has no such route: run npm run openapi`);
    const sample = routeSamples[key] ?? publicSamples[key] ?? {};
    const headers: Record<string, string> = { ...sample.headers };
    if (route.access !== 'public') Object.assign(headers, bearer(await tokenWith(rolesFor(route.access).allowed)));
    const base = {
      params: await pathParams(operation, key, route.url.split('/:')[0] as string),
      query: sample.query ?? {},
      headers,
      body: sample.body,
    };
    check(operation, key, base);
    return base;
  };
}
