// Importing one file, under its firm's import lease: recognise, snapshot, check the header, check
// billing, then stream, validate and apply the rows in batches. A real run commits each batch with its
// checkpoint, so a crash resumes where it stopped with no second effect; a dry run does the same work
// in one transaction and rolls it back. Problems stream out (to the ledger, the result file and the
// caller's onProblem) instead of piling up in memory.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import { allowanceExceeded, CaseportError, headerMismatch, isCaseportError } from '../errors.js';
import { loadFirmKb } from '../kb/firm-kb.js';
import { acquireLease, importLeaseName, type Lease, leaseLost } from '../ledger/leases.js';
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
  resumeRun,
  streamRejected,
  usedAllowance,
} from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import { type Firm, getFirm } from '../store/firms.js';
import type { Database } from '../store/schema.js';
import { recogniseFileName } from '../templates/file-names.js';
import type { ImportTemplate } from '../templates/types.js';
import { applyBatch, type BatchOutcome, type BatchTarget } from './apply.js';
import type { CellContext } from './cells.js';
import type { CsvRow } from './csv-reader.js';
import { countRows, type RowBatch, readBatches } from './read.js';
import { openResultFile, type ResultFile, removeResultFile, sweepResultTemps } from './result-file.js';
import { type CheckedRow, checkRow } from './rows.js';
import { type Snapshot, takeSnapshot } from './snapshot.js';

export type ImportStatus = 'completed' | 'incomplete' | 'interrupted';

export interface ImportOptions {
  firmId: string;
  file: string;
  /** Validate against the current data and report, writing nothing. */
  dryRun?: boolean;
  /** Where the result file goes (the firm's Results folder). */
  resultDir: string;
  /** Where the private copy of the file is kept while it is imported (default: the system's temp folder). */
  spoolDir?: string;
  batchSize?: number;
  /** The file's name as received (default: the file's own name): what the template is recognised by. */
  fileName?: string;
  /** The ledger's file this import processes: its run is linked to it. */
  fileId?: number;
  /** Imports a per-firm knowledge-base list instead of recognising the template from the file name. */
  template?: ImportTemplate;
  /** The firm's import lease, when the caller holds it (several files, a dry run of several files). */
  lease?: Lease;
  /** Called once if another import of the firm is running and this one waits for it. */
  onWait?(holder: string | null, expiresInMs: number): void;
  /** Progress: the fraction of the file read, and the rows read so far. */
  onProgress?(fraction: number, rows: number): void;
  /** Every problem of every rejected row, in row order (a real run: once the file is done). */
  onProblem?(problem: RowError): void;
  /**
   * In a dry run of several files, the rows the earlier files would have billed: the allowance is
   * checked as the real run would check it.
   */
  pendingBilled?: number;
  /** Stops the import between batches (Ctrl-C): the run is left Interrupted and resumable. */
  signal?: AbortSignal;
  /** Test hook: called after each committed batch. */
  afterBatch?(committedRows: number): void;
  /** Test hook: called with the snapshot's path once it is taken. */
  afterSnapshot?(snapshot: string): void;
}

export interface ImportResult {
  file: string;
  template: string | null;
  status: ImportStatus;
  dryRun: boolean;
  rows: RowCounts;
  /** The first problems (at most MAX_ERRORS_KEPT); all of them go to onProblem and the result file. */
  errors: RowError[];
  /** How many problems there were in all. */
  problemCount: number;
  resultFile: string | null;
  runId: number | null;
  message: string | null;
  warnings: string[];
  repeatOf: number | null;
  resumedFromRow: number | null;
  /**
   * Interrupted by the database, the disk or a stop request rather than by the file: the same file
   * again resumes, and a worker retries it.
   */
  retryable: boolean;
}

/** Problems kept in an ImportResult: enough to read, bounded whatever the file holds. */
export const MAX_ERRORS_KEPT = 1000;
const DEFAULT_BATCH = 2000;

class DryRunDone extends Error {}

const stoppedByUser = () => new CaseportError('STOPPED', 'stopped by the user (Ctrl-C)');

