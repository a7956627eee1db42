import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { clinics, loginThrottle, staff } from '../../db/schema/index.js';
import type { Actor, AuthedContext, RequestContext } from '../../lib/context.js';
import { AppError } from '../../lib/errors.js';
import { verifyPassword } from '../../lib/passwords.js';
import type { TokenClaims } from '../../plugins/auth.js';
import { toStaffResponse } from '../staff/staff.service.js';
import type { LoginBody } from './auth.schema.js';

export interface ThrottleSettings {
  maxFailures: number;
  lockSeconds: number;
}

/** One source address may fail this many times more often than one account before it is locked. */
const ADDRESS_FACTOR = 10;

const badCredentials = (reason: string) =>
  new AppError('unauthenticated', 'The clinic, email or password is incorrect', { denialReason: reason });

/**
 * Checks credentials. Every failure answers the same 401 after the same argon2 verification, so
 * neither the message nor the timing tells whether the account exists. Failures are counted per
 * account and per source address in the database, shared by every instance.
 */
export async function login(db: Db, ctx: RequestContext, throttle: ThrottleSettings, input: LoginBody) {
  const email = input.email.toLowerCase();
  const keys = { account: `account:${input.clinic.toLowerCase()}:${email}`, address: `address:${ctx.ip}` };
  await refuseIfLocked(db, Object.values(keys));

  const [found] = await db
    .select({ staff, clinicId: clinics.id, clinicName: clinics.name })
    .from(clinics)
    .leftJoin(staff, and(eq(staff.clinicId, clinics.id), sql`lower(${staff.email}) = ${email}`))
    .where(eq(clinics.slug, input.clinic.toLowerCase()));
  ctx.clinicId = found?.clinicId ?? null;
  const account = found?.staff ?? null;
  ctx.audit.resourceId = account?.id;
  ctx.query = { clinic: input.clinic, email };

  const passwordOk = await verifyPassword(account?.passwordHash ?? null, input.password);
  if (!account || !passwordOk || !account.active) {
    await recordFailure(db, keys.account, throttle.maxFailures, throttle.lockSeconds);
    await recordFailure(db, keys.address, throttle.maxFailures * ADDRESS_FACTOR, throttle.lockSeconds);
    throw badCredentials(!account ? 'unknown-account' : !passwordOk ? 'wrong-password' : 'inactive-account');
  }
  await db.delete(loginThrottle).where(eq(loginThrottle.key, keys.account));
  ctx.actor = {
    staffId: account.id,
    clinicId: account.clinicId,
    roles: account.roles,
    email: account.email,
    displayName: account.displayName,
    tokenId: '',
    profile: { version: account.version, createdAt: account.createdAt, updatedAt: account.updatedAt, clinicName: found?.clinicName ?? '' },
  };
  return toStaffResponse(account);
}

async function refuseIfLocked(db: Db, keys: string[]) {
  const locks = await db
    .select({ lockedUntil: loginThrottle.lockedUntil })
    .from(loginThrottle)
    .where(and(inArray(loginThrottle.key, keys), gt(loginThrottle.lockedUntil, sql`now()`)));
  if (locks.length === 0) return;
  const until = Math.max(...locks.map((lock) => (lock.lockedUntil as Date).getTime()));
  throw new AppError('rate_limited', 'Too many failed sign-in attempts; try again later', {
    retryAfter: Math.max(1, Math.ceil((until - Date.now()) / 1000)),
    denialReason: 'login-throttled',
  });
}

/** Counts a failure inside a window of lockSeconds; reaching the limit locks the key for lockSeconds. */
async function recordFailure(db: Db, key: string, limit: number, lockSeconds: number) {
  const window = sql`make_interval(secs => ${lockSeconds})`;
  const fresh = sql`${loginThrottle.firstFailureAt} < now() - ${window}`;
  const failures = sql`case when ${fresh} then 1 else ${loginThrottle.failures} + 1 end`;
  await db
    .insert(loginThrottle)
    .values({ key, failures: 1, firstFailureAt: sql`now()`, lockedUntil: limit <= 1 ? sql`now() + ${window}` : null })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures,
        firstFailureAt: sql`case when ${fresh} then now() else ${loginThrottle.firstFailureAt} end`,
        lockedUntil: sql`case when ${failures} >= ${limit} then now() + ${window} else null end`,
      },
    });
}

function prepareActorQuery(db: Db) {
  return db
    .select({
      id: staff.id,
      clinicId: staff.clinicId,
      roles: staff.roles,
      email: staff.email,
      displayName: staff.displayName,
      active: staff.active,
      tokensValidAfter: staff.tokensValidAfter,
      version: staff.version,
      createdAt: staff.createdAt,
      updatedAt: staff.updatedAt,
      clinicName: clinics.name,
    })
    .from(staff)
    .innerJoin(clinics, eq(clinics.id, staff.clinicId))
    .where(and(eq(staff.clinicId, sql.placeholder('clinicId')), eq(staff.id, sql.placeholder('staffId'))))
    .prepare('load_actor');
}

/** Every request runs this query: prepared once per database, planned once per connection. */
const actorQueries = new WeakMap<Db, ReturnType<typeof prepareActorQuery>>();

/**
 * The staff member a token names, if the account is active and the token was issued after the
 * account's tokens were last revoked.
 */
export async function loadActor(db: Db, claims: TokenClaims): Promise<Actor | null> {
  let actorQuery = actorQueries.get(db);
  if (!actorQuery) {
    actorQuery = prepareActorQuery(db);
    actorQueries.set(db, actorQuery);
  }
  const [row] = await actorQuery.execute({ clinicId: claims.cid, staffId: claims.sub });
  if (!row?.active) return null;
  // iat has whole seconds: a token from the second of a revocation may predate it, so it is refused too.
  if (row.tokensValidAfter && (claims.iat ?? 0) * 1000 < row.tokensValidAfter.getTime()) return null;
  return {
    staffId: row.id,
    clinicId: row.clinicId,
    roles: row.roles,
    email: row.email,
    displayName: row.displayName,
    tokenId: claims.jti,
    profile: { version: row.version, createdAt: row.createdAt, updatedAt: row.updatedAt, clinicName: row.clinicName },
  };
}

/** The signed-in member, as loaded by the token check in this same request. */
export function readMe(ctx: AuthedContext) {
  const { actor } = ctx;
  ctx.audit.resourceId = actor.staffId;
  ctx.audit.resultCount = 1;
  return {
    id: actor.staffId,
    email: actor.email,
    displayName: actor.displayName,
    roles: actor.roles,
    active: true,
    version: actor.profile.version,
    createdAt: actor.profile.createdAt,
    updatedAt: actor.profile.updatedAt,
    clinicId: actor.clinicId,
    clinicName: actor.profile.clinicName,
  };
}
