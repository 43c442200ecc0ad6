// `caseport serve` and `caseport worker`: run until SIGTERM or Ctrl-C, then stop taking work, finish or
// give back the current batch, and exit. Logs are JSON lines (pino) on stdout.
import pino, { type Logger } from 'pino';
import { configError } from '../errors.js';
import { serve } from '../server/serve.js';
import type { Engine } from '../store/index.js';
import { EXIT, warn } from './output.js';

export interface ServeCommandOptions {
  sftpPort?: number;
  httpPort?: number;
  host?: string;
  workers?: number;
  /** Printed once the site is up (caseport start). */
  banner?: (ports: { sftpPort?: number; httpPort?: number }) => void;
}

function portFrom(value: number | undefined, env: string, fallback: number): number {
  if (value !== undefined) return value;
  const raw = process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw configError(`${env}="${raw}" is not a port number (0-65535)`);
  return n;
}

export function serverLog(): Logger {
  const log = pino({ level: process.env.CASEPORT_LOG_LEVEL ?? 'info', base: { pid: process.pid } });
  // A bug must not take a node down with the work of every firm on it: it is logged, and the leases
  // and the ledger keep the work safe (a file stuck by it is taken over when its lease expires).
  process.on('unhandledRejection', (e) => {
    log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'bug: unhandled rejection');
  });
  return log;
}

/** Resolves when a stop signal came and everything has stopped. */
function untilStopped(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130); // a second signal: at once
      stopping = true;
      warn('stopping: finishing or giving back the current batch (again to quit at once)');
      close().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export async function runServe(engine: Engine, dataDir: string, o: ServeCommandOptions): Promise<number> {
  const log = serverLog();
  const running = await serve({
    engine,
    dataDir,
    log,
    sftpPort: portFrom(o.sftpPort, 'CASEPORT_SFTP_PORT', 2222),
    httpPort: portFrom(o.httpPort, 'CASEPORT_HTTP_PORT', 8080),
    host: o.host,
    workers: o.workers ?? 1,
    scheduler: true,
  }).catch((e) => {
    const why = e instanceof Error ? e.message : String(e);
    throw configError(`the server cannot start: ${why}`);
  });
  log.info(
    {
      sftpPort: running.sftpPort,
      httpPort: running.httpPort,
      workers: o.workers ?? 1,
      store: engine.location,
    },
    'serve: ready',
  );
  o.banner?.(running);
  await untilStopped(() => running.close());
  log.info('serve: stopped');
  return EXIT.ok;
}

export async function runWorker(
  engine: Engine,
  dataDir: string,
  o: { concurrency?: number; httpPort?: number; host?: string },
): Promise<number> {
  const log = serverLog();
  const running = await serve({
    engine,
    dataDir,
    log,
    workers: o.concurrency ?? 1,
    scheduler: false,
    httpPort: o.httpPort,
    host: o.host,
  }).catch((e) => {
    throw configError(`the worker cannot start: ${e instanceof Error ? e.message : String(e)}`);
  });
  log.info(
    { workers: o.concurrency ?? 1, httpPort: running.httpPort, store: engine.location },
    'worker: ready',
  );
  await untilStopped(() => running.close());
  log.info('worker: stopped');
  return EXIT.ok;
}
