// The export ledger: each task's high-water mark (export_marks) and the export's run. The mark moves
// only when the file is published, in the same transaction that completes the run; an export that
// stops before that is recorded Interrupted and leaves the mark where it was.
import type { Kysely, Transaction } from 'kysely';
import { finishRun } from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import type { Database } from '../store/schema.js';
import { oldestLiveImport } from './recovery.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The instant the task's last successful export started (ISO UTC), if it has one. */
export async function readMark(db: Db, firmId: string, task: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('export_marks')
    .select('last_exported_at')
    .where('firm_id', '=', firmId)
    .where('task', '=', task)
    .executeTakeFirst();
  return row?.last_exported_at;
}

/**
 * The mark the export will leave: its start, or the start of the oldest import of the firm still
 * running (under a live lease) if that is earlier. A running import stamps updated_at before it
 * commits, so its rows may be stamped before our start yet invisible to our query.
 */
export async function nextMark(engine: Engine, firmId: string, startedAt: Date): Promise<string> {
  const start = startedAt.toISOString();
  const oldest = await oldestLiveImport(engine, firmId);
  return oldest && oldest < start ? oldest : start;
}

export interface CompletedExport {
  firmId: string;
  runId: number;
  fileName: string;
  filePath: string;
  rows: number;
  /** Set when the export moves its task's mark: the task and the new mark. */
  mark?: { task: string; at: string };
  /** Stores the published file elsewhere, in the same transaction; returns the name it is stored under. */
  publish?(trx: Transaction<Database>, file: string): Promise<string | undefined>;
}

/** Completes the run and moves the mark (never backwards), together. */
export async function commitExport(db: Kysely<Database>, c: CompletedExport): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const stored = await c.publish?.(trx, c.filePath);
    if (c.mark) {
      await trx
        .insertInto('export_marks')
        .values({ firm_id: c.firmId, task: c.mark.task, last_exported_at: c.mark.at, last_run_id: c.runId })
        .onConflict((oc) =>
          oc
            .columns(['firm_id', 'task'])
            .doUpdateSet((eb) => ({
              last_exported_at: eb.ref('excluded.last_exported_at'),
              last_run_id: eb.ref('excluded.last_run_id'),
            }))
            .where((eb) => eb('export_marks.last_exported_at', '<', eb.ref('excluded.last_exported_at'))),
        )
        .execute();
    }
    await trx
      .updateTable('runs')
      .set({ file_name: stored ?? c.fileName, file_path: c.filePath })
      .where('id', '=', c.runId)
      .execute();
    const counts = { total: c.rows, created: 0, updated: 0, unchanged: 0, rejected: 0 };
    await finishRun(trx, c.runId, { status: 'completed', counts, message: null, resultFile: null });
  });
}

export interface InterruptedExport {
  runId: number;
  rows: number;
  message: string;
  /** The published file if there is one, else the name it would have had. */
  filePath: string;
}

/** Records an export that stopped: the run Interrupted with its message; the mark is not touched. */
export async function interruptExport(db: Kysely<Database>, i: InterruptedExport): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('runs').set({ file_path: i.filePath }).where('id', '=', i.runId).execute();
    const counts = { total: i.rows, created: 0, updated: 0, unchanged: 0, rejected: 0 };
    await finishRun(trx, i.runId, { status: 'interrupted', counts, message: i.message });
  });
}
