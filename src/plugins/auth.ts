import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { AppError } from '../lib/errors.js';
import { loadActor } from '../modules/auth/auth.service.js';

export interface TokenClaims {
  sub: string;
  cid: string;
  roles: string[];
  jti: string;
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
  async (app: FastifyInstance, opts: { config: Config; db: Db }) => {
    await app.register(fastifyJwt, {
      secret: opts.config.JWT_SECRET,
      sign: { algorithm: 'HS256', expiresIn: opts.config.JWT_TTL_SECONDS },
      // Verified tokens are cached (until they expire) so a busy client is not re-verified per request;
      // revocation does not rely on this: every request still loads the account.
      verify: { algorithms: ['HS256'], cache: 10_000 },
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
      const actor = await loadActor(opts.db, claims);
      if (!actor) throw unauthenticated('revoked-or-inactive');
      request.ctx.actor = actor;
    });
  },
  { name: 'auth', dependencies: ['request-context'] },
);
