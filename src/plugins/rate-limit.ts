import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import type { TokenClaims } from './auth.js';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Requests per minute, counted before authentication touches the database. A request with a
 * validly signed token counts against that token (its jti); any other request, a bad token
 * included, counts against its source address. Signed-in staff behind one clinic's NAT or a proxy
 * thus do not share a limit, and inventing tokens does not escape the address's.
 *
 * A refused request is a 429 problem with Retry-After, audited like every other answer. Routes
 * that go unaudited (probes, docs, CORS preflights) are not counted. Counters live in this process.
 */
export default fp(
  async (app: FastifyInstance, opts: { config: Pick<Config, 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_PER_ADDRESS_PER_MINUTE'> }) => {
    const perToken = opts.config.RATE_LIMIT_PER_MINUTE;
    const perAddress = opts.config.RATE_LIMIT_PER_ADDRESS_PER_MINUTE;
    if (perToken === 0 && perAddress === 0) return;
    await app.register(rateLimit, { global: false });
    const limiter = (max: number, keyGenerator?: (request: FastifyRequest) => string): Limiter | null =>
      max === 0 ? null : app.createRateLimit({ max, timeWindow: 60_000, ...(keyGenerator ? { keyGenerator } : {}) });
    const byToken = limiter(perToken, (request) => `token:${(request.user as TokenClaims).jti}`);
    // The default key is the normalized address (an IPv6 client by its /64).
    const byAddress = limiter(perAddress);

    app.addHook('onRequest', async (request) => {
      if (request.ctx.route.audit === false) return;
      const claims = await signedClaims(request);
      const limit = claims ? byToken : byAddress;
      const outcome = await limit?.(request);
      if (!outcome || outcome.isAllowed || !outcome.isExceeded) return;
      if (claims) {
        // The account is not loaded yet; the clinic and the token still place the record.
        request.ctx.clinicId = claims.cid;
        request.ctx.audit.details = { tokenId: claims.jti, staffId: claims.sub };
      }
      const retryAfter = Math.max(1, outcome.ttlInSeconds);
      throw new AppError('rate_limited', `Too many requests; retry in ${retryAfter} seconds`, {
        retryAfter,
        denialReason: claims ? 'rate-limited-token' : 'rate-limited-address',
      });
    });
  },
  { name: 'rate-limit', dependencies: ['request-context', 'errors', 'auth'] },
);

/** The claims of a validly signed bearer token (no database involved), or null. */
async function signedClaims(request: FastifyRequest): Promise<TokenClaims | null> {
  if (!request.headers.authorization) return null;
  try {
    return await request.jwtVerify<TokenClaims>();
  } catch {
    return null;
  }
}