/**
 * Runs `work` against a view of the store inside one transaction that is always rolled back: what it
 * writes is seen by what it reads next (a dry run of several files sees the earlier files' effects, as a
 * real run would) and none of it is kept. Take the firm's import lease first (see withImportLease).
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

/** Runs `work` holding the firm's import lease: one firm's imports run one at a time, on every process. */
export async function withImportLease<T>(
  engine: Engine,
  firmId: string,
  o: { holder: string; onWait?: ImportOptions['onWait']; signal?: AbortSignal; arrivedAt?: number },
  work: (lease: Lease) => Promise<T>,
): Promise<T> {
  const lease = await acquireLease(engine, importLeaseName(firmId), {
    holder: o.holder,
    onWait: o.onWait,
    signal: o.signal,
    arrivedAt: o.arrivedAt,
  });
  try {
    return await work(lease);
  } finally {
    await lease.release().catch(() => {}); // an expired lease is released by time
  }
}

export async function importFile(engine: Engine, opts: ImportOptions): Promise<ImportResult> {
  const firm = await getFirm(engine, opts.firmId);
  if (opts.lease) {
    // A lease lost on an earlier file of the same command: this process must not start another.
    if (opts.lease.lost) throw leaseLost(opts.lease.name);
    return new FileImport(engine, firm, opts, opts.lease).run();
  }
  if (engine.db.isTransaction) {
    throw new Error('importFile in a transaction needs the firm lease: take it before the transaction');
  }
  return withImportLease(
    engine,
    firm.id,
    { holder: `import of ${path.basename(opts.file)}`, onWait: opts.onWait },
    (lease) => new FileImport(engine, firm, opts, lease).run(),
  );
}

/** One file's import: the steps share the run's state, so they are methods of one object. */
class FileImport {
  private readonly dryRun: boolean;
  private readonly fileName: string;
  private readonly result: ImportResult;
  private template: ImportTemplate | undefined;
  private runId: number | null = null;
  private counts = emptyCounts();
  /** Rows up to here are in the store (a resumed run starts after its checkpoint). */
  private from = 0;
  private done = 0;

  constructor(
    private readonly engine: Engine,
    private readonly firm: Firm,
    private readonly opts: ImportOptions,
    private readonly lease: Lease,
  ) {
    this.dryRun = opts.dryRun === true;
    this.fileName = opts.fileName ?? path.basename(opts.file);
    this.result = {
      file: opts.fileName ?? path.resolve(opts.file),
      template: opts.template?.name ?? null,
      status: 'interrupted',
      dryRun: this.dryRun,
      rows: this.counts,
      errors: [],
      problemCount: 0,
      resultFile: null,
      runId: null,
      message: null,
      warnings: [],
      repeatOf: null,
      resumedFromRow: null,
      retryable: false,
    };
  }

  private problem(p: RowError): void {
    this.result.problemCount++;
    if (this.result.errors.length < MAX_ERRORS_KEPT) this.result.errors.push(p);
    this.opts.onProblem?.(p);
  }

  /** The file as a whole cannot be processed: recorded as an Interrupted run (not in a dry run). */
  private async interrupt(e: CaseportError, sha256?: string): Promise<ImportResult> {
    const r = this.result;
    r.status = 'interrupted';
    r.message = e.message;
    // The machine, not the file: a full or failing disk (a worker tries the file again later).
    r.retryable = e.code === 'STORAGE';
    if (!this.dryRun) {
      r.runId = await createRun(this.engine.db, {
        firmId: this.firm.id,
        kind: 'import',
        template: r.template ?? 'unrecognised',
        fileName: this.fileName,
        filePath: r.file,
        fileId: this.opts.fileId,
        sha256,
        status: 'interrupted',
        message: e.message,
        warnings: r.warnings,
      });
    }
    return r;
  }

  async run(): Promise<ImportResult> {
    try {
      return await this.steps();
    } catch (e) {
      // A failure while this process had lost its lease (another took over and swept its snapshot):
      // the lease is the cause, not the file or a bug.
      if (!isCaseportError(e) && !this.dryRun && (await this.leaseGone())) throw leaseLost(this.lease.name);
      throw e;
    }
  }

  private async leaseGone(): Promise<boolean> {
    if (this.lease.lost) return true;
    return this.lease.confirm(this.engine.db).then(
      () => false,
      (e) => isCaseportError(e) && e.code === 'LEASE_LOST',
    );
  }

  private async steps(): Promise<ImportResult> {
    let snap: Snapshot;
    try {
      this.template = this.opts.template ?? recogniseFileName(this.fileName).template;
      this.result.template = this.template.name;
      // One spool folder per firm: under the firm's lease, whatever is in it was left by a killed process.
      const spool = path.join(this.opts.spoolDir ?? path.join(tmpdir(), 'caseport-spool'), this.firm.id);
      snap = await takeSnapshot(this.opts.file, spool);
    } catch (e) {
      if (isCaseportError(e)) return this.interrupt(e);
      throw e;
    }
    this.opts.afterSnapshot?.(snap.path);
    // Likewise temporary result files of a killed process.
    if (!this.dryRun) await sweepResultTemps(this.opts.resultDir);
    try {
      return await this.fromSnapshot(snap, this.template);
    } finally {
      await snap.remove();
    }
  }

