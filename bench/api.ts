import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port nothing listens on right now, picked by the kernel. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

export interface ApiProcess {
  baseUrl: string;
  pid: number;
  /** The last lines the server printed, for error messages. */
  output(): string;
  /** Rejects if the server exits before stop() is called; for racing against a running phase. */
  failOnExit(): Promise<never>;
  stop(): Promise<void>;
}

export interface StartOptions {
  root: string;
  port: number;
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
}

/** Starts `node --import tsx src/server.ts` and waits until GET /readyz answers 200. */
export async function startApi(options: StartOptions): Promise<ApiProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: options.root,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopping = false;
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? null : 0);
      resolve(exitCode);
    });
  });
  const output = () => lines.join('\n');
  const baseUrl = `http://127.0.0.1:${options.port}`;

  const stop = async () => {
    stopping = true;
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`the API exited with code ${exitCode} before it was ready:\n${output()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the API did not answer GET /readyz with 200 within ${options.readyTimeoutMs} ms:\n${output()}`);
    }
    await sleep(200);
  }

  return {
    baseUrl,
    pid: child.pid as number,
    output,
    failOnExit: () =>
      exited.then((code) => {
        if (stopping) return new Promise<never>(() => {});
        throw new Error(`the API exited unexpectedly with code ${code}:\n${output()}`);
      }),
    stop,
  };
}

/** POST /v1/auth/login; returns the bearer token. */
export async function login(baseUrl: string, body: { clinic: string; email: string; password: string }): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${text}`);
  const { accessToken } = JSON.parse(text) as { accessToken?: string };
  if (!accessToken) throw new Error(`login returned no accessToken: ${text}`);
  return accessToken;
}

/** CPU seconds (user + system) a process has used, from /proc; null where /proc is not available. */
export async function processCpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}
