// `caseport serve` and `caseport worker`: the processes of the integration server. serve runs the SFTP
// site, the HTTP server (/health, /metrics, the reports web app and API), the scheduler and N workers; worker runs workers only.
// Both stop on close(): no new work is taken, the current batch is finished or given back, and the
// process exits.
import { setMaxListeners } from 'node:events';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Notifier } from '../notify/notify.js';
import { startScheduler } from '../schedule/scheduler.js';
import { type SftpServer, startSftpServer } from '../sftp/server.js';
import type { SiteLimits } from '../sftp/site.js';
import type { Engine } from '../store/engine.js';
import { type FileStore, openFileStore } from '../store/file-store.js';
import { frameworkError, registerWeb } from '../web/app.js';
import { sweepWork } from '../worker/import-stage.js';
import { Worker } from '../worker/worker.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ledgerSite } from './site-backend.js';

export interface ServeOptions {
  engine: Engine;
  dataDir: string;
  log: Logger;
  /** SFTP port (0: any free one); undefined: no SFTP site (worker processes). */
  sftpPort?: number;
  /** HTTP port for /health, /metrics, the reports and the API (0: any free one); undefined: none. */
  httpPort?: number;
  host?: string;
  workers: number;
  scheduler: boolean;
  sftpLimits?: Partial<SiteLimits>;
  pollMs?: number;
  /** How often the outbox is looked at (ms; default 1000). */
  notifyEveryMs?: number;
}

export interface Running {
  sftpPort?: number;
  httpPort?: number;
  metrics: Metrics;
  store: FileStore;
  /** Stops taking work, lets the workers finish or give back their current batch, and closes. */
  close(): Promise<void>;
}

/** Rows per transaction of a worker's imports (CASEPORT_BATCH_SIZE, 1-50000; default the import's 2000). */
function batchSizeFromEnv(): number | undefined {
  const v = Number(process.env.CASEPORT_BATCH_SIZE);
  return Number.isInteger(v) && v >= 1 && v <= 50_000 ? v : undefined;
}

export async function serve(o: ServeOptions): Promise<Running> {
  const store = openFileStore(o.engine, o.dataDir);
  // Made first: a bad CASEPORT_SMTP_URL stops the start with its reason, before any work is taken.
  const notifier = new Notifier(o.engine, o.log);
  const metrics = createMetrics(o.engine);
  const stop = new AbortController();
  // Every worker's waits listen on the one stop signal.
  setMaxListeners(0, stop.signal);
  // Folders of work a killed process of this machine left behind.
  await sweepWork(o.dataDir);
  const workers = Array.from(
    { length: o.workers },
    () =>
      new Worker({
        ctx: { engine: o.engine, store, dataDir: o.dataDir, batchSize: batchSizeFromEnv() },
        log: o.log,
        metrics,
        pollMs: o.pollMs,
      }),
  );
  const closers: Array<() => Promise<void>> = [];
  let sftp: SftpServer | undefined;
  let http: FastifyInstance | undefined;
  try {
    if (o.sftpPort !== undefined) {
      sftp = await startSftpServer({
        backend: ledgerSite(o.engine, store, () => {
          for (const w of workers) w.wake();
        }),
        limits: o.sftpLimits,
        uploadDir: path.join(o.dataDir, 'uploads'),
        port: o.sftpPort,
        host: o.host,
        log: (event, detail) => o.log.info(detail, event),
      });
      closers.push(() => sftp!.close());
    }
    if (o.httpPort !== undefined) {
      http = await startHttp(o, metrics, store);
      closers.push(() => http!.close());
    }
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => {});
    throw e;
  }
  const scheduler = o.scheduler ? startScheduler({ engine: o.engine, log: o.log }) : undefined;
  const running = workers.map((w) => w.run(stop.signal));
  // E-mails and webhooks of the outbox (every process delivers; each notification is claimed once).
  running.push(notifier.run(stop.signal, o.notifyEveryMs));
  const httpAddress = http?.server.address();
  return {
    sftpPort: sftp?.port,
    httpPort: httpAddress && typeof httpAddress === 'object' ? httpAddress.port : undefined,
    metrics,
    store,
    async close() {
      stop.abort();
      await scheduler?.stop();
      for (const c of closers.reverse()) await c().catch(() => {});
      await Promise.all(running);
    },
  };
}

/** Below this much free space in the data folder, /health says the node cannot work (CASEPORT_MIN_FREE_BYTES). */
function minFreeBytes(): number {
  const v = Number(process.env.CASEPORT_MIN_FREE_BYTES);
  return Number.isSafeInteger(v) && v >= 0 ? v : 64 * 1024 * 1024;
}

async function startHttp(o: ServeOptions, metrics: Metrics, store: FileStore): Promise<FastifyInstance> {
  // Request ids and a bounded body; the reports app and API on the same port (src/web).
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, frameworkErrors: frameworkError });
  await registerWeb(app, { engine: o.engine, store, log: o.log });
  app.get('/health', { schema: { hide: true } }, async (_req, reply) => {
    // The data folder takes uploads and files being processed: nearly full, this node cannot work.
    const disk = await statfs(o.dataDir).catch(() => undefined);
    const freeBytes = disk ? disk.bavail * disk.bsize : null;
    try {
      await o.engine.db.selectFrom('firms').select('id').limit(1).execute();
    } catch (e) {
      reply.code(503);
      const error = e instanceof Error ? e.message : String(e);
      return { status: 'unavailable', store: o.engine.kind, freeBytes, error };
    }
    if (freeBytes !== null && freeBytes < minFreeBytes()) {
      reply.code(503);
      const error = `the data folder ${o.dataDir} is nearly full`;
      return { status: 'unavailable', store: o.engine.kind, freeBytes, error };
    }
    return { status: 'ok', store: o.engine.kind, freeBytes };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.listen({ port: o.httpPort!, host: o.host ?? '0.0.0.0' });
  return app;
}
