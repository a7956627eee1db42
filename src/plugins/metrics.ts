import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics, served in the Prometheus text format at GET /metrics. */
    metrics: Registry;
  }
}

let processMetrics: Registry | undefined;

/**
 * CPU, memory, event loop and GC describe the process, not an app, and collecting them starts a GC
 * observer and an event-loop monitor that are never stopped: so once per process, however many
 * apps it builds (tests build many), shared by every app's registry.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * Request counts and latency by route pattern (never the raw URL, which carries ids), audit
 * group-commit batches and the database pool, in a registry of this app's own. The hot path costs
 * one counter increment and one histogram observation per response.
 */
export default fp(
  async (app: FastifyInstance, opts: { database: Database }) => {
    const own = new Registry();
    const labelNames = ['method', 'route', 'status'] as const;
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'Responses sent, by method, route pattern ("unmatched" when no route matched) and status',
      labelNames,
      registers: [own],
    });
    const durations = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from receiving a request to sending its response, by method, route pattern and status',
      labelNames,
      registers: [own],
    });
    const batchSizes = new Histogram({
      name: 'audit_batch_size',
      help: 'Audit records per group-commit batch (reads, denials and errors; changes write theirs in their own transaction)',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [own],
    });
    const flushDurations = new Histogram({
      name: 'audit_flush_duration_seconds',
      help: 'Time to write one group-commit batch of audit records, retries included',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [own],
    });
    if (opts.database.poolStats) {
      new Gauge({
        name: 'db_pool_connections',
        help: 'Database pool connections: total open, idle, kept after a read for the next request (ended_read), and requests waiting for one',
        labelNames: ['state'] as const,
        registers: [own],
        collect() {
          const pool = opts.database.poolStats?.();
          if (!pool) return;
          this.set({ state: 'total' }, pool.total);
          this.set({ state: 'idle' }, pool.idle);
          this.set({ state: 'waiting' }, pool.waiting);
          this.set({ state: 'ended_read' }, pool.endedReads);
        },
      });
    }

    app.auditWriter.onBatch = (size, seconds) => {
      batchSizes.observe(size);
      flushDurations.observe(seconds);
    };
    app.addHook('onResponse', (request, reply, done) => {
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
      requests.inc(labels);
      durations.observe(labels, reply.elapsedTime / 1000);
      done();
    });
    app.decorate('metrics', Registry.merge([own, processRegistry()]));
  },
  { name: 'metrics', dependencies: ['audit'] },
);
