// Importing one file: recognise, scan, check billing, then stream, validate and apply it in batches.
// A real run commits each batch with its checkpoint, so a crash resumes where it stopped with no
// second effect; a dry run does the same work in one transaction and rolls it back.
import path from 'node:path';
import type { Transaction } from 'kysely';
import { allowanceExceeded, CaseportError, headerMismatch, isCaseportError } from '../errors.js';
import { loadFirmKb } from '../kb/firm-kb.js';
import {
  checkpoint,
  countsOf,
  createRun,
  emptyCounts,
  findRepeat,
  findResumableRun,
  finishRun,
  markRepeat,
  type RowCounts,
  type RowError,
  recordRejected,
  rejectedRows,
  runErrors,
  usedAllowance,
} from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import { getFirm } from '../store/firms.js';
import type { Database } from '../store/schema.js';
import { recogniseFileName } from '../templates/file-names.js';
import type { ImportTemplate } from '../templates/types.js';
import { applyBatch, type PendingRow, type RejectedRow } from './apply.js';
import type { CellContext } from './cells.js';
import { readRows, type SourceRow } from './read.js';
import { writeResultFile } from './result-file.js';
import { checkRow } from './rows.js';
import { type FileScan, scanFile } from './scan.js';

export type ImportStatus = 'completed' | 'incomplete' | 'interrupted';

export interface ImportOptions {
  firmId: string;
  file: string;
  /** Validate against the current data and report, writing nothing. */
  dryRun?: boolean;
  /** Where the result file goes (the firm's Results folder). */
  resultDir: string;
  batchSize?: number;
  /** Imports a per-firm knowledge-base list instead of recognising the template from the file name. */
  template?: ImportTemplate;
  onProgress?(done: number, total: number): void;
  /** Test hook: called after each committed batch. */
  afterBatch?(committedRows: number): void;
}

export interface ImportResult {
  file: string;
  template: string | null;
  status: ImportStatus;
  dryRun: boolean;
  rows: RowCounts;
  errors: RowError[];
  resultFile: string | null;
  runId: number | null;
  message: string | null;
  warnings: string[];
  repeatOf: number | null;
  resumedFromRow: number | null;
}

class DryRunDone extends Error {}

/**
 * Runs `work` against a view of the store inside one transaction that is always rolled back: what it
 * writes is seen by what it reads next (a dry run of several files sees the earlier files' effects, as a
 * real run would) and none of it is kept.
 */
export async function dryRunTogether(engine: Engine, work: (view: Engine) => Promise<void>): Promise<void> {
  await engine.db
    .transaction()
    .execute(async (trx) => {
      await work({ ...engine, db: trx });
      throw new DryRunDone();
    })
    .catch((e) => {
      if (!(e instanceof DryRunDone)) throw e;
    });
}

const DEFAULT_BATCH = 2000;