  private async fromSnapshot(snap: Snapshot, t: ImportTemplate): Promise<ImportResult> {
    const { engine, firm, dryRun, result } = this;
    if (snap.encodingWarning) result.warnings.push(snap.encodingWarning);
    const columns = t.columns.length;
    const batches = readBatches(snap, columns, this.opts.batchSize ?? DEFAULT_BATCH);
    try {
      const first = await batches.next();
      const header = first.done ? undefined : first.value.rows[0];
      if (!header)
        return await this.interrupt(
          new CaseportError('FILE_EMPTY', 'the file has no header row'),
          snap.sha256,
        );
      const expected = t.columns.map((c) => c.name);
      const found = header.cells.map((c) => c.trim());
      const same =
        !header.problems &&
        found.length === expected.length &&
        found.every((c, i) => c.toLowerCase() === expected[i].toLowerCase());
      if (header.problems) {
        const why = header.problems.map((p) => p.message).join('; ');
        return await this.interrupt(
          new CaseportError(
            'HEADER_MISMATCH',
            `the header row cannot be read: ${why}; expected: ${expected.join(',')}`,
          ),
          snap.sha256,
        );
      }
      if (!same) {
        const shown = found.map((f) => (f.length > 60 ? `${f.slice(0, 60)}…` : f)).slice(0, 60);
        return await this.interrupt(headerMismatch(expected, shown), snap.sha256);
      }

      // A dry run looks at what the real run would do now: resume a run stopped part-way, too.
      const resumed = await findResumableRun(engine.db, firm.id, snap.sha256, t.name);
      const readBefore = resumed ? resumed.rows_total : 0;
      if (!t.kbList && firm.recordLimit !== null) {
        const used = (await usedAllowance(engine.db, firm)) + (dryRun ? (this.opts.pendingBilled ?? 0) : 0);
        const left = Math.max(0, firm.recordLimit - used);
        // The line count bounds the rows whatever the quotes do; only a file that might not fit is
        // counted exactly, by the same reader the import uses.
        let rows = snap.lineBound - 1 - readBefore;
        if (rows > left) rows = (await countRows(snap, columns)) - readBefore;
        if (rows > left) return await this.interrupt(allowanceExceeded(firm.id, rows, left), snap.sha256);
      }
      const repeatOf = dryRun ? undefined : await findRepeat(engine.db, firm.id, snap.sha256);
      if (repeatOf !== undefined) {
        result.repeatOf = repeatOf;
        result.warnings.push(
          `the same content was imported before (run ${repeatOf}); rows already applied count as unchanged`,
        );
      }
      if (resumed) {
        this.runId = dryRun ? null : Number(resumed.id);
        if (this.runId !== null) await resumeRun(engine.db, this.runId, this.lease, this.opts.fileId);
        this.counts = countsOf(resumed);
        this.from = resumed.checkpoint_row;
        this.done = this.from;
        result.resumedFromRow = this.from;
        result.warnings.push(
          `${dryRun ? 'would resume' : 'resumed'} run ${resumed.id} after row ${this.from}`,
        );
      } else if (!dryRun) {
        this.runId = await createRun(engine.db, {
          firmId: firm.id,
          kind: 'import',
          template: t.name,
          fileName: this.fileName,
          filePath: result.file,
          fileId: this.opts.fileId,
          lease: this.lease,
          sha256: snap.sha256,
          status: 'running',
          warnings: result.warnings,
        });
        if (repeatOf !== undefined) await markRepeat(engine.db, this.runId, repeatOf);
      }
      result.runId = this.runId;
      return await this.applyRows(t, snap, first.value!.rows.slice(1), batches);
    } finally {
      await batches.return(undefined);
    }
  }

