// One claimed Import file taken to its final status, by a worker or by `caseport import`: the same
// stages either way. The content is copied from the file store to the worker's own folder, imported
// under the firm's lease (resuming the file's run from its checkpoint if an earlier attempt stopped),
// then its result file is stored and its final status recorded in one transaction, while the lease is
// still ours. A file whose run had already finished when its worker died is only finished in the ledger.
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { CaseportError, isCaseportError } from '../errors.js';
import { makeFolder } from '../folders.js';
import { type ImportResult, importFile } from '../ingest/index.js';
import { openResultFile, resultFileName } from '../ingest/result-file.js';
import {
  type FinalStatus,
  finishFile,
  type LedgerFile,
  maxAttempts,
  releaseFile,
  retryFile,
  storeOutput,
  supersedeResult,
} from '../ledger/files.js';
import type { Lease } from '../ledger/leases.js';
import { type RowError, streamRejected } from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import type { FileStore } from '../store/file-store.js';
import { IMPORT_TEMPLATES } from '../templates/index.js';

/**
 * A private folder for one piece of work: `<data>/work/p<pid>-<what>-<random>`. The process id in the
 * name lets a process starting on this machine sweep what a killed one left (sweepWork).
 */
export function workFolder(dataDir: string, what: string): string {
  return path.join(dataDir, 'work', `p${process.pid}-${what}-${randomBytes(4).toString('hex')}`);
}

/** Removes work folders of processes of this machine that are gone (their data folder is this one's). */
export async function sweepWork(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'work');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/^p(\d+)-/.exec(name)?.[1] ?? Number.NaN);
    let gone = !Number.isInteger(pid);
    if (!gone) {
      try {
        process.kill(pid, 0); // signal 0 only asks whether it exists
      } catch (e) {
        gone = (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    if (gone) await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => {});
  }
}

export interface StageContext {
  engine: Engine;
  store: FileStore;
  /** This process's data folder: its work and spool folders are under it. */
  dataDir: string;
  signal?: AbortSignal;
  batchSize?: number;
  /**
   * The command line's own: the result file is also left in this folder (the firm's Results), progress
   * and problems are shown as they come, and a stop or an outage ends the file Interrupted (importing it
   * again resumes) instead of queueing it for a worker.
   */
  cli?: {
    resultDir: string;
    onProgress?(fraction: number, rows: number): void;
    onProblem?(p: RowError): void;
  };
  /** Test hook: after each committed batch of a file. */
  afterBatch?(file: LedgerFile, rows: number): void;
}

