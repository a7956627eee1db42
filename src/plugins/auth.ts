import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import { isUuid } from '../lib/ids.js';
import { type ActorRow, actorStatement, loadActor, toActor } from '../modules/auth/auth.service.js';

export interface TokenClaims {
  sub: string;
  cid: string;
  roles: string[];
  jti: string;
  /** Set by signing; required when verifying. */
  iat?: number;
  exp?: number;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: TokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest): Promise<void>;
  }
}

const unauthenticated = (reason: string) => new AppError('unauthenticated', 'A valid bearer token is required', { denialReason: reason });

/**
 * Verifies the bearer token, then loads the staff member it names: a deactivated account, or a
 * token issued before its tokens were revoked, stops working at once. Roles come from the database,
 * not the token, so a role change takes effect on the next request.
 */
export default fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const skewMs = opts.config.JWT_CLOCK_SKEW_SECONDS * 1000;
    await app.register(fastifyJwt, {
      secret: opts.config.JWT_SECRET,
      sign: { algorithm: 'HS256', expiresIn: opts.config.JWT_TTL_SECONDS },
      // HS256 only (never `none` or a public-key algorithm), every claim the service relies on
      // present, and instances' clocks may differ by at most JWT_CLOCK_SKEW_SECONDS. Verified tokens
      // are cached (until they expire) so a busy client is not re-verified per request; revocation
      // does not rely on this: every request still loads the account.
      verify: {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'cid', 'roles', 'jti', 'iat', 'exp'],
        clockTolerance: skewMs,
        cache: 10_000,
      },
    });
    app.decorate('authenticate', async (request: FastifyRequest) => {
      if (!request.headers.authorization) throw unauthenticated('missing-token');
      let claims: TokenClaims;
      try {
        claims = await request.jwtVerify<TokenClaims>();
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        throw unauthenticated(code.includes('EXPIRED') ? 'expired-token' : 'invalid-token');
      }
      // Revocation compares iat, so a token may not claim to be issued later than the skew allows.
      if ((claims.iat ?? 0) * 1000 > Date.now() + skewMs) throw unauthenticated('invalid-token');
      if (!isUuid(claims.cid) || !isUuid(claims.sub)) throw unauthenticated('invalid-token');
      // From here on the request runs in its transaction, scoped to the token's clinic; the caller's
      // account is read in the same round trip that begins it.
      const actor = request.scope
        ? toActor((await request.scope.enter(claims.cid, actorStatement(claims)))[0] as ActorRow | undefined, claims)
        : await loadActor(request.db, claims);
      if (!actor) throw unauthenticated('revoked-or-inactive');
      request.ctx.actor = actor;
    });
  },
  { name: 'auth', dependencies: ['request-context'] },
);