  private async applyRows(
    t: ImportTemplate,
    snap: Snapshot,
    firstRows: CsvRow[],
    batches: AsyncGenerator<RowBatch>,
  ): Promise<ImportResult> {
    const { engine, firm, dryRun, result } = this;
    const ctx: CellContext = { zoomNoUpdate: firm.zoomNoUpdate, kb: await loadFirmKb(engine, firm.id) };
    const target: BatchTarget = {
      template: t,
      firmId: firm.id,
      runId: this.runId,
      by: this.runId ? `run:${this.runId}` : 'dry-run',
      engine,
      parentCache: new Map(),
      rowsBound: snap.lineBound,
    };
    let rowsRead = 0;
    // A batch returns what it changes, taken in once its transaction has committed: a batch that
    // fails is neither counted nor billed.
    type Applied = { counts: RowCounts; last: number } | undefined;
    const check = (rows: CsvRow[]) => rows.filter((r) => r.row > this.from).map((r) => checkRow(t, r, ctx));
    const batch = async (
      db: Transaction<Database>,
      rows: CsvRow[],
      checked: CheckedRow[],
    ): Promise<Applied> => {
      if (checked.length === 0) return undefined;
      const out = await applyIsolated(db, target, checked, new Date().toISOString());
      const c = { ...this.counts };
      c.total += checked.length;
      c.created += out.created;
      c.updated += out.updated;
      c.unchanged += out.unchanged;
      c.rejected += out.rejected.length;
      const last = rows[rows.length - 1].row;
      if (this.runId !== null) {
        await this.lease.confirm(db);
        await recordRejected(db, this.runId, firm.id, out.rejected, engine.maxParams);
        await checkpoint(db, this.runId, c, last, t.kbList ? 0 : c.total);
      } else {
        for (const r of out.rejected) for (const p of r.problems) this.problem(p);
      }
      return { counts: c, last };
    };
    type InTrx = (fn: (trx: Transaction<Database>) => Promise<Applied>) => Promise<Applied>;
    const each = async (inTrx: InTrx) => {
      const step = async (rows: CsvRow[], checked: CheckedRow[], bytesRead: number) => {
        if (this.opts.signal?.aborted) throw stoppedByUser();
        const applied = await inTrx((trx) => batch(trx, rows, checked));
        if (applied) {
          this.counts = applied.counts;
          this.done = applied.last;
        }
        rowsRead += rows.length;
        this.opts.onProgress?.(snap.bytes > 0 ? bytesRead / snap.bytes : 1, rowsRead);
        if (this.runId !== null) this.opts.afterBatch?.(this.done);
      };
      if (firstRows.length > 0) await step(firstRows, check(firstRows), 0);
      // The next batch is read and checked while this one is in the database: on PostgreSQL, a round
      // trip away, the two overlap.
      const ahead = async () => {
        const b = await batches.next();
        return b.done ? undefined : { ...b.value, checked: check(b.value.rows) };
      };
      // A read ahead that fails while the current batch is in the database is awaited (and thrown)
      // on the next turn; the catch only keeps it from being "unhandled" meanwhile.
      const readAhead = () => {
        const p = ahead();
        p.catch(() => {});
        return p;
      };
      let next = readAhead();
      for (let b = await next; b; b = await next) {
        next = readAhead();
        await step(b.rows, b.checked, b.bytesRead);
      }
    };

    try {
      if (dryRun && engine.db.isTransaction) {
        // Part of a dry run of several files (dryRunTogether): the caller rolls back at the end.
        const trx = engine.db as Transaction<Database>;
        await each((fn) => fn(trx));
      } else if (dryRun) {
        await dryRunTogether(engine, (view) => each((fn) => fn(view.db as Transaction<Database>)));
      } else {
        await each((fn) => engine.db.transaction().execute(fn));
      }
    } catch (e) {
      return this.stopped(e, t);
    }

    result.rows = this.counts;
    result.status = this.counts.rejected > 0 ? 'incomplete' : 'completed';
    if (this.runId !== null) {
      try {
        await this.finish(t);
      } catch (e) {
        return this.stopped(e, t);
      }
    }
    return result;
  }

