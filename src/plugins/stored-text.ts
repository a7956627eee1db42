import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../lib/errors.js';

type Where = 'body' | 'query' | 'params';

/**
 * The first string in a request part that holds a NUL character, and where: PostgreSQL cannot
 * store U+0000 in text or jsonb, so such a value would fail at the database instead of at the
 * door. Walks iteratively, so a deeply nested body cannot exhaust the stack.
 */
function findNul(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop() as [unknown, string];
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return path;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\u0000')) return path ? `${path}.${key}` : key;
        stack.push([child, path ? `${path}.${key}` : key]);
      }
    }
  }
  return null;
}

/** Refuses, with a 400 naming the field, any request whose body, query or path holds a NUL character. */
export default fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request) => {
      const parts: Array<[Where, unknown]> = [
        ['params', request.params],
        ['query', request.query],
        ['body', request.body],
      ];
      for (const [where, value] of parts) {
        const field = findNul(value);
        if (field === null) continue;
        const message = 'contains a NUL character (U+0000), which cannot be stored';
        throw new AppError('validation_failed', `Invalid ${where}${field ? `.${field}` : ''}: ${message}`, {
          errors: [{ in: where, field, message }],
        });
      }
    });
  },
  { name: 'stored-text', dependencies: ['errors'] },
);
