// What a process tells Prometheus (/metrics), with prom-client: files and rows processed, how long a
// file took, the queue's depth (read from the ledger when scraped) and leases taken over from workers
// that stopped renewing them.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { queueDepth } from '../ledger/jobs.js';
import type { Engine } from '../store/engine.js';

export interface Metrics {
  readonly registry: Registry;
  files: Counter<'status'>;
  rows: Counter<'outcome'>;
  fileSeconds: Histogram<'status'>;
  exports: Counter<'status'>;
  leaseTakeovers: Counter;
  retries: Counter;
}

export function createMetrics(engine: Engine): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'caseport_' });
  const depth = new Gauge({
    name: 'caseport_queue_depth',
    help: 'Files queued or running, and export jobs queued or running',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      try {
        const d = await queueDepth(engine);
        this.set({ queue: 'files' }, d.files);
        this.set({ queue: 'exports' }, d.exports);
      } catch {
        // the database is down: the gauge keeps its last value, /health says what is wrong
      }
    },
  });
  void depth;
  return {
    registry,
    files: new Counter({
      name: 'caseport_files_total',
      help: 'Import files finished, by final status',
      labelNames: ['status'],
      registers: [registry],
    }),
    rows: new Counter({
      name: 'caseport_rows_total',
      help: 'Rows read by imports, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    fileSeconds: new Histogram({
      name: 'caseport_file_duration_seconds',
      help: 'Time from claiming an import file to its final status',
      labelNames: ['status'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    }),
    exports: new Counter({
      name: 'caseport_exports_total',
      help: 'Export jobs, by outcome',
      labelNames: ['status'],
      registers: [registry],
    }),
    leaseTakeovers: new Counter({
      name: 'caseport_lease_expiries_total',
      help: 'Files taken over from a worker whose lease expired',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'caseport_retries_total',
      help: 'Attempts that failed for an outage and were queued again',
      registers: [registry],
    }),
  };
}