  /**
   * A failure part-way. The file's problem or an outage (the database, the disk): Interrupted, and the
   * same file again resumes. Anything else is a bug: the run is left resumable and the error rethrown,
   * to be shown as an internal error, never as a problem of the file.
   */
  private async stopped(e: unknown, t: ImportTemplate): Promise<ImportResult> {
    const { result, runId, done } = this;
    result.rows = this.counts;
    result.status = 'interrupted';
    const expected = isCaseportError(e) || this.engine.isOutage(e);
    result.retryable =
      this.engine.isOutage(e) || (isCaseportError(e) && (e.code === 'STOPPED' || e.code === 'STORAGE'));
    const why = e instanceof Error ? e.message : String(e);
    const where = done === 0 ? 'stopped before any row was applied' : `stopped after row ${done}`;
    const then = done === 0 ? '' : `; importing the same file again resumes after row ${done}`;
    // Another process owns the run and the firm now: nothing more is done from here.
    if (isCaseportError(e) && e.code === 'LEASE_LOST') throw e;
    if (runId !== null) {
      const message = `${where}: ${expected ? '' : 'internal error: '}${why}${then}`;
      await finishRun(this.engine.db, runId, {
        status: 'interrupted',
        message,
        counts: this.counts,
        billedRows: t.kbList ? 0 : this.counts.total,
      }).catch(() => {}); // the database may be what failed: the run stays resumable either way
    }
    if (!expected) throw e;
    result.message = `${where}: ${why}${then}`;
    return result;
  }

  /**
   * The end of a real run: problems streamed from the ledger to the result file (written to a temporary
   * name) and onProblem; then, only while the lease is still this process's, the result file is put in
   * place (or a stale one removed) and the run finished, together.
   */
  private async finish(t: ImportTemplate): Promise<void> {
    const { result, engine, runId } = this;
    const dir = this.opts.resultDir;
    let out: ResultFile | undefined;
    let failure: string | undefined;
    const failed = async (e: unknown) => {
      failure = e instanceof Error ? e.message : String(e);
      await out?.discard();
      out = undefined;
    };
    if (this.counts.rejected > 0) {
      try {
        out = await openResultFile(
          dir,
          this.fileName,
          t.columns.map((c) => c.name),
        );
      } catch (e) {
        await failed(e);
      }
      for await (const r of streamRejected(engine.db, runId!)) {
        for (const p of r.problems) this.problem(p);
        if (out) await out.write(r).catch(failed);
      }
    }
    try {
      await engine.db.transaction().execute(async (trx) => {
        await this.lease.confirm(trx);
        if (out) {
          result.resultFile = (await out.finish().catch(failed)) ?? null;
          out = undefined;
        }
        if (!result.resultFile && (await removeResultFile(dir, this.fileName))) {
          result.warnings.push(
            failure
              ? 'the result file of an earlier file of the same name was removed: it no longer describes this file'
              : 'the result file of an earlier file of the same name was removed: every row is in now',
          );
        }
        if (failure) {
          result.warnings.push(
            `the result file could not be written in ${dir} (${failure}); the rejected rows and their ` +
              `errors are kept with run ${runId} and listed in full by --json`,
          );
        }
        await finishRun(trx, runId!, {
          status: result.status,
          counts: this.counts,
          resultFile: result.resultFile,
          billedRows: t.kbList ? 0 : this.counts.total,
          message: null,
          warnings: result.warnings,
        });
      });
    } finally {
      await out?.discard(); // left only when the lease was lost: the other process writes its own
    }
  }
}

/**
 * Applies a batch inside a savepoint. If the database refuses it because of a value (one the checks
 * let through and the engine cannot store), the batch is halved until the row is found; that row is
 * rejected with the database's reason and every other row is applied, in file order.
 */
async function applyIsolated(
  db: Transaction<Database>,
  target: BatchTarget,
  rows: CheckedRow[],
  now: string,
): Promise<BatchOutcome> {
  await sql`savepoint caseport_rows`.execute(db);
  try {
    const out = await applyBatch(db, target, rows, now);
    await sql`release savepoint caseport_rows`.execute(db);
    return out;
  } catch (e) {
    if (!target.engine.isRowDataError(e)) throw e;
    await sql`rollback to savepoint caseport_rows`.execute(db);
    await sql`release savepoint caseport_rows`.execute(db);
    if (rows.length === 1) {
      const r = rows[0];
      const why = e instanceof Error ? e.message : String(e);
      return {
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: [
          {
            row: r.row,
            cells: r.cells,
            problems: [
              ...r.problems.map((p) => ({ row: r.row, ...p })),
              { row: r.row, column: '', value: '', message: `the database refused this row: ${why}` },
            ],
          },
        ],
      };
    }
    const mid = rows.length >> 1;
    const a = await applyIsolated(db, target, rows.slice(0, mid), now);
    const b = await applyIsolated(db, target, rows.slice(mid), now);
    return {
      created: a.created + b.created,
      updated: a.updated + b.updated,
      unchanged: a.unchanged + b.unchanged,
      rejected: [...a.rejected, ...b.rejected],
    };
  }
}
