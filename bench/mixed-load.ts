/**
 * A mixed clinical workload over HTTP, and the checks that prove nothing was lost or half-written.
 * Each worker registers clients of its own and then keeps choosing an operation: register a client,
 * submit a diary-card day, create a session, update a client (If-Match), read a client, list
 * clients, read a session. Every request carries its own X-Request-Id, so its audit record can be
 * found; every write answered 2xx is remembered as acknowledged.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { login } from './api.js';
import { dateOf } from './harness.js';
import { type Cleanup, type ClinicLogin, launchApi, requireDatabaseUrl, runSecrets, scratchDatabase, seedClinic } from './scratch.js';
import { percentile } from './stats.js';

export interface Workload {
  clinicId: string;
  admin: string;
  therapist: string;
  therapistId: string;
  programId: string;
}

async function post<T>(baseUrl: string, token: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Signs in the administrator, adds a therapist and a program through the API, signs the therapist in. */
export async function prepareWorkload(baseUrl: string, clinic: ClinicLogin): Promise<Workload> {
  const admin = await login(baseUrl, { clinic: clinic.clinic, email: clinic.email, password: clinic.password });
  const password = randomBytes(18).toString('base64url');
  const email = `therapist@${clinic.clinic}.example`;
  const therapist = await post<{ id: string }>(baseUrl, admin, '/v1/staff', {
    email,
    displayName: 'Synthetic Therapist',
    roles: ['therapist'],
    password,
  });
  const program = await post<{ id: string }>(baseUrl, admin, '/v1/programs', { name: 'Synthetic adult program', kind: 'adult' });
  return {
    clinicId: clinic.clinicId,
    admin,
    therapist: await login(baseUrl, { clinic: clinic.clinic, email, password }),
    therapistId: therapist.id,
    programId: program.id,
  };
}

/**
 * A fresh database on the server DATABASE_URL names with a clinic, the API started on it (on
 * `port`, or a free one) and the workload prepared through it; all removed at cleanup.
 */
export async function scratchWorkload(cleanup: Cleanup, name: string, port?: number) {
  const scratch = await scratchDatabase(cleanup, requireDatabaseUrl(), `dialectic_${name}`);
  const clinic = await seedClinic(scratch.url, name);
  const secrets = runSecrets();
  const launch = () => launchApi(cleanup, { url: scratch.url, secrets, ...(port ? { port } : {}) });
  const api = await launch();
  const workload = await prepareWorkload(api.baseUrl, clinic);
  return { scratch, secrets, api, launch, workload, clinic: { clinicId: clinic.clinicId, key: secrets.AUDIT_HMAC_KEY } };
}

export type Created = { kind: 'client' | 'session'; id: string } | { kind: 'diary-day'; cardId: string; day: string };

export interface Outcome {
  requestId: string;
  op: OpName;
  target: number;
  /** performance.now() when the request was sent. */
  started: number;
  ms: number;
  /** 0 when no response arrived: connection refused or reset, or the client timeout. */
  status: number;
  problem: boolean;
  retryAfter: string | null;
  /** A problem's detail, or why no response arrived. */
  failure: string | null;
  created: Created | null;
}

type OpName = 'createClient' | 'submitDay' | 'createSession' | 'updateClient' | 'readClient' | 'listClients' | 'readSession';
export type Mix = Partial<Record<OpName, number>>;

export const mixes = {
  /** A third writes, two thirds reads. */
  mixed: { createClient: 10, submitDay: 15, createSession: 10, updateClient: 10, readClient: 25, listClients: 15, readSession: 15 },
  /** Mostly writes, for the crash test. */
  writes: { createClient: 30, submitDay: 30, createSession: 25, updateClient: 10, readClient: 5 },
} satisfies Record<string, Mix>;

export interface LoadOptions {
  /** Base URLs; worker i sends to targets[i % targets.length]. */
  targets: string[];
  workers: number;
  mix: Mix;
  /** A request without a response after this long counts as hung. */
  timeoutMs: number;
  /** Requests per second over all workers; unset: as fast as the workers go. */
  rate?: number;
  /** Pause after a failed request, as a client backing off would. */
  backoffMs?: number;
}

interface WorkerState {
  target: number;
  clients: Array<{ id: string; etag: string | null }>;
  sessions: string[];
}

const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)] as T;

export class MixedLoad {
  readonly runId = `load-${randomBytes(4).toString('hex')}`;
  readonly outcomes: Outcome[] = [];
  private stopping = false;
  private workers: Promise<void>[] = [];
  private states: WorkerState[] = [];
  /** performance.now() of the next request slot when a rate is set. */
  private nextSlot = 0;
  private counter = 0;
  private readonly weights: Array<[OpName, number]>;

  constructor(
    private readonly workload: Workload,
    private options: LoadOptions,
  ) {
    this.weights = Object.entries(options.mix) as Array<[OpName, number]>;
  }

  start() {
    this.stopping = false;
    this.nextSlot = performance.now();
    for (let i = 0; i < this.options.workers; i++) {
      // A worker keeps its clients and sessions from one run to the next.
      const state = this.states[i] ?? { target: 0, clients: [], sessions: [] };
      this.states[i] = state;
      state.target = i % this.options.targets.length;
      this.workers.push(this.work(state));
    }
  }

  /** Stops issuing requests and waits for the ones in flight. */
  async stop() {
    this.stopping = true;
    await Promise.all(this.workers.splice(0));
  }

  /** Runs for `ms` with other options (targets, rate), then stops. */
  async runFor(ms: number, options: Partial<LoadOptions> = {}) {
    this.options = { ...this.options, ...options };
    this.start();
    await sleep(ms);
    await this.stop();
  }

