// A worker: claims the next piece of work from the ledger and takes it to its end, until stopped.
// Import files first (one firm at a time under the firm's lease, different firms on different
// workers), then export jobs. When the database is unreachable it waits with a back-off and tries
// again; on stop (SIGTERM) it finishes or gives back its current batch and returns.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { claimFile, firmsWithWork, namedContents } from '../ledger/files.js';
import { claimJob, finishJob, requeueAbandonedJobs } from '../ledger/jobs.js';
import { importLeaseName, sleep, tryLease } from '../ledger/leases.js';
import { purgeBefore, retentionCutoff } from '../ledger/retention.js';
import type { Metrics } from '../server/metrics.js';
import { runExportStage } from './export-stage.js';
import { runImportStage, type StageContext } from './import-stage.js';

export interface WorkerOptions {
  ctx: StageContext;
  log: Logger;
  metrics?: Metrics;
  /** How long an idle worker waits before looking again (default 500 ms). */
  pollMs?: number;
  /** Called when a file or job reaches its end (tests). */
  onDone?(what: { fileId?: number; jobId?: number; outcome: string }): void;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export class Worker {
  readonly id = `${hostname()}:${process.pid}:w${randomBytes(3).toString('hex')}`;
  private readonly log: Logger;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly o: WorkerOptions) {
    this.log = o.log.child({ worker: this.id });
  }

  /** Runs until `signal` aborts; resolves once the current work is finished or given back. */
  async run(signal: AbortSignal): Promise<void> {
    const poll = this.o.pollMs ?? 500;
    let backoff = 0;
    while (!signal.aborted) {
      try {
        const worked = (await this.importOnce(signal)) || (await this.exportOnce(signal));
        backoff = 0;
        if (!worked) {
          await sleep(poll + Math.random() * poll * 0.2, signal, (done) => {
            this.wakeUp = done;
          });
          this.wakeUp = undefined;
        }
      } catch (e) {
        backoff = Math.min(30_000, backoff === 0 ? 500 : backoff * 2);
        this.log.warn(
          { err: e instanceof Error ? e.message : String(e), retryInMs: backoff },
          'worker: store unavailable',
        );
        await sleep(backoff, signal);
      }
    }
  }

  /** Looks for work now instead of at the end of its idle wait (a file was just received here). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Works until nothing is left to do now (files waiting out a back-off are left); for tests and the CLI. */
  async drain(signal: AbortSignal = new AbortController().signal): Promise<void> {
    while (!signal.aborted && ((await this.importOnce(signal)) || (await this.exportOnce(signal)))) {
      // next piece of work
    }
  }

  /** One import file, if any firm has one and its lease is free; true when there was work. */
  private async importOnce(signal: AbortSignal): Promise<boolean> {
    const { ctx } = this.o;
    for (const firmId of shuffle(await firmsWithWork(ctx.engine))) {
      if (signal.aborted) return true;
      const lease = await tryLease(ctx.engine, importLeaseName(firmId), { holder: `worker ${this.id}` });
      if (!lease) continue;
      try {
        const file = await claimFile(ctx.engine, firmId, lease);
        if (!file) continue;
        if (file.takenOver) this.o.metrics?.leaseTakeovers.inc();
        const started = performance.now();
        const log = this.log.child({
          firm: firmId,
          file: file.name,
          fileId: file.id,
          attempt: file.attempts,
        });
        log.info('import: started');
        const out = await runImportStage({ ...ctx, signal }, file, lease);
        const seconds = (performance.now() - started) / 1000;
        if (out.kind === 'final') {
          const r = out.result?.rows;
          log.info(
            { status: out.status, runId: out.runId, rows: r, seconds, message: out.message },
            'import: finished',
          );
          this.o.metrics?.files.inc({ status: out.status });
          this.o.metrics?.fileSeconds.observe({ status: out.status }, seconds);
          if (r) {
            for (const k of ['created', 'updated', 'unchanged', 'rejected'] as const) {
              this.o.metrics?.rows.inc({ outcome: k }, r[k]);
            }
          }
        } else if (out.kind === 'retry') {
          this.o.metrics?.retries.inc();
          log.warn({ message: out.message }, 'import: will retry');
        } else {
          log.info(`import: ${out.kind}`);
        }
        this.o.onDone?.({ fileId: file.id, outcome: out.kind === 'final' ? out.status : out.kind });
        return true;
      } finally {
        await lease.release().catch(() => {});
      }
    }
    return false;
  }

  private async exportOnce(signal: AbortSignal): Promise<boolean> {
    const { ctx } = this.o;
    await requeueAbandonedJobs(ctx.engine);
    const job = await claimJob(ctx.engine, this.id);
    if (!job) return false;
    const log = this.log.child({ firm: job.firm_id, jobId: job.id, task: job.task_id });
    if (job.kind === 'purge') {
      // The 90-day window; then contents a killed process stored without a ledger row.
      const purged = await purgeBefore(ctx.engine, ctx.store, retentionCutoff(new Date()));
      const swept = await ctx.store.sweep((keys) => namedContents(ctx.engine, keys), 86_400_000);
      await finishJob(
        ctx.engine,
        job.id,
        `purged ${purged.runs} runs, ${purged.files} files, ${purged.jobs} jobs; swept ${swept}`,
      );
      log.info({ ...purged, swept }, 'purge: done');
      this.o.onDone?.({ jobId: job.id, outcome: 'purged' });
      return true;
    }
    const out = await runExportStage({ ...ctx, signal }, job);
    log.info({ outcome: out.kind, ...out }, 'export: ended');
    if (out.kind !== 'postponed') this.o.metrics?.exports.inc({ status: out.kind });
    this.o.onDone?.({ jobId: job.id, outcome: out.kind });
    return out.kind !== 'postponed';
  }
}
