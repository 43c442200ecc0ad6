// What the reports show, read from the ledger, every query scoped by the firm: a file, run, error,
// comment or download of another firm is "not found", never "forbidden" (ids are not secrets, and a
// different answer would say that the id exists).
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { joinedCounts, RUN_COUNT_COLUMNS } from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';

export const ATTENTION_STATUSES = ['incomplete', 'interrupted'] as const;

export interface FileFilter {
  template?: string;
  status?: string;
  /** Received on or after this day (YYYY-MM-DD, in `timezone`). */
  from?: string;
  /** Received on or before this day (YYYY-MM-DD, in `timezone`). */
  to?: string;
  /** The firm's time zone, whose days `from` and `to` are (UTC when absent). */
  timezone?: string;
  /** Acknowledged files too (they leave Need Attention and stay findable). */
  acknowledged?: boolean;
}

export interface FileSummary {
  id: number;
  name: string;
  template: string | null;
  status: string;
  receivedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  acknowledgedAt: string | null;
  message: string | null;
  runId: number | null;
  jobId: number | null;
  rows: { total: number; created: number; updated: number; unchanged: number; rejected: number };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The UTC instant a day (YYYY-MM-DD) starts in a time zone, `plus` days on; undefined if no such day. */
export function dayStart(day: string, timezone = 'UTC', plus = 0): string | undefined {
  if (!DAY.test(day)) return undefined;
  const d = DateTime.fromISO(day, { zone: timezone });
  return d.isValid ? (d.plus({ days: plus }).toUTC().toISO() ?? undefined) : undefined;
}

/** What is wrong with a Need Attention filter, said for a person, or undefined. */
export function filterProblem(f: FileFilter, templates: readonly string[]): string | undefined {
  if (f.template && !templates.includes(f.template)) return `"${f.template}" is not an import template.`;
  if (f.status && !(ATTENTION_STATUSES as readonly string[]).includes(f.status))
    return `The status is Interrupted or Incomplete, not "${f.status}".`;
  for (const [name, day] of [
    ['Received from', f.from],
    ['Received to', f.to],
  ] as const) {
    if (day && !dayStart(day)) return `${name}: "${day}" is not a date (YYYY-MM-DD).`;
  }
  if (f.from && f.to && f.from > f.to) return 'Received from is after received to.';
  return undefined;
}

function summaryQuery(engine: Engine, firmId: string) {
  return (
    engine.db
      .selectFrom('files')
      // A file's run is linked when the file ends; while it runs, its run is found by file_id, and its
      // counts are those of the batches committed so far.
      .leftJoin('runs', (j) =>
        j.on(
          sql<boolean>`runs.id = coalesce(files.run_id, (select max(r2.id) from runs r2 where r2.file_id = files.id))`,
        ),
      )
      .select([
        'files.id',
        'files.name',
        'files.template',
        'files.status',
        'files.received_at',
        'files.started_at',
        'files.finished_at',
        'files.acknowledged_at',
        'files.message',
        'files.run_id',
        'files.job_id',
        'runs.id as current_run_id',
        ...RUN_COUNT_COLUMNS,
      ])
      .where('files.firm_id', '=', firmId)
      .where('files.folder', '=', 'Import')
  );
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof summaryQuery>['execute']>>[number];

function toSummary(r: SummaryRow): FileSummary {
  return {
    id: Number(r.id),
    name: r.name,
    template: r.template,
    status: r.status,
    receivedAt: r.received_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    acknowledgedAt: r.acknowledged_at,
    message: r.message,
    runId: r.run_id ?? (r.current_run_id === null ? null : Number(r.current_run_id)),
    jobId: r.job_id,
    rows: joinedCounts(r),
  };
}

/** Interrupted and Incomplete files not yet acknowledged (or all of them), newest first. */
export async function needAttention(
  engine: Engine,
  firmId: string,
  f: FileFilter,
  page: { limit: number; offset: number },
): Promise<{ files: FileSummary[]; total: number }> {
  let q = summaryQuery(engine, firmId);
  const statuses =
    f.status && (ATTENTION_STATUSES as readonly string[]).includes(f.status)
      ? [f.status]
      : [...ATTENTION_STATUSES];
  q = q.where('files.status', 'in', statuses);
  if (!f.acknowledged) q = q.where('files.acknowledged_at', 'is', null);
  if (f.template) q = q.where('files.template', '=', f.template);
  const from = f.from ? dayStart(f.from, f.timezone) : undefined;
  const to = f.to ? dayStart(f.to, f.timezone, 1) : undefined;
  if (from) q = q.where('files.received_at', '>=', from);
  // A bound past year 9999 (to=9999-12-31) is no bound: its ISO text (+010000-...) does not sort.
  if (to && !to.startsWith('+')) q = q.where('files.received_at', '<', to);
  const total = await q
    .clearSelect()
    .select((e) => e.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const rows = await q.orderBy('files.id', 'desc').limit(page.limit).offset(page.offset).execute();
  return { files: rows.map(toSummary), total: Number(total.n) };
}

/** One import file of the firm, or undefined. */
export async function fileOf(engine: Engine, firmId: string, id: number): Promise<FileSummary | undefined> {
  if (!Number.isSafeInteger(id)) return undefined;
  const r = await summaryQuery(engine, firmId).where('files.id', '=', id).executeTakeFirst();
  return r && toSummary(r);
}

export interface RowErrorView {
  row: number;
  column: string;
  value: string | null;
  message: string;
}

/** A page of a file's rejected rows' problems, in row order, and how many there are in all. */
export async function fileErrors(
  engine: Engine,
  firmId: string,
  file: FileSummary,
  page: { limit: number; offset: number },
): Promise<{ errors: RowErrorView[]; total: number }> {
  if (file.runId === null) return { errors: [], total: 0 };
  const base = engine.db
    .selectFrom('run_errors')
    .where('run_id', '=', file.runId)
    .where('firm_id', '=', firmId);
  const [count, rows] = await Promise.all([
    base.select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    base
      .select(['row_number', 'column_name', 'value', 'message'])
      .orderBy('row_number')
      .orderBy('id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
  ]);
  return {
    total: Number(count.n),
    errors: rows.map((r) => ({
      row: r.row_number,
      column: r.column_name,
      value: r.value,
      message: r.message,
    })),
  };
}

/** The result file (the rejected rows with their errors) of an import file, if it has one. */
export async function resultFileOf(engine: Engine, firmId: string, fileId: number) {
  return engine.db
    .selectFrom('files')
    .select(['id', 'name', 'size', 'content_key'])
    .where('firm_id', '=', firmId)
    .where('folder', '=', 'Results')
    .where('source_file_id', '=', fileId)
    .where('status', '=', 'ready')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

export interface CommentView {
  id: number;
  author: string;
  body: string;
  createdAt: string;
}

export async function commentsOf(engine: Engine, firmId: string, fileId: number): Promise<CommentView[]> {
  const rows = await engine.db
    .selectFrom('file_comments')
    .select(['id', 'author', 'body', 'created_at'])
    .where('firm_id', '=', firmId)
    .where('file_id', '=', fileId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), author: r.author, body: r.body, createdAt: r.created_at }));
}

export const COMMENT_MAX = 4000;

/** Adds a comment to a file of the firm: undefined if the firm has no such file. */
export async function addComment(
  engine: Engine,
  firmId: string,
  fileId: number,
  author: string,
  body: string,
): Promise<CommentView | undefined> {
  if (!(await fileOf(engine, firmId, fileId))) return undefined;
  const createdAt = new Date().toISOString();
  const r = await engine.db
    .insertInto('file_comments')
    .values({ firm_id: firmId, file_id: fileId, author, body, created_at: createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(r.id), author, body, createdAt };
}

/** Why a file cannot be acknowledged (only a file that needs attention can be), or undefined. */
export function notAcknowledgeable(file: FileSummary): string | undefined {
  if ((ATTENTION_STATUSES as readonly string[]).includes(file.status)) return undefined;
  return `Only an Interrupted or Incomplete file can be acknowledged; this one is ${file.status}.`;
}

/**
 * Acknowledges an Interrupted or Incomplete file of the firm (the caller has read it): it leaves Need
 * Attention and stays findable. The file as it is after (acknowledging twice keeps the first time).
 */
export async function acknowledge(
  engine: Engine,
  firmId: string,
  file: FileSummary,
): Promise<FileSummary | undefined> {
  const fileId = file.id;
  if ((ATTENTION_STATUSES as readonly string[]).includes(file.status) && !file.acknowledgedAt) {
    const at = new Date().toISOString();
    await engine.db
      .updateTable('files')
      .set({ acknowledged_at: at })
      .where('id', '=', fileId)
      .where('firm_id', '=', firmId)
      .where('acknowledged_at', 'is', null)
      .execute();
    if (file.runId !== null) {
      await engine.db
        .updateTable('runs')
        .set({ acknowledged_at: at })
        .where('id', '=', file.runId)
        .where('firm_id', '=', firmId)
        .execute();
    }
  }
  return fileOf(engine, firmId, fileId);
}

export interface JobFile {
  id: number;
  folder: string;
  name: string;
  status: string;
  template: string | null;
  rows: { total: number; created: number; updated: number; unchanged: number; rejected: number };
}

export interface JobReport {
  id: number;
  kind: string;
  trigger: string;
  taskId: number | null;
  dueAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  message: string | null;
  files: JobFile[];
}

/**
 * Completed runs with the job status report: the firm's finished jobs, newest first, each with its
 * files (imported, or exported) and their counts.
 */
export async function completedJobs(
  engine: Engine,
  firmId: string,
  page: { limit: number; offset: number },
): Promise<{ jobs: JobReport[]; total: number }> {
  const base = engine.db.selectFrom('jobs').where('firm_id', '=', firmId).where('status', '=', 'done');
  const [count, rows] = await Promise.all([
    base.select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    base
      .select(['id', 'kind', 'trigger', 'task_id', 'due_at', 'started_at', 'finished_at', 'message'])
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
  ]);
  const ids = rows.map((r) => Number(r.id));
  const files =
    ids.length === 0
      ? []
      : await engine.db
          .selectFrom('files')
          .leftJoin('runs', 'runs.id', 'files.run_id')
          .select([
            'files.id',
            'files.job_id',
            'files.folder',
            'files.name',
            'files.status',
            'files.template',
            ...RUN_COUNT_COLUMNS,
          ])
          .where('files.firm_id', '=', firmId)
          .where('files.job_id', 'in', ids)
          .where('files.folder', 'in', ['Import', 'Export'])
          .where('files.status', '<>', 'superseded')
          .orderBy('files.id')
          .execute();
  const byJob = new Map<number, JobFile[]>();
  for (const f of files) {
    const list = byJob.get(Number(f.job_id)) ?? [];
    list.push({
      id: Number(f.id),
      folder: f.folder,
      name: f.name,
      status: f.status,
      template: f.template,
      rows: joinedCounts(f),
    });
    byJob.set(Number(f.job_id), list);
  }
  return {
    total: Number(count.n),
    jobs: rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      trigger: r.trigger,
      taskId: r.task_id,
      dueAt: r.due_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      message: r.message,
      files: byJob.get(Number(r.id)) ?? [],
    })),
  };
}

