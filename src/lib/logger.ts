import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';

/** Field names that may hold credentials or PHI, redacted wherever they appear in a log line. */
const sensitive = [
  'password',
  'passwordHash',
  'currentPassword',
  'newPassword',
  'token',
  'email',
  'name',
  'givenName',
  'familyName',
  'dateOfBirth',
  'phone',
  'notes',
];

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
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
