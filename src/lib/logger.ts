import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';

/** Field names that may hold credentials or PHI, redacted wherever they appear in a log line. */
const sensitive = [
  'password',
  'passwordHash',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'email',
  'name',
  'givenName',
  'familyName',
  'dateOfBirth',
  'phone',
  'notes',
];

/** The request as logged: the path without its query string, which may carry a name searched for. */
function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: request.url.split('?')[0],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

interface LoggedError {
  [field: string]: unknown;
  type: string;
  message: string;
  /** The frames only: the first line of a stack repeats the message. */
  stack: string;
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  cause?: LoggedError;
}

/**
 * An error as logged: what kind, where, and for a database error its SQLSTATE and the names of the
 * constraint, table and column involved. Never the values it carries: a failed query's parameters,
 * the row a constraint refused (`detail`), or a value the message quotes.
 */
function errorForLog(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: 'a non-error value was thrown', stack: '' };
  const fields = error as Error & { code?: unknown; constraint?: unknown; table?: unknown; column?: unknown };
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const fromDatabase = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  // A driver error's message ends with the parameters (`…\nparams: …`); the database quotes values.
  let message = error.message.split('\nparams:')[0] ?? '';
  if (fromDatabase) message = message.replace(/"[^"]*"/g, '"…"');
  const named = (value: unknown) => (fromDatabase && typeof value === 'string' ? value : undefined);
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return {
    type: error.constructor?.name || error.name,
    message,
    stack: frames.join('\n'),
    ...(code ? { code } : {}),
    ...definedOnly({ constraint: named(fields.constraint), table: named(fields.table), column: named(fields.column) }),
    ...(error.cause !== undefined && depth < 3 ? { cause: errorForLog(error.cause, depth + 1) } : {}),
  };
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    serializers: { req: requestForLog, err: errorForLog },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        ...sensitive.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
      ],
      censor: '[redacted]',
    },
  };
}
