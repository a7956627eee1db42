import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { type AuditAction, isAuditAction } from '../audit/actions.js';
import { AppError } from '../lib/errors.js';
import { decideByRole } from '../policy/decide.js';
import { type AccessRuleName, isAccessRuleName } from '../policy/rules.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The access rule that guards the route (src/policy/rules.ts). Required. */
    access?: AccessRuleName;
    /** The audit action the route records; false only for public operational routes. Required. */
    audit?: AuditAction | false;
    /** Filled in at registration: the first 2xx status of the response schema. */
    successStatus?: number;
  }
  interface FastifyInstance {
    /** Every route registered, with its declared rule and audit action, for checks and tests. */
    routeRegistry: RouteOptions[];
  }
}

/**
 * Every route must declare an access rule and an audit action. Routes are collected as they are
 * registered and checked when the app becomes ready, so a route that declares neither (or names
 * an unknown one) stops start-up. Non-public routes get the authentication and role check as
 * their first onRequest hook.
 */
export default fp(
  async (app: FastifyInstance) => {
    const routes: RouteOptions[] = [];
    app.decorate('routeRegistry', routes);

    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, successStatus: successStatusOf(route) };
      routes.push(route);
      const access = route.config.access;
      if (access === undefined || access === 'public') return;
      const enforce = async (request: FastifyRequest) => {
        await app.authenticate(request);
        const actor = request.ctx.actor;
        if (!actor || !isAccessRuleName(access)) throw new AppError('forbidden', 'Access denied');
        const decision = decideByRole(access, actor);
        if (!decision.allow) {
          throw new AppError('forbidden', 'Your roles do not permit this request', { denialReason: decision.reason });
        }
        request.ctx.basis = decision.basis;
      };
      route.onRequest = [enforce, ...toArray(route.onRequest)];
    });

    app.addHook('onReady', async () => {
      const problems = routes.flatMap((route) => routeProblems(route));
      if (problems.length > 0) throw new Error(`Routes without a valid access rule or audit action:\n${problems.join('\n')}`);
    });
  },
  { name: 'access', dependencies: ['auth'] },
);

function routeProblems(route: RouteOptions): string[] {
  const name = `${route.method} ${route.url}`;
  const { access, audit } = route.config ?? {};
  const problems: string[] = [];
  if (!isAccessRuleName(access)) problems.push(`  ${name}: access rule ${JSON.stringify(access)} is not defined`);
  if (audit === false) {
    if (access !== 'public') problems.push(`  ${name}: only public routes may go unaudited`);
  } else if (!isAuditAction(audit)) {
    problems.push(`  ${name}: audit action ${JSON.stringify(audit)} is not defined`);
  }
  return problems;
}

function successStatusOf(route: RouteOptions): number {
  const response = (route.schema?.response ?? {}) as Record<string, unknown>;
  const codes = Object.keys(response)
    .map(Number)
    .filter((code) => code >= 200 && code < 300);
  return codes.length > 0 ? Math.min(...codes) : 200;
}

function toArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
