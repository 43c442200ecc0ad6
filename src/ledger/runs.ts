// The run ledger: one row per import or export run with its status, counts and checkpoint, the
// problems of each rejected row, and billing usage. Statuses are the product's words.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, RunTable } from '../store/schema.js';
import { billingPeriodStart } from '../time/zones.js';

export type RunStatus = 'running' | 'completed' | 'incomplete' | 'interrupted';

export interface RowCounts {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface RowError {
  row: number;
  column: string;
  value: string;
  message: string;
}

type Db = Kysely<Database> | Transaction<Database>;

export const emptyCounts = (): RowCounts => ({ total: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 });

export function countsOf(run: Selectable<RunTable>): RowCounts {
  return {
    total: run.rows_total,
    created: run.rows_created,
    updated: run.rows_updated,
    unchanged: run.rows_unchanged,
    rejected: run.rows_rejected,
  };
}

/** A run's count columns, to select through a join of runs; read them back with joinedCounts. */
export const RUN_COUNT_COLUMNS = [
  'runs.rows_total',
  'runs.rows_created',
  'runs.rows_updated',
  'runs.rows_unchanged',
  'runs.rows_rejected',
] as const;

/** The counts of a run read through an outer join (null where the file has no run yet). */
export function joinedCounts(r: {
  rows_total: number | null;
  rows_created: number | null;
  rows_updated: number | null;
  rows_unchanged: number | null;
  rows_rejected: number | null;
}): RowCounts {
  return {
    total: r.rows_total ?? 0,
    created: r.rows_created ?? 0,
    updated: r.rows_updated ?? 0,
    unchanged: r.rows_unchanged ?? 0,
    rejected: r.rows_rejected ?? 0,
  };
}

const countColumns = (c: RowCounts) => ({
  rows_total: c.total,
  rows_created: c.created,
  rows_updated: c.updated,
  rows_unchanged: c.unchanged,
  rows_rejected: c.rejected,
});

export interface NewRun {
  firmId: string;
  kind: 'import' | 'export';
  template: string;
  fileName: string;
  filePath?: string;
  /** The ledger's file the run processes. */
  fileId?: number;
  /** The lease the run works under: while it is held, the run is alive. */
  lease?: { name: string; owner: string };
  sha256?: string;
  status: RunStatus;
  billedRows?: number;
  message?: string;
  warnings?: string[];
}

export async function createRun(db: Db, r: NewRun): Promise<number> {
  const now = new Date().toISOString();
  const row = await db
    .insertInto('runs')
    .values({
      firm_id: r.firmId,
      kind: r.kind,
      template: r.template,
      file_name: r.fileName,
      file_path: r.filePath ?? null,
      file_id: r.fileId ?? null,
      lease_name: r.lease?.name ?? null,
      lease_owner: r.lease?.owner ?? null,
      file_sha256: r.sha256 ?? null,
      status: r.status,
      started_at: now,
      finished_at: r.status === 'running' ? null : now,
      billed_rows: r.billedRows ?? 0,
      message: r.message ?? null,
      warnings: r.warnings && r.warnings.length > 0 ? JSON.stringify(r.warnings) : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** A run of the same file that stopped part-way (crash or error): the next attempt resumes it. */
export async function findResumableRun(db: Db, firmId: string, sha256: string, template: string) {
  return (
    db
      .selectFrom('runs')
      .selectAll()
      .where('firm_id', '=', firmId)
      .where('file_sha256', '=', sha256)
      .where('template', '=', template)
      // left running by a crash, or interrupted part-way by an error after some batches were committed
      .where((eb) =>
        eb.or([
          eb('status', '=', 'running'),
          eb.and([eb('status', '=', 'interrupted'), eb('checkpoint_row', '>', 0)]),
        ]),
      )
      .orderBy('id', 'desc')
      .executeTakeFirst()
  );
}

/** The last finished run of the same content, if this file is a repeat. */
export async function findRepeat(db: Db, firmId: string, sha256: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('runs')
    .select('id')
    .where('firm_id', '=', firmId)
    .where('file_sha256', '=', sha256)
    .where('kind', '=', 'import')
    .where('status', 'in', ['completed', 'incomplete'])
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/** A resumed run is taken up under this process's lease, for this file of the ledger. */
export async function resumeRun(
  db: Db,
  runId: number,
  lease: { name: string; owner: string },
  fileId?: number,
): Promise<void> {
  await db
    .updateTable('runs')
    .set({
      lease_name: lease.name,
      lease_owner: lease.owner,
      ...(fileId !== undefined ? { file_id: fileId } : {}),
    })
    .where('id', '=', runId)
    .execute();
  if (fileId !== undefined) {
    // The same content sent again resumes the run of an earlier file that stopped part-way: that file's
    // outcome is now this one's, and it no longer needs attention on its own.
    await db
      .updateTable('files')
      .set({ status: 'superseded', message: `resumed by file ${fileId}` })
      .where('run_id', '=', runId)
      .where('id', '<>', fileId)
      .where('status', 'in', ['interrupted', 'incomplete'])
      .execute();
  }
}

export async function markRepeat(db: Db, runId: number, of: number): Promise<void> {
  await db.updateTable('runs').set({ repeat_of_run_id: of }).where('id', '=', runId).execute();
}

/**
 * Records a committed batch's counts, the last row it covered and the rows billed so far (the rows
 * read); runs inside the batch's transaction, so a resumed run neither loses nor repeats them.
 */
export async function checkpoint(
  db: Db,
  runId: number,
  counts: RowCounts,
  lastRow: number,
  billedRows: number,
): Promise<void> {
  await db
    .updateTable('runs')
    .set({ ...countColumns(counts), checkpoint_row: lastRow, billed_rows: billedRows })
    .where('id', '=', runId)
    .execute();
}

/** A value or message as the ledger keeps it: at most `max` characters, no NUL (PostgreSQL text has none). */
export function ledgerText(s: string, max: number): string {
  const t = s.length > max ? `${s.slice(0, max)}…` : s;
  return t.indexOf('\u0000') < 0 ? t : t.replace(/\u0000/g, '\\u0000');
}

export async function recordRejected(
  db: Db,
  runId: number,
  firmId: string,
  rows: ReadonlyArray<{ row: number; cells: string[]; problems: RowError[] }>,
  maxParams: number,
): Promise<void> {
  if (rows.length === 0) return;
  const errors = rows.flatMap((r) =>
    r.problems.map((p) => ({
      run_id: runId,
      firm_id: firmId,
      row_number: r.row,
      column_name: p.column,
      value: ledgerText(p.value, 1000),
      message: ledgerText(p.message, 2000),
    })),
  );
  for (const part of chunks(errors, Math.floor(maxParams / 6)))
    await db.insertInto('run_errors').values(part).execute();
  const raw = rows.map((r) => ({
    run_id: runId,
    firm_id: firmId,
    row_number: r.row,
    cells: JSON.stringify(r.cells),
  }));
  for (const part of chunks(raw, Math.floor(maxParams / 4))) {
    await db
      .insertInto('rejected_rows')
      .values(part)
      .onConflict((oc) => oc.columns(['run_id', 'row_number']).doNothing())
      .execute();
  }
}

export async function finishRun(
  db: Db,
  runId: number,
  f: {
    status: RunStatus;
    counts?: RowCounts;
    message?: string | null;
    resultFile?: string | null;
    billedRows?: number;
    warnings?: string[];
  },
): Promise<void> {
  await db
    .updateTable('runs')
    .set({
      status: f.status,
      finished_at: new Date().toISOString(),
      ...(f.counts ? countColumns(f.counts) : {}),
      ...(f.message !== undefined ? { message: f.message } : {}),
      ...(f.resultFile !== undefined ? { result_file: f.resultFile } : {}),
      ...(f.billedRows !== undefined ? { billed_rows: f.billedRows } : {}),
      ...(f.warnings?.length ? { warnings: JSON.stringify(f.warnings) } : {}),
    })
    .where('id', '=', runId)
    .execute();
}

export interface LedgerRejectedRow {
  row: number;
  cells: string[];
  problems: RowError[];
}

/**
 * The run's rejected rows with their problems, in row order, a few at a time: memory holds a page however
 * many were rejected (a row may hold up to 1 MiB as sent). Pages by row number, each its own query, so a
 * connection lost in between fails the next query instead of leaving a cursor waiting.
 */
export async function* streamRejected(
  db: Kysely<Database>,
  runId: number,
): AsyncGenerator<LedgerRejectedRow> {
  const PAGE = 8;
  let after = -1;
  for (;;) {
    const rows = await db
      .selectFrom('rejected_rows')
      .select(['row_number', 'cells'])
      .where('run_id', '=', runId)
      .where('row_number', '>', after)
      .orderBy('row_number')
      .limit(PAGE)
      .execute();
    if (rows.length === 0) return;
    const last = rows[rows.length - 1].row_number;
    const errors = await db
      .selectFrom('run_errors')
      .select(['row_number', 'column_name', 'value', 'message'])
      .where('run_id', '=', runId)
      .where('row_number', '>', after)
      .where('row_number', '<=', last)
      .orderBy('row_number')
      .orderBy('id')
      .execute();
    let e = 0;
    for (const r of rows) {
      const problems: RowError[] = [];
      while (e < errors.length && errors[e].row_number < r.row_number) e++;
      for (; e < errors.length && errors[e].row_number === r.row_number; e++) {
        const x = errors[e];
        problems.push({ row: x.row_number, column: x.column_name, value: x.value ?? '', message: x.message });
      }
      yield { row: r.row_number, cells: JSON.parse(r.cells) as string[], problems };
    }
    after = last;
  }
}

/** Rows billed to the firm in the billing period that contains `now`. */
export async function usedAllowance(
  db: Db,
  firm: { id: string; timezone: string; billingPeriod: 'month' | 'year' },
  now = new Date(),
): Promise<number> {
  const since = billingPeriodStart(now, firm.timezone, firm.billingPeriod).toISOString();
  const row = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('billed_rows'), eb.val(0)).as('used'))
    .where('firm_id', '=', firm.id)
    .where('kind', '=', 'import')
    .where('started_at', '>=', since)
    .executeTakeFirst();
  return Number(row?.used ?? 0);
}

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  const n = Math.max(1, size);
  for (let i = 0; i < items.length; i += n) yield items.slice(i, i + n);
}
