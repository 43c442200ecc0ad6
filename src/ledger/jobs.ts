// Jobs that are not files: export runs and the system's purge. An export job is claimed with one
// statement and runs under its task's lease (`export-task:<id>`), so one task's exports never overlap
// and a worker that died is noticed by its lease expiring, not by guessing from host names.
import { type Selectable, sql } from 'kysely';
import type { Engine } from '../store/engine.js';
import type { JobTable } from '../store/schema.js';
import { backoffMs, maxAttempts, notifyJobDone } from './files.js';
import { exportLeaseName, leaseTtlMs, serverTaskName } from './leases.js';

export type JobRow = Selectable<JobTable>;
const nowIso = () => new Date().toISOString();

/** The lease an export job runs under: its task's export lease. */
export const exportJobLeaseName = (firmId: string | null, taskId: number | null, jobId: number) =>
  exportLeaseName(firmId ?? '', taskId === null ? `job:${jobId}` : serverTaskName(taskId));

/** Claims the oldest queued export or purge job; it has a lease's time to take its task's lease. */
export async function claimJob(engine: Engine, owner: string): Promise<JobRow | undefined> {
  const r = await sql<JobRow>`
    update jobs set status = 'running', attempts = attempts + 1, lease_owner = ${owner},
           started_at = coalesce(started_at, ${nowIso()}),
           not_before = ${engine.clockMs()} + ${leaseTtlMs()}
    where id = (
      select id from jobs
      where kind in ('export', 'purge') and status = 'queued'
        and (not_before is null or not_before <= ${engine.clockMs()})
      order by due_at, id
      limit 1 ${engine.skipLocked()}
    )
    returning *`.execute(engine.db);
  return r.rows[0];
}

/** The task's lease is busy (an earlier export of it still runs): the job waits a little. */
export async function postponeJob(engine: Engine, jobId: number, ms: number): Promise<void> {
  await engine.db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      attempts: eb('attempts', '-', 1),
      lease_owner: null,
      not_before: eb.parens(engine.clockMs(), '+', ms) as never,
    }))
    .where('id', '=', jobId)
    .execute();
}

export async function finishJob(engine: Engine, jobId: number, message: string | null): Promise<void> {
  await engine.db.transaction().execute(async (trx) => {
    const job = await trx
      .updateTable('jobs')
      .set({ status: 'done', finished_at: nowIso(), message, lease_owner: null })
      .where('id', '=', jobId)
      .returning(['firm_id', 'kind', 'trigger', 'started_at', 'finished_at'])
      .executeTakeFirst();
    // An export finishes with a message only when it failed: that run needs attention.
    if (job?.firm_id && job.kind === 'export') await notifyJobDone(trx, job.firm_id, jobId, job, message);
  });
}

/** An export that failed for an outage: again after a back-off, or done with the reason. */
export async function retryJob(engine: Engine, job: JobRow, reason: string): Promise<'retry' | 'failed'> {
  if (job.attempts >= maxAttempts()) {
    await finishJob(engine, job.id, `stopped after ${job.attempts} attempts: ${reason}`);
    return 'failed';
  }
  const backoff = backoffMs(job.attempts);
  await engine.db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      message: `attempt ${job.attempts} failed: ${reason}`,
      lease_owner: null,
      not_before: eb.parens(engine.clockMs(), '+', backoff) as never,
    }))
    .where('id', '=', job.id)
    .execute();
  return 'retry';
}

/**
 * Export jobs left running by a worker that died: their task's lease is gone (expired or never taken)
 * once the claim's grace has passed. They are queued again; the export starts over (it wrote nothing
 * the firm can see, and its mark did not move).
 */
export async function requeueAbandonedJobs(engine: Engine): Promise<number> {
  const running = await engine.db
    .selectFrom('jobs')
    .select(['id', 'task_id', 'firm_id'])
    .where('kind', '=', 'export')
    .where('status', '=', 'running')
    .where('not_before', '<', engine.clockMs() as never)
    .execute();
  let n = 0;
  for (const j of running) {
    const live = await engine.db
      .selectFrom('leases')
      .select('name')
      .where('name', '=', exportJobLeaseName(j.firm_id, j.task_id, j.id))
      .where('expires_at', '>=', engine.clockMs() as never)
      .executeTakeFirst();
    if (live) continue;
    const r = await engine.db
      .updateTable('jobs')
      .set({ status: 'queued', lease_owner: null, not_before: null })
      .where('id', '=', j.id)
      .where('status', '=', 'running')
      .where('not_before', '<', engine.clockMs() as never)
      .executeTakeFirst();
    n += Number(r.numUpdatedRows);
  }
  return n;
}

/** Pending queue sizes, for /metrics. */
export async function queueDepth(engine: Engine): Promise<{ files: number; exports: number }> {
  const f = await engine.db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst();
  const j = await engine.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'export')
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return { files: Number(f?.n ?? 0), exports: Number(j?.n ?? 0) };
}