export interface BillingReport {
  period: 'month' | 'year';
  periodStart: string;
  /** Rows allowed in the period; null: no limit. */
  allowance: number | null;
  used: number;
  left: number | null;
  /** Records billed per day of the period, in the firm's time zone (every day up to today). */
  days: Array<{ day: string; records: number }>;
  /** Records billed per run of the period, newest first. */
  runs: Array<{
    runId: number;
    jobId: number | null;
    file: string;
    template: string;
    startedAt: string;
    records: number;
  }>;
}

/** The firm's allowance, what the current billing period used and has left, by day and by run. */
export async function billing(
  engine: Engine,
  firm: { id: string; timezone: string; billingPeriod: 'month' | 'year'; recordLimit: number | null },
  now = new Date(),
): Promise<BillingReport> {
  const start = DateTime.fromJSDate(now, { zone: firm.timezone }).startOf(firm.billingPeriod);
  const rows = await engine.db
    .selectFrom('runs')
    .leftJoin('files', 'files.id', 'runs.file_id')
    .select([
      'runs.id',
      'runs.file_name',
      'runs.template',
      'runs.started_at',
      'runs.billed_rows',
      'files.job_id',
    ])
    .where('runs.firm_id', '=', firm.id)
    .where('runs.kind', '=', 'import')
    .where('runs.started_at', '>=', start.toUTC().toISO()!)
    .orderBy('runs.id', 'desc')
    .execute();
  const perDay = new Map<string, number>();
  for (let d = start; d <= DateTime.fromJSDate(now, { zone: firm.timezone }); d = d.plus({ days: 1 })) {
    perDay.set(d.toISODate()!, 0);
  }
  let used = 0;
  for (const r of rows) {
    const n = Number(r.billed_rows);
    used += n;
    const day = DateTime.fromISO(r.started_at, { zone: firm.timezone }).toISODate()!;
    perDay.set(day, (perDay.get(day) ?? 0) + n);
  }
  return {
    period: firm.billingPeriod,
    periodStart: start.toUTC().toISO()!,
    allowance: firm.recordLimit,
    used,
    left: firm.recordLimit === null ? null : Math.max(0, firm.recordLimit - used),
    days: [...perDay].map(([day, records]) => ({ day, records })),
    runs: rows
      .filter((r) => Number(r.billed_rows) > 0)
      .map((r) => ({
        runId: Number(r.id),
        jobId: r.job_id,
        file: r.file_name,
        template: r.template,
        startedAt: r.started_at,
        records: Number(r.billed_rows),
      })),
  };
}
