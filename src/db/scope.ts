import { sql } from 'drizzle-orm';
import { NodePgSession, type NodePgSessionOptions, NodePgTransaction } from 'drizzle-orm/node-postgres/session';
import type { PgDialect } from 'drizzle-orm/pg-core';
import pg, { type Pool, type PoolClient } from 'pg';
import { isUuid } from '../lib/ids.js';
import type { Db, Tx } from './client.js';

/**
 * Row-level security as a second line behind the services' own `clinic_id` conditions (migration
 * 0014). Tenant tables have policies for two roles the login role is a member of:
 * - dialectic_app: rows of the clinic named by the transaction's `app.clinic_id` setting, and no
 *   others; with no setting, no rows at all.
 * - dialectic_maintenance: the background work that spans clinics (audit sealing, expired
 *   idempotency keys), and nothing else.
 * Every transaction names its role and clinic with SET LOCAL (or set_config(…, true)), so nothing
 * survives the transaction on a pooled connection.
 */
export const APP_ROLE = 'dialectic_app';
export const MAINTENANCE_ROLE = 'dialectic_maintenance';

export type Scope = { clinicId: string } | 'maintenance';

/** The first statement of a scoped transaction, parameterised (any driver). */
export function scopeStatement(scope: Scope) {
  if (scope === 'maintenance') return sql`select set_config('role', ${MAINTENANCE_ROLE}, true)`;
  return sql`select set_config('role', ${APP_ROLE}, true), set_config('app.clinic_id', ${clinicOf(scope)}, true)`;
}

/**
 * The same as SET LOCAL statements, to follow BEGIN in one simple query on a raw pg connection:
 * one round trip opens a scoped transaction. The clinic id is checked to be a UUID before it is
 * written into the text.
 */
export function scopeSql(scope: Scope): string {
  if (scope === 'maintenance') return `set local role ${MAINTENANCE_ROLE}`;
  return `set local role ${APP_ROLE}; set local app.clinic_id = '${clinicOf(scope)}'`;
}

function clinicOf(scope: { clinicId: string }): string {
  if (!isUuid(scope.clinicId)) throw new Error('a clinic scope needs a clinic id');
  return scope.clinicId;
}

/** One transaction in the given scope, for work outside a request (sign-in, background jobs). */
export function inScope<T>(db: Db, scope: Scope, work: (tx: Tx) => Promise<T>): Promise<T> {
  return unscoped(db).transaction(async (tx) => {
    await tx.execute(scopeStatement(scope));
    return work(tx);
  });
}

interface OpenTransaction {
  client: PoolClient;
  tx: Tx;
}

/**
 * The transaction a request runs in (PostgreSQL): opened when the request's clinic is known (the
 * token check), ended by the request-scope plugins before the response leaves. Services reach it
 * through the request's handle (`db`, which routes pass on as `request.db`); a nested
 * `transaction()` is a savepoint in it.
 */
export class RequestScope {
  private open: OpenTransaction | null = null;
  private clinicId: string | null = null;
  readonly db: Db;

  constructor(private readonly root: Db) {
    this.db = scopedDatabase(root, this);
  }

  get tx(): Tx | null {
    return this.open?.tx ?? null;
  }

  /**
   * Takes a connection and begins the transaction as the application role, scoped to one clinic. A
   * first statement (plain SQL, no parameters) travels with the BEGIN in the same round trip; its
   * rows are returned. A connection whose read has ended (see EndedReads) is taken first, its
   * ROLLBACK sent in front of the BEGIN; if it was lost meanwhile, a fresh one from the pool is used.
   */
  async enter(clinicId: string, firstStatement?: string): Promise<Record<string, unknown>[]> {
    if (this.open) throw new Error('the request scope is already open');
    const pool = poolOf(this.root);
    const opening = `begin; ${scopeSql({ clinicId })}${firstStatement ? `; ${firstStatement}` : ''}`;
    const kept = endedReadsOf(pool).take();
    const rows = kept ? await this.begin(clinicId, kept, `rollback; ${opening}`).catch(() => null) : null;
    return rows ?? this.begin(clinicId, await pool.connect(), opening);
  }

