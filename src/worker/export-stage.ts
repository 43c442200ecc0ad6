// One claimed export job: the task's file written to the worker's own folder, then stored for download
// in the firm's Export folder in the same transaction that completes the run and moves the task's delta
// mark, while the task's lease is still ours. A failure leaves no file and an unmoved mark.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isCaseportError, publicReason } from '../errors.js';
import { exportFile } from '../export/index.js';
import { freeOutputName, storeOutput } from '../ledger/files.js';
import { exportJobLeaseName, finishJob, type JobRow, postponeJob, retryJob } from '../ledger/jobs.js';
import { serverTaskName, tryLease } from '../ledger/leases.js';
import { type StageContext, workFolder } from './import-stage.js';

export type ExportOutcome =
  | { kind: 'done'; file: string | null; rows: number; message: string | null }
  | { kind: 'retry' | 'postponed' | 'failed'; message: string };

export async function runExportStage(ctx: StageContext, job: JobRow): Promise<ExportOutcome> {
  const { engine } = ctx;
  const task = job.task_id
    ? await engine.db.selectFrom('tasks').selectAll().where('id', '=', job.task_id).executeTakeFirst()
    : undefined;
  if (!task?.template || !job.firm_id) {
    await finishJob(engine, job.id, 'the task was removed before its export ran');
    return { kind: 'failed', message: 'task removed' };
  }
  const lease = await tryLease(engine, exportJobLeaseName(job.firm_id, job.task_id, job.id), {
    holder: `export job ${job.id}`,
  });
  if (!lease) {
    await postponeJob(engine, job.id, 5000);
    return { kind: 'postponed', message: 'an earlier export of the task is still running' };
  }
  const work = workFolder(ctx.dataDir, `export-${job.id}`);
  try {
    let stored: string | null = null;
    const r = await exportFile(engine, {
      firmId: job.firm_id,
      template: task.template,
      outDir: work,
      scope: task.scope === 'delta' ? { kind: 'delta' } : { kind: 'all' },
      task: serverTaskName(Number(task.id)),
      lease,
      publish: async (trx, file) => {
        await lease.confirm(trx);
        // Another export of the template in the same minute already took the name: _2, _3 ... as the
        // contract names them; an export file is never replaced.
        const name = await freeOutputName(trx, job.firm_id!, 'Export', path.basename(file));
        const f = await storeOutput(trx, ctx.store, {
          firmId: job.firm_id!,
          folder: 'Export',
          name,
          localPath: file,
          jobId: job.id,
        });
        stored = f.name;
        return f.name;
      },
    });
    if (r.status === 'completed') {
      await finishJob(engine, job.id, null);
      return { kind: 'done', file: stored, rows: r.rows, message: null };
    }
    const why = r.message ?? 'the export stopped';
    const again = await retryJob(engine, job, why);
    return { kind: again === 'retry' ? 'retry' : 'failed', message: why };
  } catch (e) {
    const why = publicReason(e);
    if (isCaseportError(e) && e.code === 'LEASE_LOST') return { kind: 'failed', message: why };
    const again = await retryJob(engine, job, why).catch(() => 'retry' as const);
    return { kind: again === 'retry' ? 'retry' : 'failed', message: why };
  } finally {
    await lease.release().catch(() => {});
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}
