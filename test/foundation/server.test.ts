import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createFileDatabase, target } from '../helpers/app.js';

const root = new URL('../..', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `npm start`'s command as its own process and waits until /healthz answers. */
async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', TEST_DATABASE_URL: '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exit = once(child, 'exit');
  for (let attempt = 0; attempt < 150; attempt++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return { child, port, output: () => output, exit };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${output}`);
}

describe('the server process', () => {
  it('starts on the embedded database, says so first, and exits 0 on SIGTERM after finishing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dialectic-server-'));
    const server = await startServer({ DATA_DIR: dataDir });
    const firstLine = JSON.parse(
      server
        .output()
        .split('\n')
        .find((line) => line.startsWith('{')) ?? '{}',
    );
    expect(firstLine.msg).toContain(`using embedded PGlite in ${dataDir}`);
    expect(server.output()).toContain('This password is shown only once');
    const docs = await fetch(`http://127.0.0.1:${server.port}/docs/`);
    expect(docs.status).toBe(200);
    server.child.kill('SIGTERM');
    const [code] = await server.exit;
    expect(code).toBe(0);
    expect(server.output()).toContain('shutting down');
  });

  it('refuses several workers on the embedded database with a message naming WORKERS', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: '',
        TEST_DATABASE_URL: '',
        WORKERS: '2',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'dialectic-server-')),
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('WORKERS above 1 needs DATABASE_URL');
  });

  // Several workers need a PostgreSQL server; a run on the embedded database checks the refusal above.
  const itOnPostgres = target.kind === 'postgres' ? it : () => undefined;
  itOnPostgres('runs several workers on PostgreSQL and stops them all on SIGTERM', async () => {
    if (target.kind !== 'postgres') throw new Error('needs PostgreSQL');
    const database = await createFileDatabase();
    const url = new URL(target.adminUrl);
    const { rows } = await database.db.execute<{ name: string }>(sql`select current_database() as name`);
    url.pathname = `/${rows[0]?.name}`;
    await database.close();
    const secrets = { JWT_SECRET: 'w'.repeat(40), AUDIT_HMAC_KEY: 'k'.repeat(40) };
    const server = await startServer({ ...secrets, DATABASE_URL: url.toString(), WORKERS: '2' });
    const listening = () =>
      new Set(
        server
          .output()
          .split('\n')
          .filter((line) => line.includes('Server listening'))
          .map((line) => JSON.parse(line).pid as number),
      );
    // /healthz answered as soon as one worker listened; give the other one time to join.
    for (let attempt = 0; attempt < 100 && listening().size < 2; attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listening().size).toBe(2);
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(response.status).toBe(200);
    }
    server.child.kill('SIGTERM');
    const [code] = await server.exit;
    expect(code).toBe(0);
  });
});