  private async begin(clinicId: string, client: PoolClient, text: string): Promise<Record<string, unknown>[]> {
    let results: unknown;
    try {
      results = await client.query(text);
    } catch (error) {
      client.release(true);
      throw error;
    }
    this.open = { client, tx: transactionOn(this.root, client) };
    this.clinicId = clinicId;
    return (results as Array<{ rows: Record<string, unknown>[] }>).at(-1)?.rows ?? [];
  }

  /**
   * Runs work that needs connections of its own (sealing the audit trail) with the request's
   * connection given back, then continues in a new transaction in the same scope. Holding one
   * connection while waiting for another would let a burst of such requests exhaust the pool.
   */
  async outside<T>(work: () => Promise<T>): Promise<T> {
    const clinicId = this.clinicId;
    if (!this.open || !clinicId) return work();
    await this.end('commit');
    try {
      return await work();
    } finally {
      await this.enter(clinicId);
    }
  }

  /**
   * Ends the transaction. A commit resolves once it is durable, and throws when it failed or when
   * the server rolled back instead (a statement had failed outside a savepoint): the changes are
   * gone. A rollback is not waited for, so an answer never waits for a round trip that cannot
   * change it. A read — a request that wrote nothing and locked nothing — does not even send its
   * ROLLBACK now: its connection is kept for the next request scope (EndedReads).
   */
  async end(how: 'commit' | 'rollback' | 'read'): Promise<void> {
    const open = this.open;
    this.open = null;
    if (!open) return;
    if (how === 'read' && endedReadsOf(poolOf(this.root)).keep(open.client)) return;
    const finished = endOn(open.client, how === 'commit' ? 'commit' : 'rollback');
    if (how === 'commit') return finished;
    finished.catch(() => {});
  }
}

/** Sends COMMIT or ROLLBACK and returns the connection to the pool (discarded when it failed). */
function endOn(client: PoolClient, how: 'commit' | 'rollback'): Promise<void> {
  return client.query(how).then(
    (result) => {
      client.release();
      if (how === 'commit' && result.command !== 'COMMIT') throw new Error('the transaction was rolled back instead of committed');
    },
    (error: unknown) => {
      client.release(error instanceof Error ? error : true);
      throw error;
    },
  );
}

/** How long a connection whose read has ended waits for the next request scope before it is rolled back and returned. */
export const ENDED_READ_HOLD_MS = 20;

/**
 * Connections whose read transaction is over and whose ROLLBACK has not been sent. A read changed
 * nothing, so its ROLLBACK need not cost a round trip of its own — on a busy service that round
 * trip was most of what row-level security added to a read. The connection is kept out of the
 * pool, and the next request scope to open takes it (the most recent first) and sends the
 * ROLLBACK in front of its own BEGIN, in one message. Nothing else can be handed such a connection.
 *
 * A connection not taken within ENDED_READ_HOLD_MS is rolled back and returned to the pool, and
 * none is kept while anyone waits for a pooled connection. What an ended read still holds is
 * small: ACCESS SHARE locks on what it read (DDL waits at most that long), and no transaction id
 * or snapshot, so neither vacuum nor the audit sealer waits for it.
 */
class EndedReads {
  /** Oldest first: connections are kept at the end and taken from it. */
  private readonly held: Array<{ client: PoolClient; since: number }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: Pool) {}

  /** Keeps the connection for the next scope; false when it must go back to the pool now. */
  keep(client: PoolClient): boolean {
    if (this.pool.waitingCount > 0 || this.pool.ending) return false;
    this.held.push({ client, since: performance.now() });
    this.timer ??= setTimeout(() => this.sweep(), ENDED_READ_HOLD_MS).unref();
    return true;
  }

  take(): PoolClient | undefined {
    return this.held.pop()?.client;
  }

  get size(): number {
    return this.held.length;
  }

  /** Rolls back and returns every kept connection (before the pool ends). */
  async release(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled(this.held.splice(0).map(({ client }) => endOn(client, 'rollback')));
  }

  private sweep(): void {
    this.timer = null;
    const cutoff = performance.now() - ENDED_READ_HOLD_MS;
    const stale = this.held.findIndex((entry) => entry.since > cutoff);
    for (const { client } of this.held.splice(0, stale === -1 ? this.held.length : stale)) endOn(client, 'rollback').catch(() => {});
    const oldest = this.held[0];
    if (oldest) this.timer = setTimeout(() => this.sweep(), Math.max(1, oldest.since - cutoff)).unref();
  }
}

