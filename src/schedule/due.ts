// The scheduler's one decision: which tasks are due now. For each task whose latest due time (in its
// firm's time zone) is after the last job made for it, one job is created: the unique key on (task, due
// time) makes it once however many schedulers look, and only the latest missed time counts, so a
// scheduler that was down for days makes one job, not one per missed tick. A due import job takes the
// files received up to its due time. Everything else (claiming, running, retrying) is the workers'.
import { createJob, queueReceived } from '../ledger/files.js';
import type { Engine } from '../store/engine.js';
import { latestDue } from './cron.js';

export interface DueJob {
  jobId: number;
  taskId: number;
  firmId: string | null;
  kind: 'import' | 'export' | 'purge';
  dueAt: string;
  /** Import jobs: files it took. */
  files: number;
}

/** Creates the jobs due at `now` (an injected clock in tests); returns those this call created. */
export async function createDueJobs(engine: Engine, now: Date): Promise<DueJob[]> {
  const tasks = await engine.db
    .selectFrom('tasks')
    .leftJoin('firms', 'firms.id', 'tasks.firm_id')
    .select([
      'tasks.id',
      'tasks.firm_id',
      'tasks.kind',
      'tasks.cron',
      'tasks.last_due_at',
      'tasks.created_at',
    ])
    .select('firms.timezone')
    .where('tasks.paused', '=', 0)
    .where('tasks.cron', 'is not', null)
    .orderBy('tasks.id')
    .execute();
  const made: DueJob[] = [];
  for (const t of tasks) {
    const due = latestDue(t.cron!, t.timezone ?? 'UTC', now);
    if (!due) continue;
    const dueAt = due.toISOString();
    if (dueAt <= (t.last_due_at ?? t.created_at)) continue;
    const kind = t.kind as DueJob['kind'];
    const job = await engine.db.transaction().execute(async (trx) => {
      const jobId = await createJob(trx, {
        firmId: t.firm_id,
        taskId: Number(t.id),
        trigger: 'schedule',
        kind,
        dueAt,
      });
      await trx
        .updateTable('tasks')
        .set({ last_due_at: dueAt })
        .where('id', '=', t.id)
        .where((eb) => eb.or([eb('last_due_at', 'is', null), eb('last_due_at', '<', dueAt)]))
        .execute();
      if (jobId === undefined) return undefined; // another scheduler made it
      const files = kind === 'import' && t.firm_id ? await queueReceived(trx, t.firm_id, jobId, dueAt) : 0;
      return { jobId, taskId: Number(t.id), firmId: t.firm_id, kind, dueAt, files };
    });
    if (job) made.push(job);
  }
  return made;
}

/** `caseport task run`: the task's job now, whatever its schedule (an import takes every file received). */
export async function createJobNow(
  engine: Engine,
  task: { id: number; firmId: string; kind: string },
): Promise<DueJob> {
  const dueAt = new Date().toISOString();
  const kind = task.kind as DueJob['kind'];
  return engine.db.transaction().execute(async (trx) => {
    const jobId = await createJob(trx, {
      firmId: task.firmId,
      taskId: task.id,
      trigger: 'manual',
      kind,
      dueAt,
    });
    if (jobId === undefined) throw new Error(`task ${task.id} already has a job due at ${dueAt}`);
    const files = kind === 'import' ? await queueReceived(trx, task.firmId, jobId, dueAt) : 0;
    return { jobId, taskId: task.id, firmId: task.firmId, kind, dueAt, files };
  });
}
