import type { AppError } from '../lib/errors.js';

/** The SQLSTATE of a database error from either driver (drizzle wraps the driver's error in `cause`). */
export function sqlState(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === 'string') return direct;
  const wrapped = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof wrapped === 'string' ? wrapped : undefined;
}

/**
 * SQLSTATEs that say the server is going away or not yet accepting work: class 08 (connection
 * exception), admin/crash shutdown, "the database system is starting up / shutting down".
 */
const unreachableStates = /^(08...|57P01|57P02|57P03)$/;
const socketErrors = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** node-postgres raises these without a code when a connection cannot be made or is lost mid-query. */
const driverMessages = /^(timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error)/;

/**
 * Whether an error means the database cannot be reached right now, rather than that the statement
 * was wrong: the request may succeed if retried shortly. Looks through drizzle's `cause` wrapping.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (unreachableStates.test(code) || socketErrors.has(code))) return true;
    if (typeof message === 'string' && driverMessages.test(message)) return true;
  }
  return false;
}

/**
 * A unique key is the real guard against duplicates (a check before the insert races); this turns
 * its violation into the problem the caller should see instead of a 500.
 */
export async function onUniqueViolation<T>(work: Promise<T>, problem: () => AppError): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (sqlState(error) === '23505') throw problem();
    throw error;
  }
}
