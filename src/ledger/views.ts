// The run reports of the product, read from the ledger: what needs attention (Incomplete and Interrupted
// files not yet acknowledged), completed files, and every file, newest first, with its run's counts.
import type { Engine } from '../store/engine.js';
import { joinedCounts, RUN_COUNT_COLUMNS } from './runs.js';

export type RunsView = 'all' | 'need-attention' | 'completed';

export interface FileReport {
  fileId: number;
  runId: number | null;
  jobId: number | null;
  file: string;
  template: string | null;
  status: string;
  rows: { total: number; created: number; updated: number; unchanged: number; rejected: number };
  receivedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  message: string | null;
}

export async function fileReports(
  engine: Engine,
  firmId: string,
  view: RunsView,
  limit = 100,
): Promise<FileReport[]> {
  let q = engine.db
    .selectFrom('files')
    .leftJoin('runs', 'runs.id', 'files.run_id')
    .select([
      'files.id',
      'files.run_id',
      'files.job_id',
      'files.name',
      'files.template',
      'files.status',
      'files.received_at',
      'files.started_at',
      'files.finished_at',
      'files.attempts',
      'files.message',
      ...RUN_COUNT_COLUMNS,
    ])
    .where('files.firm_id', '=', firmId)
    .where('files.folder', '=', 'Import');
  if (view === 'need-attention') {
    q = q
      .where('files.status', 'in', ['incomplete', 'interrupted'])
      .where('files.acknowledged_at', 'is', null);
  } else if (view === 'completed') {
    q = q.where('files.status', '=', 'completed');
  } else {
    q = q.where('files.status', '<>', 'superseded');
  }
  const rows = await q.orderBy('files.id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    fileId: Number(r.id),
    runId: r.run_id,
    jobId: r.job_id,
    file: r.name,
    template: r.template,
    status: r.status,
    rows: joinedCounts(r),
    receivedAt: r.received_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    attempts: r.attempts,
    message: r.message,
  }));
}
