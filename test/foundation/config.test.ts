import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const secrets = { JWT_SECRET: 'j'.repeat(32), AUDIT_HMAC_KEY: 'a'.repeat(32) };

describe('configuration', () => {
  it('applies documented defaults', () => {
    const config = loadConfig({ ...secrets, DATABASE_URL: 'postgres://u@localhost/db' });
    expect(config).toMatchObject({ PORT: 3000, DATA_DIR: './.data', JWT_TTL_SECONDS: 900, BODY_LIMIT_BYTES: 1_048_576, LOG_LEVEL: 'info' });
  });

  it('names every bad or missing variable in one message', () => {
    const attempt = () => loadConfig({ DATABASE_URL: 'mysql://nope', PORT: 'eighty', JWT_SECRET: 'short', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    for (const name of ['DATABASE_URL', 'PORT', 'JWT_SECRET', 'AUDIT_HMAC_KEY', 'LOG_LEVEL']) expect(message).toContain(name);
    expect(message).toContain('at least 32 characters');
  });

  it('has no default secrets with a real database', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@localhost/db' })).toThrow(/JWT_SECRET[\s\S]*AUDIT_HMAC_KEY/);
  });

  it('embedded mode generates secrets once into DATA_DIR and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialectic-config-'));
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.JWT_SECRET).toHaveLength(64);
    expect(second.JWT_SECRET).toBe(first.JWT_SECRET);
    expect(second.AUDIT_HMAC_KEY).toBe(first.AUDIT_HMAC_KEY);
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')).JWT_SECRET).toBe(first.JWT_SECRET);
  });
});
