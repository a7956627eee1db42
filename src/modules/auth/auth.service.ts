import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { clinics, loginThrottle, staff } from '../../db/schema/index.js';
import { inScope, unscoped } from '../../db/scope.js';
import type { Actor, AuthedContext, RequestContext } from '../../lib/context.js';
import { AppError } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
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
  // The throttle counts failures whatever happens to the request, so it stays outside its transaction.
  const pool = unscoped(db);
  await refuseIfLocked(pool, Object.values(keys));

  const found = await findAccount(pool, input.clinic.toLowerCase(), email);
  ctx.clinicId = found?.clinicId ?? null;
  const account = found?.staff ?? null;
  ctx.audit.resourceId = account?.id;
  ctx.query = { clinic: input.clinic, email };

  const passwordOk = await verifyPassword(account?.passwordHash ?? null, input.password);
  if (!account || !passwordOk || !account.active) {
    await recordFailure(pool, keys.account, throttle.maxFailures, throttle.lockSeconds);
    await recordFailure(pool, keys.address, throttle.maxFailures * ADDRESS_FACTOR, throttle.lockSeconds);
    throw badCredentials(!account ? 'unknown-account' : !passwordOk ? 'wrong-password' : 'inactive-account');
  }
  await pool.delete(loginThrottle).where(eq(loginThrottle.key, keys.account));
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

/**
 * The clinic a sign-in names comes from a lookup that row-level security lets through (before
 * sign-in no clinic is in scope: see migration 0014's clinic_for_slug); the account is then read
 * in that clinic's scope.
 */
async function findAccount(db: Db, slug: string, email: string) {
  const { rows } = await db.execute<{ id: string }>(sql`select id from clinic_for_slug(${slug})`);
  const clinicId = rows[0]?.id;
  if (!clinicId) return null;
  return inScope(db, { clinicId }, async (tx) => {
    const [found] = await tx
      .select({ staff, clinicId: clinics.id, clinicName: clinics.name })
      .from(clinics)
      .leftJoin(staff, and(eq(staff.clinicId, clinics.id), sql`lower(${staff.email}) = ${email}`))
      .where(eq(clinics.id, clinicId));
    return found ?? null;
  });
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

export type ActorRow = {
  id: string;
  clinicId: string;
  roles: Actor['roles'];
  email: string;
  displayName: string;
  active: boolean;
  /** Timestamps as ISO strings (to_json): raw statements get no column mapping. */
  tokensValidAfter: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  clinicName: string;
};

/**
 * The one statement every request runs to load its caller, written out (no query builder on the
 * hot path) with the token's ids in the text, so it can travel with the request's BEGIN in one
 * round trip. Both ids are checked to be UUIDs before they are written in. The query itself is in
 * request_actor (migration 0016), planned once per connection: a statement in a simple query is
 * planned every time, and under row-level security planning the join cost more than running it.
 */
export function actorStatement(claims: Pick<TokenClaims, 'cid' | 'sub'>): string {
  if (!isUuid(claims.cid) || !isUuid(claims.sub)) throw new Error('token ids must be UUIDs');
  return `select * from request_actor('${claims.cid}'::uuid, '${claims.sub}'::uuid)`;
}

/**
 * The staff member a token names, if the account is active and the token was issued after the
 * account's tokens were last revoked.
 */
export function toActor(row: ActorRow | undefined, claims: TokenClaims): Actor | null {
  if (!row?.active) return null;
  // iat has whole seconds: a token from the second of a revocation may predate it, so it is refused too.
  if (row.tokensValidAfter && (claims.iat ?? 0) * 1000 < new Date(row.tokensValidAfter).getTime()) return null;
  return {
    staffId: row.id,
    clinicId: row.clinicId,
    roles: row.roles,
    email: row.email,
    displayName: row.displayName,
    tokenId: claims.jti,
    profile: { version: row.version, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt), clinicName: row.clinicName },
  };
}

/** Loads the caller on a database without request scopes (embedded PGlite). */
export async function loadActor(db: DbOrTx, claims: TokenClaims): Promise<Actor | null> {
  const { rows } = await db.execute<ActorRow>(sql.raw(actorStatement(claims)));
  return toActor(rows[0], claims);
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