export async function importFile(engine: Engine, opts: ImportOptions): Promise<ImportResult> {
  const firm = await getFirm(engine, opts.firmId);
  const dryRun = opts.dryRun === true;
  const fileName = path.basename(opts.file);
  const result: ImportResult = {
    file: path.resolve(opts.file),
    template: opts.template?.name ?? null,
    status: 'interrupted',
    dryRun,
    rows: emptyCounts(),
    errors: [],
    resultFile: null,
    runId: null,
    message: null,
    warnings: [],
    repeatOf: null,
    resumedFromRow: null,
  };
  const interrupt = async (e: CaseportError, sha256?: string) => {
    result.status = 'interrupted';
    result.message = e.message;
    if (!dryRun) {
      result.runId = await createRun(engine.db, {
        firmId: firm.id,
        kind: 'import',
        template: result.template ?? 'unrecognised',
        fileName,
        filePath: result.file,
        sha256,
        status: 'interrupted',
        message: e.message,
        warnings: result.warnings,
      });
    }
    return result;
  };

  let template: ImportTemplate;
  let scan: FileScan;
  try {
    template = opts.template ?? recogniseFileName(fileName).template;
    result.template = template.name;
    scan = await scanFile(opts.file);
  } catch (e) {
    if (isCaseportError(e)) return interrupt(e);
    throw e;
  }
  if (scan.encodingWarning) result.warnings.push(scan.encodingWarning);
  const dataRows = Math.max(0, scan.records - 1);

  const resumed = dryRun ? undefined : await findResumableRun(engine.db, firm.id, scan.sha256, template.name);
  if (!resumed && firm.recordLimit !== null && !dryRun) {
    const left = Math.max(0, firm.recordLimit - (await usedAllowance(engine.db, firm)));
    if (dataRows > left) return interrupt(allowanceExceeded(firm.id, dataRows, left), scan.sha256);
  }
  const repeatOf = dryRun ? undefined : await findRepeat(engine.db, firm.id, scan.sha256);
  if (repeatOf !== undefined) {
    result.repeatOf = repeatOf;
    result.warnings.push(
      `the same content was imported before (run ${repeatOf}); rows already applied count as unchanged`,
    );
  }
  let runId: number | null = null;
  let counts = emptyCounts();
  let from = 0;
  if (resumed) {
    runId = Number(resumed.id);
    counts = countsOf(resumed);
    from = resumed.checkpoint_row;
    result.resumedFromRow = from;
    result.warnings.push(`resumed run ${runId} after row ${from}`);
  } else if (!dryRun) {
    runId = await createRun(engine.db, {
      firmId: firm.id,
      kind: 'import',
      template: template.name,
      fileName,
      filePath: result.file,
      sha256: scan.sha256,
      status: 'running',
      billedRows: dataRows,
      warnings: result.warnings,
    });
    if (repeatOf !== undefined) await markRepeat(engine.db, runId, repeatOf);
  }
  result.runId = runId;

  const dryRejected: RejectedRow[] = [];
  const ctxBase = { zoomNoUpdate: firm.zoomNoUpdate };
  const target = {
    template,
    firmId: firm.id,
    runId,
    by: runId ? `run:${runId}` : 'dry-run',
    engine,
    parentCache: new Map(),
  };
  let headerProblem: CaseportError | undefined;
  let sawHeader = false;
  let done = from;

  const applyRows = async (db: Transaction<Database>, rows: SourceRow[]) => {
    const pending: PendingRow[] = [];
    const rejected: RejectedRow[] = [];
    for (const r of rows) {
      if (r.row <= from) continue;
      if (r.parseError) {
        rejected.push({
          row: r.row,
          cells: r.cells,
          problems: [{ row: r.row, column: '', value: '', message: r.parseError }],
        });
        continue;
      }
      const check = checkRow(template, r.cells, cellContext!);
      if (check.ok) pending.push({ row: r.row, cells: r.cells, valid: check.row });
      else
        rejected.push({
          row: r.row,
          cells: r.cells,
          problems: check.problems.map((p) => ({ row: r.row, ...p })),
        });
    }
    if (pending.length === 0 && rejected.length === 0) return;
    const now = new Date().toISOString();
    const out = await applyBatch(db, target, pending, now);
    const allRejected = [...rejected, ...out.rejected].sort((a, b) => a.row - b.row);
    counts.total += pending.length + rejected.length;
    counts.created += out.created;
    counts.updated += out.updated;
    counts.unchanged += out.unchanged;
    counts.rejected += allRejected.length;
    const last = rows[rows.length - 1].row;
    if (runId !== null) {
      await recordRejected(db, runId, firm.id, allRejected, engine.maxParams);
      await checkpoint(db, runId, counts, last);
    } else dryRejected.push(...allRejected);
    done = Math.max(done, last);
  };

  let cellContext: CellContext | undefined;
  const stream = async (inTrx: (fn: (trx: Transaction<Database>) => Promise<void>) => Promise<void>) => {
    await readRows(opts.file, {
      encoding: scan.encoding,
      batchSize: opts.batchSize ?? DEFAULT_BATCH,
      onHeader(cells) {
        sawHeader = true;
        const expected = template.columns.map((c) => c.name);
        const found = cells.map((c) => c.trim());
        const same =
          found.length === expected.length &&
          found.every((c, i) => c.toLowerCase() === expected[i].toLowerCase());
        if (!same)
          headerProblem = headerMismatch(
            fileName,
            expected,
            found.map((f) => (f.length > 60 ? `${f.slice(0, 60)}…` : f)).slice(0, 60),
          );
        return same;
      },
      async onBatch(rows) {
        await inTrx((trx) => applyRows(trx, rows));
        opts.onProgress?.(Math.min(done - 1, dataRows), dataRows);
        if (runId !== null) opts.afterBatch?.(done);
      },
    });
  };

  try {
    cellContext = { ...ctxBase, kb: await loadFirmKb(engine, firm.id) };
    if (dryRun && engine.db.isTransaction) {
      // Part of a dry run of several files (dryRunTogether): the caller rolls back at the end.
      const trx = engine.db as Transaction<Database>;
      await stream((fn) => fn(trx));
    } else if (dryRun) {
      await dryRunTogether(engine, async (view) => {
        await stream((fn) => fn(view.db as Transaction<Database>));
      });
    } else {
      await stream((fn) => engine.db.transaction().execute(fn));
    }
  } catch (e) {
    const why = isCaseportError(e) ? e.message : e instanceof Error ? e.message : String(e);
    result.rows = counts;
    result.status = 'interrupted';
    result.message =
      done === 0
        ? `${fileName}: stopped before any row was applied: ${why}`
        : `${fileName}: stopped after row ${done}: ${why}; importing the same file again resumes after row ${done}`;
    if (runId !== null) {
      // Nothing committed: a new attempt starts afresh, so this one bills nothing.
      const billedRows = done === 0 ? 0 : undefined;
      await finishRun(engine.db, runId, { status: 'interrupted', message: result.message, billedRows });
    }
    return result;
  }

  if (!sawHeader || headerProblem) {
    const e = headerProblem ?? new CaseportError('FILE_EMPTY', `${fileName}: the file has no header row`);
    result.status = 'interrupted';
    result.message = e.message;
    if (runId !== null)
      await finishRun(engine.db, runId, { status: 'interrupted', message: e.message, billedRows: 0 });
    return result;
  }

  result.rows = counts;
  result.status = counts.rejected > 0 ? 'incomplete' : 'completed';
  if (runId !== null) {
    result.errors = await runErrors(engine.db, runId);
    if (counts.rejected > 0) {
      const rows = await rejectedRows(engine.db, runId);
      result.resultFile = await writeResultFile(
        opts.resultDir,
        fileName,
        template.columns.map((c) => c.name),
        rows,
        result.errors,
      );
    }
    await finishRun(engine.db, runId, {
      status: result.status,
      counts,
      resultFile: result.resultFile,
      billedRows: Math.max(dataRows, counts.total),
      message: null,
    });
  } else {
    result.errors = dryRejected.flatMap((r) => r.problems);
  }
  return result;
}
