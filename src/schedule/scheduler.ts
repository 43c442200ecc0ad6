// The scheduler loop of `caseport serve`: every few seconds it creates the jobs that are due. Several
// nodes may run it at once; the jobs' unique key makes each due run once.
import type { Logger } from 'pino';
import type { Engine } from '../store/engine.js';
import { createDueJobs } from './due.js';

export interface SchedulerOptions {
  engine: Engine;
  log: Logger;
  /** How often it looks (default 10 s; CASEPORT_SCHEDULER_INTERVAL_MS). */
  intervalMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

export function startScheduler(o: SchedulerOptions): { stop(): Promise<void> } {
  const every = o.intervalMs ?? (Number(process.env.CASEPORT_SCHEDULER_INTERVAL_MS) || 10_000);
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let busy = false;
  const tick = () => {
    if (busy) return; // a slow store: the next tick waits for this one
    busy = true;
    running = (async () => {
      try {
        for (const j of await createDueJobs(o.engine, (o.now ?? (() => new Date()))())) {
          o.log.info({ ...j }, 'scheduler: job due');
        }
      } catch (e) {
        o.log.warn(
          { err: e instanceof Error ? e.message : String(e) },
          'scheduler: store unavailable; next tick retries',
        );
      } finally {
        busy = false;
      }
    })();
  };
  tick();
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, every);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
