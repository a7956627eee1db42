import { AsyncLocalStorage } from 'node:async_hooks';
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
 * through the scoped handle (`scopedDatabase`); a nested `transaction()` is a savepoint in it.
 */
export class RequestScope {
  private open: OpenTransaction | null = null;
  private clinicId: string | null = null;

  constructor(private readonly root: Db) {}

  get tx(): Tx | null {
    return this.open?.tx ?? null;
  }

  /**
   * Takes a pooled connection and begins the transaction as the application role, scoped to one
   * clinic. A first statement (plain SQL, no parameters) travels with the BEGIN in the same round
   * trip; its rows are returned.
   */
  async enter(clinicId: string, firstStatement?: string): Promise<Record<string, unknown>[]> {
    if (this.open) throw new Error('the request scope is already open');
    const client = await poolOf(this.root).connect();
    let rows: Record<string, unknown>[] = [];
    try {
      const results = await client.query(`begin; ${scopeSql({ clinicId })}${firstStatement ? `; ${firstStatement}` : ''}`);
      if (firstStatement) rows = (results as unknown as Array<{ rows: Record<string, unknown>[] }>).at(-1)?.rows ?? [];
    } catch (error) {
      client.release(true);
      throw error;
    }
    this.open = { client, tx: transactionOn(this.root, client) };
    this.clinicId = clinicId;
    return rows;
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
   * gone. A rollback — also how a read ends, having changed nothing — is not waited for, so an
   * answer never waits for a round trip that cannot change it.
   */
  async end(how: 'commit' | 'rollback'): Promise<void> {
    const open = this.open;
    this.open = null;
    if (!open) return;
    const finished = open.client.query(how).then(
      (result) => {
        open.client.release();
        if (how === 'commit' && result.command !== 'COMMIT') throw new Error('the transaction was rolled back instead of committed');
      },
      (error: unknown) => {
        open.client.release(error instanceof Error ? error : true);
        throw error;
      },
    );
    if (how === 'commit') return finished;
    finished.catch(() => {});
  }
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

const storage = new AsyncLocalStorage<RequestScope>();
const ROOT = Symbol('root database');

/** The transaction of the request being served, if it runs in one. */
export function requestTransaction(): Tx | null {
  return storage.getStore()?.tx ?? null;
}

/** Runs the rest of a request (its handler) with its scope, so the scoped handle finds the transaction. */
export function runInScope(scope: RequestScope, next: () => void): void {
  storage.run(scope, next);
}

/**
 * The database handle routes and services get: inside a request whose scope is open, every call
 * goes to the request's transaction (a nested `transaction()` becomes a savepoint); elsewhere to
 * the pool.
 */
export function scopedDatabase(root: Db): Db {
  return new Proxy(root, {
    get(target, property) {
      if (property === ROOT) return target;
      const source = storage.getStore()?.tx ?? target;
      const value = Reflect.get(source, property, source);
      return typeof value === 'function' ? value.bind(source) : value;
    },
  });
}

/** The pool behind a scoped handle, for work that must not join the request's transaction. */
export function unscoped(db: Db): Db {
  return ((db as unknown as Record<symbol, Db | undefined>)[ROOT] ?? db) as Db;
}