export type StageOutcome =
  | {
      kind: 'final';
      status: FinalStatus;
      runId: number | null;
      result?: ImportResult;
      message: string | null;
    }
  | { kind: 'retry'; message: string }
  | { kind: 'released' }
  | { kind: 'lost' };

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runImportStage(
  ctx: StageContext,
  file: LedgerFile,
  lease: Lease,
): Promise<StageOutcome> {
  const { engine } = ctx;
  if (!ctx.cli && file.attempts > maxAttempts()) {
    const message = `stopped after ${file.attempts - 1} attempts: ${file.message ?? 'the worker stopped each time'}`;
    await finishFile(engine.db, file.id, { status: 'interrupted', runId: file.run_id, message });
    return { kind: 'final', status: 'interrupted', runId: file.run_id, message };
  }
  const finished = await finishedRun(engine, file.id);
  if (finished) return await finishFromRun(ctx, file, lease, finished);

  const work = workFolder(ctx.dataDir, `file-${file.id}`);
  try {
    const local = path.join(work, 'upload.csv');
    try {
      await makeFolder(work);
      await ctx.store.copyTo(file.content_key!, local);
    } catch (e) {
      return await retry(engine, file, `the file could not be read from the file store: ${errorText(e)}`);
    }
    let result: ImportResult;
    try {
      result = await importFile(engine, {
        firmId: file.firm_id,
        file: local,
        fileName: file.name,
        fileId: file.id,
        resultDir: ctx.cli?.resultDir ?? path.join(work, 'results'),
        onProgress: ctx.cli?.onProgress,
        onProblem: ctx.cli?.onProblem,
        spoolDir: path.join(ctx.dataDir, 'spool'),
        lease,
        signal: ctx.signal,
        batchSize: ctx.batchSize,
        afterBatch: ctx.afterBatch ? (rows) => ctx.afterBatch!(file, rows) : undefined,
      });
    } catch (e) {
      if (isCaseportError(e) && e.code === 'LEASE_LOST') return { kind: 'lost' };
      if (ctx.cli) {
        await finishFile(engine.db, file.id, {
          status: 'interrupted',
          runId: null,
          message: errorText(e),
        }).catch(() => {});
        throw e;
      }
      if (isCaseportError(e) && e.code === 'STOPPED') return await release(engine, file);
      return await retry(engine, file, engine.isOutage(e) ? errorText(e) : `internal error: ${errorText(e)}`);
    }
    if (result.status === 'interrupted' && result.retryable && !ctx.cli) {
      // A run stopped before its first batch (the disk was full for its snapshot) is an attempt that
      // happened, not the file's outcome: the next attempt starts a run of its own.
      if (result.runId !== null && !(result.resumedFromRow ?? 0) && result.rows.total === 0) {
        await engine.db.updateTable('runs').set({ file_id: null }).where('id', '=', result.runId).execute();
      }
      if (ctx.signal?.aborted) return await release(engine, file);
      return await retry(engine, file, result.message ?? 'stopped');
    }
    return await finish(ctx, file, lease, result, work);
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

async function retry(engine: Engine, file: LedgerFile, message: string): Promise<StageOutcome> {
  const r = await retryFile(engine, file, message);
  if (r === 'retry') return { kind: 'retry', message };
  return { kind: 'final', status: 'interrupted', runId: file.run_id, message };
}

async function release(engine: Engine, file: LedgerFile): Promise<StageOutcome> {
  await releaseFile(engine, file);
  return { kind: 'released' };
}

/** The result file and the final status, together, while the firm's lease is still ours. */
async function finish(
  ctx: StageContext,
  file: LedgerFile,
  lease: Lease,
  r: ImportResult,
  work: string,
): Promise<StageOutcome> {
  let resultPath = r.resultFile;
  if (!resultPath && r.status === 'interrupted' && r.message) {
    resultPath = await writeReason(work, file.name, r.message);
  }
  try {
    await ctx.engine.db.transaction().execute(async (trx) => {
      await lease.confirm(trx);
      if (r.status === 'completed') await supersedeResult(trx, file.firm_id, resultFileName(file.name));
      if (resultPath) {
        await storeOutput(trx, ctx.store, {
          firmId: file.firm_id,
          folder: 'Results',
          name: resultFileName(file.name),
          localPath: resultPath,
          sourceFileId: file.id,
          jobId: file.job_id,
          runId: r.runId,
        });
      }
      await finishFile(trx, file.id, { status: r.status, runId: r.runId, message: r.message });
    });
  } catch (e) {
    if (isCaseportError(e) && e.code === 'LEASE_LOST') return { kind: 'lost' };
    return await retry(ctx.engine, file, `the outcome could not be recorded: ${errorText(e)}`);
  }
  return { kind: 'final', status: r.status, runId: r.runId, result: r, message: r.message };
}

/** A result file for a file stopped before its rows: the reason, for the firm to read in Results. */
async function writeReason(work: string, name: string, message: string): Promise<string> {
  const p = path.join(work, 'reason.csv');
  await writeFile(
    p,
    `${Papa.unparse(
      [
        ['File', 'ErrorRow', 'ErrorColumn', 'ErrorMessage'],
        [name, '', '', message],
      ],
      { newline: '\r\n' },
    )}\r\n`,
  );
  return p;
}

type FinishedRun = {
  id: number;
  status: FinalStatus;
  rows_rejected: number;
  template: string;
  message: string | null;
};

/** The file's run, when it finished before the file's status could be recorded (its worker died). */
async function finishedRun(engine: Engine, fileId: number): Promise<FinishedRun | undefined> {
  const run = await engine.db
    .selectFrom('runs')
    .select(['id', 'status', 'rows_rejected', 'template', 'message', 'checkpoint_row'])
    .where('file_id', '=', fileId)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!run || !['completed', 'incomplete', 'interrupted'].includes(run.status)) return undefined;
  // An interrupted run with a checkpoint is resumable: it is run again, not finished.
  if (run.status === 'interrupted' && run.checkpoint_row > 0) return undefined;
  return { ...run, id: Number(run.id), status: run.status as FinalStatus };
}

async function finishFromRun(
  ctx: StageContext,
  file: LedgerFile,
  lease: Lease,
  run: FinishedRun,
): Promise<StageOutcome> {
  const work = workFolder(ctx.dataDir, `file-${file.id}`);
  try {
    let resultPath: string | null = null;
    const t = IMPORT_TEMPLATES.find((x) => x.name === run.template);
    if (run.rows_rejected > 0 && t) {
      const out = await openResultFile(
        work,
        file.name,
        t.columns.map((c) => c.name),
      );
      for await (const r of streamRejected(ctx.engine.db, run.id)) await out.write(r);
      resultPath = await out.finish();
    } else if (run.status === 'interrupted' && run.message) {
      await makeFolder(work);
      resultPath = await writeReason(work, file.name, run.message);
    }
    const result = {
      status: run.status,
      resultFile: resultPath,
      message: run.message,
      runId: run.id,
    } as ImportResult;
    return await finish(ctx, file, lease, result, work);
  } catch (e) {
    if (e instanceof CaseportError && e.code === 'LEASE_LOST') return { kind: 'lost' };
    return await retry(ctx.engine, file, `the outcome could not be recorded: ${errorText(e)}`);
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}
