import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const secret = (name: string) =>
  z.string({ error: `${name} is required (at least 32 characters)` }).min(32, `${name} must be at least 32 characters`);

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: integer(0, 65535).default(3000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }).optional(),
  /** The tables' owner, for migrations, audit partitions and clinic set-up, when DATABASE_URL logs in as a role that owns nothing. */
  MIGRATION_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'MIGRATION_DATABASE_URL must be a postgres:// URL' }).optional(),
  DB_POOL_MAX: integer(1, 500).default(20),
  DB_STATEMENT_TIMEOUT_MS: integer(0, 3_600_000).default(15_000),
  DB_CONNECT_TIMEOUT_MS: integer(100, 60_000).default(2000),
  /** Requests run as the row-level-security role, scoped to their clinic (PostgreSQL only); off only to measure its cost. */
  DB_ROW_SECURITY: z.enum(['on', 'off']).default('on'),
  WORKERS: integer(1, 64).default(1),
  DATA_DIR: z.string().min(1).default('./.data'),
  JWT_SECRET: secret('JWT_SECRET'),
  JWT_TTL_SECONDS: integer(60, 86_400).default(900),
  JWT_CLOCK_SKEW_SECONDS: integer(0, 300).default(30),
  AUDIT_HMAC_KEY: secret('AUDIT_HMAC_KEY'),
  AUDIT_SEAL_INTERVAL_MS: integer(50, 3_600_000).default(250),
  LOGIN_MAX_FAILURES: integer(1, 1000).default(5),
  LOGIN_LOCK_SECONDS: integer(1, 86_400).default(900),
  BODY_LIMIT_BYTES: integer(1024, 100 * 1024 * 1024).default(1024 * 1024),
  REQUEST_TIMEOUT_MS: integer(1000, 600_000).default(30_000),
  RATE_LIMIT_PER_MINUTE: integer(0, 10_000_000).default(600),
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: integer(0, 10_000_000).default(1200),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform(commaSeparated)
    .refine((origins) => origins.every(isOrigin), 'CORS_ORIGINS must be origins such as https://app.example.org, separated by commas'),
  METRICS_TOKEN: secret('METRICS_TOKEN').optional(),
  METRICS_ALLOW: z
    .string()
    .default('127.0.0.1/32,::1/128')
    .refine(isAddressList, 'METRICS_ALLOW must be IP addresses or CIDR ranges separated by commas, or none'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_VERSION: z.string().min(1).default(packageVersion()),
});

export type Config = z.infer<typeof envSchema>;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** METRICS_ALLOW as a BlockList: addresses or CIDR ranges separated by commas, or `none`. Throws on a bad entry. */
export function addressAllowlist(text: string): BlockList {
  const list = new BlockList();
  if (text.trim() === 'none') return list;
  for (const entry of text.split(',')) {
    const [address = '', prefix] = entry.trim().split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1, family);
  }
  return list;
}

function isAddressList(text: string): boolean {
  try {
    addressAllowlist(text);
    return true;
  } catch {
    return false;
  }
}

function commaSeparated(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Exactly an origin: scheme, host and optional port, no path or trailing slash. */
function isOrigin(text: string): boolean {
  return URL.canParse(text) && new URL(text).origin === text;
}

/** Thrown when the environment cannot start the service; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the environment. Secrets have no defaults: with DATABASE_URL they must be
 * given. The embedded (PGlite) demo mode generates them once into DATA_DIR so `npm start` works on
 * a machine with nothing but Node, and keeps them there so tokens and the audit chain survive a
 * restart.
 */
export function loadConfig(env: Env = process.env): Config {
  const input = { ...env };
  for (const key of Object.keys(input)) if (input[key] === '') delete input[key];
  if (!input.DATABASE_URL) Object.assign(input, embeddedSecrets(input));
  const parsed = envSchema
    .refine((config) => config.WORKERS === 1 || config.DATABASE_URL, {
      path: ['WORKERS'],
      message: 'WORKERS above 1 needs DATABASE_URL (the embedded database serves one process)',
    })
    .safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function embeddedSecrets(env: Env): Env {
  if (env.JWT_SECRET && env.AUDIT_HMAC_KEY) return {};
  const dir = resolve(env.DATA_DIR ?? './.data');
  const file = join(dir, 'secrets.json');
  let stored: Env = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Env;
  const generated = {
    JWT_SECRET: stored.JWT_SECRET ?? randomBytes(48).toString('base64url'),
    AUDIT_HMAC_KEY: stored.AUDIT_HMAC_KEY ?? randomBytes(48).toString('base64url'),
  };
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
  }
  return { JWT_SECRET: env.JWT_SECRET ?? generated.JWT_SECRET, AUDIT_HMAC_KEY: env.AUDIT_HMAC_KEY ?? generated.AUDIT_HMAC_KEY };
}
