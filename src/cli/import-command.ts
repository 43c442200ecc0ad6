// `caseport import <file...> --firm F [--dry-run] [--json]`: process files now, in run order, under the
// firm's import lease (another import of the firm, from any process, runs before or after, never
// during). Problems stream to the output as the files are done, whatever their number.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CaseportError, isCaseportError } from '../errors.js';
import { dryRunTogether, type ImportResult, importFile, withImportLease } from '../ingest/index.js';
import { claimThisFile, createJob, type LedgerFile, receiveFile } from '../ledger/files.js';
import type { Lease } from '../ledger/leases.js';
import { leaseLost } from '../ledger/leases.js';
import type { RowError } from '../ledger/runs.js';
import { firmFolders, spoolFolder } from '../paths.js';
import { openFileStore } from '../store/file-store.js';
import { type Engine, getFirm } from '../store/index.js';
import { compareForRun, type RecognisedFile, recogniseFileName } from '../templates/index.js';
import { runImportStage } from '../worker/import-stage.js';
import { EXIT, printRaw, progressBar, safeJson, say, warn } from './output.js';

export interface ImportCommandOptions {
  firm: string;
  dryRun?: boolean;
  json?: boolean;
  batchSize?: number;
  /** Each file's outcome as it is done (caseport start files them away). */
  onResult?(file: string, r: ImportResult): Promise<void>;
}

/** Files in the order a run processes them; names that match no template keep their place at the end. */
export function runOrder(files: string[]): string[] {
  const known: Array<{ file: string; r: RecognisedFile }> = [];
  const unknown: string[] = [];
  for (const file of files) {
    try {
      known.push({ file, r: recogniseFileName(path.basename(file)) });
    } catch {
      unknown.push(file);
    }
  }
  known.sort((a, b) => compareForRun(a.r, b.r));
  return [...known.map((k) => k.file), ...unknown];
}

export function exitCodeOf(results: ImportResult[]): number {
  if (results.some((r) => r.status === 'interrupted')) return EXIT.interrupted;
  if (results.some((r) => r.status === 'incomplete')) return EXIT.incomplete;
  return EXIT.ok;
}

const SHOWN_PROBLEMS = 20;

/** How one file's outcome is printed: problems as they come, the summary at the end. */
export interface ResultPrinter {
  problem(p: RowError): void;
  done(r: ImportResult): void;
}

/** Readable text: the first problems, then how many more; the summary after them. */
export function textPrinter(): ResultPrinter {
  const lines: string[] = [];
  return {
    problem(e) {
      if (lines.length < SHOWN_PROBLEMS)
        lines.push(`  row ${e.row}${e.column ? `, ${e.column}` : ''}: ${e.message}`);
    },
    done(r) {
      const c = r.rows;
      const head = `${path.basename(r.file)}: ${r.status.toUpperCase()}${r.dryRun ? ' (dry run, nothing written)' : ''}`;
      say(head + (r.runId ? ` · run ${r.runId}` : ''));
      if (r.message) say(`  ${r.message}`);
      if (r.status !== 'interrupted' || c.total > 0) {
        say(
          `  rows: ${c.total} total, ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`,
        );
      }
      for (const w of r.warnings) say(`  warning: ${w}`);
      for (const l of lines) say(l);
      if (r.problemCount > lines.length) say(`  … and ${r.problemCount - lines.length} more problems`);
      if (r.resultFile) say(`  rejected rows with their errors: ${r.resultFile}`);
    },
  };
}

/**
 * JSON, streamed: each file's object starts with its "errors" array, written problem by problem, and
 * the rest of the result follows it. Several files make an array.
 */
export function jsonPrinter(several: boolean): ResultPrinter & { end(stopped?: string): void } {
  let files = 0;
  let problems = 0;
  let open = false;
  const start = () => {
    if (open) return;
    open = true;
    problems = 0;
    printRaw(`${several ? (files === 0 ? '[\n' : ',\n') : ''}{\n  "errors": [`);
  };
  return {
    problem(p) {
      start();
      printRaw(`${problems++ === 0 ? '\n' : ',\n'}    ${safeJson(p).replace(/\n\s*/g, ' ')}`);
    },
    done(r) {
      start();
      const { errors: _kept, ...rest } = r;
      printRaw(`${problems > 0 ? '\n  ' : ''}],${safeJson(rest).slice(1)}`);
      open = false;
      files++;
    },
    /** Closes the output; `stopped` says why a file in progress, or the command, stopped short. */
    end(stopped?: string) {
      if (open || (stopped && !several && files === 0)) {
        if (!open) printRaw('{\n  "errors": [');
        printRaw(
          `${problems > 0 ? '\n  ' : ''}],\n  "status": "interrupted",\n  "message": ${safeJson(stopped ?? null)}\n}`,
        );
        open = false;
        files++;
      }
      printRaw(several ? (files === 0 ? '[]\n' : '\n]\n') : '\n');
    },
  };
}

/** Prints a finished result in one go (kb import, start). */
export function printSummary(r: ImportResult): void {
  const p = textPrinter();
  for (const e of r.errors) p.problem(e);
  p.done(r);
}