  private async work(state: WorkerState) {
    while (!this.stopping) {
      if (this.options.rate) {
        // Slots missed while the workers were slow are not made up later by more than 100 ms worth.
        const due = Math.max(this.nextSlot, performance.now() - 100);
        this.nextSlot = due + 1000 / this.options.rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (this.stopping) return;
      }
      const outcome = await this.operate(state);
      if (outcome.status < 200 || outcome.status >= 300) await sleep(this.options.backoffMs ?? 50);
    }
  }

  private choose(): OpName {
    let roll = Math.random() * this.weights.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [op, weight] of this.weights) {
      roll -= weight;
      if (roll < 0) return op;
    }
    return 'readClient';
  }

  private operate(state: WorkerState): Promise<Outcome> {
    const { admin, therapist } = this.workload;
    const n = ++this.counter;
    const op = state.clients.length === 0 ? 'createClient' : this.choose();
    const client = pick(state.clients);
    switch (op) {
      case 'createClient':
        return this.send(state, op, admin, 'POST', '/v1/clients', {
          body: {
            givenName: `Load${n}`,
            familyName: 'Synthetic',
            dateOfBirth: '1990-01-01',
            programId: this.workload.programId,
            primaryTherapistId: this.workload.therapistId,
          },
          onOk: (json, etag) => {
            state.clients.push({ id: json.id as string, etag });
            return { kind: 'client', id: json.id as string };
          },
        });
      case 'submitDay': {
        const day = dateOf(new Date(Date.now() - (1 + Math.floor(Math.random() * 27)) * 86_400_000));
        return this.send(state, op, therapist, 'POST', `/v1/clients/${client.id}/diary-cards/days/${day}`, {
          body: { skillsOverall: n % 8, urgeToQuit: n % 6, notes: null },
          onOk: (json) => ({ kind: 'diary-day', cardId: json.id as string, day }),
        });
      }
      case 'createSession':
        return this.send(state, op, therapist, 'POST', `/v1/clients/${client.id}/sessions`, {
          body: { scheduledStart: new Date(Date.now() + (n % 60) * 86_400_000).toISOString(), durationMinutes: 50, type: 'regular' },
          onOk: (json) => {
            state.sessions.push(json.id as string);
            return { kind: 'session', id: json.id as string };
          },
        });
      case 'updateClient':
        // Without a current ETag (a previous update failed) read the client first.
        if (client.etag)
          return this.send(state, op, admin, 'PATCH', `/v1/clients/${client.id}`, {
            body: { preferredName: `Pref${n}` },
            headers: { 'if-match': client.etag },
            onOk: (_json, etag) => {
              client.etag = etag;
            },
            onFail: () => {
              client.etag = null;
            },
          });
        return this.readClient(state, client);
      case 'readClient':
        return this.readClient(state, client);
      case 'listClients':
        return this.send(state, op, admin, 'GET', '/v1/clients?limit=20', {});
      case 'readSession':
        if (state.sessions.length === 0) return this.readClient(state, client);
        return this.send(state, op, therapist, 'GET', `/v1/sessions/${pick(state.sessions)}`, {});
    }
  }

  private readClient(state: WorkerState, client: { id: string; etag: string | null }) {
    return this.send(state, 'readClient', this.workload.admin, 'GET', `/v1/clients/${client.id}`, {
      onOk: (_json, etag) => {
        client.etag = etag;
      },
    });
  }

  private async send(
    state: WorkerState,
    op: OpName,
    token: string,
    method: string,
    path: string,
    call: {
      body?: unknown;
      headers?: Record<string, string>;
      onOk?: (json: Record<string, unknown>, etag: string | null) => Created | undefined;
      onFail?: () => void;
    },
  ): Promise<Outcome> {
    const requestId = `${this.runId}-${randomUUID()}`;
    const outcome: Outcome = {
      requestId,
      op,
      target: state.target,
      started: performance.now(),
      ms: 0,
      status: 0,
      problem: false,
      retryAfter: null,
      failure: null,
      created: null,
    };
    try {
      const response = await fetch(`${this.options.targets[state.target]}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-request-id': requestId,
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...call.headers,
        },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await response.text();
      outcome.status = response.status;
      outcome.problem = (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
      outcome.retryAfter = response.headers.get('retry-after');
      if (response.ok) outcome.created = call.onOk?.(JSON.parse(text), response.headers.get('etag')) ?? null;
      else {
        outcome.failure = outcome.problem ? String((JSON.parse(text) as { detail?: unknown }).detail) : null;
        call.onFail?.();
      }
    } catch (error) {
      const { name, message, cause } = error as Error & { cause?: { code?: string } };
      outcome.failure = name === 'TimeoutError' ? 'timeout' : (cause?.code ?? message);
      call.onFail?.();
    }
    outcome.ms = performance.now() - outcome.started;
    this.outcomes.push(outcome);
    return outcome;
  }
}

export const isOk = (o: Outcome) => o.status >= 200 && o.status < 300;

export interface Summary {
  requests: number;
  ok: number;
  perSecond: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
}

/** Counts, statuses (0 = no response) and latency of the outcomes; per second over `seconds`. */
export function summarize(outcomes: Outcome[], seconds: number): Summary {
  const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === 0 ? `no response (${o.failure})` : String(o.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const ok = outcomes.filter(isOk).length;
  return {
    requests: outcomes.length,
    ok,
    perSecond: ok / seconds,
    statuses,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
  };
}

export const statusList = (summary: Summary) =>
  Object.entries(summary.statuses)
    .map(([status, count]) => `${count.toLocaleString('en-US')} × ${status}`)
    .join(', ');
