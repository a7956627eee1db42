import type { AppError } from '../lib/errors.js';

/** The SQLSTATE of a database error from either driver (drizzle wraps the driver's error in `cause`). */
export function sqlState(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === 'string') return direct;
  const wrapped = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof wrapped === 'string' ? wrapped : undefined;
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