export async function runImport(engine: Engine, dataDir: string, files: string[], o: ImportCommandOptions) {
  await getFirm(engine, o.firm);
  const results: ImportResult[] = [];
  const json = o.json ? jsonPrinter(files.length > 1) : undefined;
  // Ctrl-C: the file being imported stops after its current batch, Interrupted and resumable, and the
  // firm's lease is released; a second Ctrl-C ends the process at once.
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    warn('stopping after the current batch (Ctrl-C again to quit at once)');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let dryBilled = 0;
  const fileStore = openFileStore(engine, dataDir);
  let jobId: number | undefined;
  /** A real run goes through the ledger as the server's does: the file received, then run by the same stage. */
  const viaLedger = async (
    file: string,
    lease: Lease,
    bar: ReturnType<typeof progressBar>,
    printer: ResultPrinter,
  ) => {
    jobId ??= await createJob(engine.db, {
      firmId: o.firm,
      taskId: null,
      trigger: 'cli',
      kind: 'import',
      dueAt: new Date().toISOString(),
    });
    // What is not a readable regular file (missing, a folder, a FIFO, no permission) never reaches the
    // ledger: the import's own snapshot refuses it with the reason, as an Interrupted run.
    const direct = () =>
      importFile(engine, {
        firmId: o.firm,
        file,
        batchSize: o.batchSize,
        resultDir: firmFolders(dataDir, o.firm).results,
        spoolDir: spoolFolder(dataDir),
        lease,
        signal: stop.signal,
      });
    if (!(await stat(file).catch(() => undefined))?.isFile()) return direct();
    let received: LedgerFile;
    try {
      received = await receiveFile(engine, fileStore, {
        firmId: o.firm,
        name: path.basename(file),
        localPath: file,
        jobId,
        adopt: true,
      });
    } catch (e) {
      if (isCaseportError(e) && e.code !== 'STORAGE') throw e;
      if (engine.isOutage(e)) throw e;
      return direct();
    }
    const claimed = await claimThisFile(engine, received.id, lease);
    const out = await runImportStage(
      {
        engine,
        store: fileStore,
        dataDir,
        signal: stop.signal,
        batchSize: o.batchSize,
        cli: {
          resultDir: firmFolders(dataDir, o.firm).results,
          onProgress: (fraction, rows) => bar.update(fraction, rows),
          onProblem: (p) => printer.problem(p),
        },
      },
      claimed,
      lease,
    );
    if (out.kind === 'lost') throw leaseLost(lease.name);
    if (out.kind !== 'final' || !out.result) {
      throw new CaseportError(
        'STORAGE',
        `${file}: ${out.kind === 'retry' ? out.message : 'the outcome could not be recorded'}`,
      );
    }
    return { ...out.result, file: path.resolve(file) };
  };
  const importAll = async (store: Engine, lease: Lease) => {
    for (const file of runOrder(files)) {
      if (stop.signal.aborted) break;
      const bar = progressBar(path.basename(file), !o.json);
      const printer = json ?? textPrinter();
      try {
        const r = o.dryRun
          ? await importFile(store, {
              firmId: o.firm,
              file,
              dryRun: o.dryRun,
              batchSize: o.batchSize,
              resultDir: firmFolders(dataDir, o.firm).results,
              spoolDir: spoolFolder(dataDir),
              lease,
              signal: stop.signal,
              pendingBilled: dryBilled,
              onProgress: (fraction, rows) => bar.update(fraction, rows),
              onProblem: (p) => printer.problem(p),
            })
          : await viaLedger(file, lease, bar, printer);
        results.push(r);
        dryBilled += r.rows.total;
        bar.stop();
        printer.done(r);
        await o.onResult?.(file, r);
      } finally {
        bar.stop();
      }
    }
  };
  const holder = `caseport import of ${files.length === 1 ? path.basename(files[0]) : `${files.length} files`}`;
  const onWait = (by: string | null, ms: number) =>
    warn(
      `waiting: another import of firm ${o.firm} is running (${by ?? 'unknown'}); it finishes first` +
        ` (or its lease expires in ${Math.ceil(ms / 1000)} s if it has stopped)`,
    );
  try {
    const arrivedAt = Math.round(performance.timeOrigin); // waiting imports go in the order they started
    await withImportLease(
      engine,
      o.firm,
      { holder, onWait, signal: stop.signal, arrivedAt },
      async (lease) => {
        // A dry run of several files is one transaction, rolled back: each file sees the ones before it.
        if (o.dryRun) await dryRunTogether(engine, (view) => importAll(view, lease));
        else await importAll(engine, lease);
      },
    );
  } catch (e) {
    // Another process took the firm over (this one stalled past its lease), or Ctrl-C while waiting:
    // nothing more is done here, and what was done stands.
    if (!isCaseportError(e) || (e.code !== 'LEASE_LOST' && e.code !== 'STOPPED')) throw e;
    if (json) json.end(e.message);
    warn(`caseport: ${e.message}; the files after it were not started`);
    return EXIT.interrupted;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (json) json.end();
  else if (results.length > 1) warn(`${results.length} files processed`);
  if (stop.signal.aborted && results.length < files.length) {
    warn(`stopped by the user: ${files.length - results.length} files were not started`);
  }
  return exitCodeOf(results);
}
