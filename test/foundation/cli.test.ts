import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** Runs `npm run clinic:create -- …` as a user would, on an embedded database in its own directory. */
function createClinicCommand(dataDir: string, args: string[], env: Record<string, string> = {}) {
  const cleanEnv = { ...process.env, DATABASE_URL: '', TEST_DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env };
  return run(process.execPath, ['--import', 'tsx', 'scripts/create-clinic.ts', ...args], { cwd: root, env: cleanEnv });
}

const args = [
  '--slug',
  'riverside',
  '--name',
  'Riverside DBT',
  '--admin-email',
  'admin@riverside.example',
  '--admin-name',
  'Riverside Admin',
];

describe('clinic:create', () => {
  it('creates a clinic and its first admin on an empty database, who can then sign in', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dialectic-cli-'));
    const { stdout } = await createClinicCommand(dataDir, args);
    expect(stdout).toContain('Clinic "Riverside DBT" (riverside) created with admin admin@riverside.example');
    const password = stdout.match(/Admin password \(shown once\): (\S+)/)?.[1];
    expect(password).toMatch(/^\S{20,}$/);

    const again = await createClinicCommand(dataDir, args).catch((error: { code: number; stderr: string }) => error);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });

    const database = await openDatabase({ dataDir });
    const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), { database, logger: false });
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { clinic: 'riverside', email: 'admin@riverside.example', password },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().staff.roles).toEqual(['admin']);
    await app.close();
    await database.close();
  });

  it('takes the password from ADMIN_PASSWORD and names missing arguments', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dialectic-cli-'));
    const { stdout } = await createClinicCommand(dataDir, args, { ADMIN_PASSWORD: 'a synthetic admin password' });
    expect(stdout).not.toContain('shown once');
    const missing = await createClinicCommand(dataDir, ['--slug', 'x']).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--name, --admin-email, --admin-name') });
  });
});