const endedReads = new WeakMap<Pool, EndedReads>();

function endedReadsOf(pool: Pool): EndedReads {
  let reads = endedReads.get(pool);
  if (!reads) {
    reads = new EndedReads(pool);
    endedReads.set(pool, reads);
  }
  return reads;
}

/** How many connections of a pool are kept after a read, their ROLLBACK not sent yet (checked out, to the pool). */
export function endedReadsKept(pool: Pool): number {
  return endedReads.get(pool)?.size ?? 0;
}

/** Rolls back the ended reads kept from a pool and returns them to it; call before ending the pool. */
export function releaseEndedReads(pool: Pool): Promise<void> {
  return endedReads.get(pool)?.release() ?? Promise.resolve();
}

function poolOf(db: Db): Pool {
  const client = (unscoped(db) as unknown as { $client?: unknown }).$client;
  if (!(client instanceof pg.Pool)) throw new Error('request scopes need a PostgreSQL pool');
  return client;
}

const bound = new WeakMap<PoolClient, { root: Db; tx: Tx }>();

/**
 * A drizzle transaction on a connection whose BEGIN was already sent. Built from the root
 * database's own dialect and schema with the driver's exported session classes, so it behaves as
 * the transaction drizzle would have opened (savepoints for nested transactions included). The
 * objects hold nothing of one transaction, so each pooled connection keeps its own for the next
 * request: building them (a query builder per table) was a measurable part of a short read.
 */
function transactionOn(root: Db, client: PoolClient): Tx {
  const kept = bound.get(client);
  if (kept?.root === root) return kept.tx;
  const { dialect, session } = root as unknown as {
    dialect: PgDialect;
    session: { schema: ConstructorParameters<typeof NodePgSession>[2]; options: NodePgSessionOptions };
  };
  const tx = new NodePgTransaction(
    dialect,
    new NodePgSession(client, dialect, session.schema, session.options),
    session.schema,
  ) as unknown as Tx;
  bound.set(client, { root, tx });
  return tx;
}

const ROOT = Symbol('root database');
const TRANSACTION = Symbol('request transaction');

/**
 * The database handle of one request (`request.db`): while the request's scope is open, every call
 * goes to its transaction (a nested `transaction()` becomes a savepoint); before and after, to the
 * pool. Each call looks the transaction up, so a handle kept across `outside()` follows the scope.
 * The handle is the request's own, passed down explicitly: no async context is needed to find it,
 * which on this Node.js version would put a hook on every promise of every request.
 */
function scopedDatabase(root: Db, scope: RequestScope): Db {
  return new Proxy(root, {
    get(target, property) {
      if (property === ROOT) return target;
      if (property === TRANSACTION) return scope.tx;
      const source = scope.tx ?? target;
      const value = Reflect.get(source, property, source);
      return typeof value === 'function' ? value.bind(source) : value;
    },
  });
}

/** The request's open transaction behind a handle, if the handle is a request's and its scope is open. */
export function requestTransactionOf(db: Db): Tx | null {
  return (db as unknown as Record<symbol, Tx | null | undefined>)[TRANSACTION] ?? null;
}

/** The pool behind a request's handle, for work that must not join the request's transaction. */
export function unscoped(db: Db): Db {
  return ((db as unknown as Record<symbol, Db | undefined>)[ROOT] ?? db) as Db;
}
