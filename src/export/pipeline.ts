// Exporting one template for one firm: choose the rows (all, changed since an instant, or changed since
// the task's last successful export), stream them chunk by chunk through the formatter into a temporary
// file, publish it under its final name, then record the run and move the task's mark. A failure at
// any point before the publish leaves no file and an unmoved mark, so the next delta still has the rows.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Transaction } from 'kysely';
import { templateUnknown, usageError } from '../errors.js';
import { makeFolder } from '../folders.js';
import { acquireLease, exportLeaseName, type Lease } from '../ledger/leases.js';
import { createRun } from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import { type Firm, getFirm } from '../store/firms.js';
import type { Database } from '../store/schema.js';
import { EXPORT_TEMPLATES, type ExportTemplate, findExportTemplate } from '../templates/export-templates.js';
import { localDay, parseInstant } from '../time/zones.js';
import { exportFileName, exportFileNames, temporaryName } from './file-name.js';
import { chunkFormatter } from './format.js';
import { commitExport, interruptExport, nextMark, readMark } from './marks.js';
import { readRecords } from './query.js';
import { exportRunAlive, interruptAbandonedExports } from './recovery.js';
import { openExportFile } from './writer.js';

/** Which rows: all of the firm's, those changed since an instant, or since the task's last export. */
export type ExportScope = { kind: 'all' } | { kind: 'since'; since: string | Date } | { kind: 'delta' };

export interface ExportOptions {
  firmId: string;
  template: ExportTemplate | string;
  /** The folder the file is published in (the firm's Export folder by default in the CLI). */
  outDir: string;
  scope?: ExportScope;
  /** The task whose mark a delta reads and moves; the template's name by default. */
  task?: string;
  /** When the export starts (tests); now by default. */
  now?: Date;
  /** Rows per chunk read, formatted and written. */
  chunkSize?: number;
  /**
   * Called inside the transaction that completes the run and moves the mark, with the published file:
   * the server stores it for download there, so the mark never moves without the file.
   */
  publish?(trx: Transaction<Database>, file: string): Promise<string | undefined>;
  /** The task's export lease, when the caller holds it (a worker); taken here otherwise. */
  lease?: Lease;
  /** Test hook: called after each chunk of rows is written; throwing from it fails the export. */
  afterChunk?(rowsWritten: number): void | Promise<void>;
}

export interface ExportResult {
  /** The published file; null when the export was interrupted. */
  file: string | null;
  template: string;
  rows: number;
  runId: number;
  status: 'completed' | 'interrupted';
  /** The lower bound of updated_at the rows were chosen by (ISO UTC); null for all rows. */
  since: string | null;
  message: string | null;
}

// Rows per chunk (and per PostgreSQL cursor read). Measured fastest on both engines (bench/export.ts):
// at 2,000 and more a chunk's rows and cell strings outlive young-generation collections.
const DEFAULT_CHUNK = 1000;

function templateOf(t: ExportTemplate | string): ExportTemplate {
  if (typeof t !== 'string') return t;
  const found = findExportTemplate(t);
  if (!found)
    throw templateUnknown(
      t,
      EXPORT_TEMPLATES.map((x) => x.name),
    );
  return found;
}

function sinceOf(scope: ExportScope, tz: string): string | null {
  if (scope.kind !== 'since') return null;
  if (scope.since instanceof Date) return scope.since.toISOString();
  const at = parseInstant(scope.since, tz);
  if (!at) {
    throw usageError(
      `--since "${scope.since}" is not an ISO 8601 instant: use e.g. 2026-11-20T08:00:00-08:00, ` +
        `2026-11-20T08:00 (in the firm's time zone ${tz}) or 2026-11-20 (midnight there)`,
    );
  }
  return at.toISOString();
}

/**
 * Runs one export under its task's lease: one task's exports never overlap, on any process, and the
 * run is alive exactly as long as the lease (an export killed mid-way is told by its lease expiring).
 */
export async function exportFile(engine: Engine, opts: ExportOptions): Promise<ExportResult> {
  const firm = await getFirm(engine, opts.firmId);
  const template = templateOf(opts.template);
  const task = opts.task ?? template.name;
  if (opts.lease) return exportUnderLease(engine, firm, template, task, opts, opts.lease);
  const lease = await acquireLease(engine, exportLeaseName(firm.id, task), {
    holder: `export of ${template.name}`,
  });
  try {
    return await exportUnderLease(engine, firm, template, task, opts, lease);
  } finally {
    await lease.release().catch(() => {}); // an expired lease is released by time
  }
}

async function exportUnderLease(
  engine: Engine,
  firm: Firm,
  template: ExportTemplate,
  task: string,
  opts: ExportOptions,
  lease: Lease,
): Promise<ExportResult> {
  const scope = opts.scope ?? { kind: 'all' };
  // An export of this template killed before publishing left its run `running`: record it Interrupted.
  await interruptAbandonedExports(engine, firm.id, template.name);
  // The start instant, taken before any row is read: the new mark (see nextMark).
  const startedAt = opts.now ?? new Date();
  let since = sinceOf(scope, firm.timezone);
  if (scope.kind === 'delta') since = (await readMark(engine.db, firm.id, task)) ?? null;
  const mark = await nextMark(engine, firm.id, startedAt);
  // Rows are chosen with updated_at >= since, and the next delta starts at this export's start: a row
  // written while this export runs may be sent twice, never skipped (at-least-once delivery).

  const plannedName = exportFileName(template.name, startedAt, firm.timezone);
  const outDir = path.resolve(opts.outDir);
  const runId = await createRun(engine.db, {
    firmId: firm.id,
    kind: 'export',
    template: template.name,
    fileName: plannedName,
    status: 'running',
    lease,
  });
  // While it runs, the run's file_path is the temporary file, named after the run: if its process dies,
  // the next export can tell by the run's lease (recovery.ts) and remove the file.
  const tmpName = temporaryName(template.name, runId, randomBytes(6).toString('hex'));
  await engine.db
    .updateTable('runs')
    .set({ file_path: path.join(outDir, tmpName) })
    .where('id', '=', runId)
    .execute();
  const result: ExportResult = {
    file: null,
    template: template.name,
    rows: 0,
    runId,
    status: 'interrupted',
    since,
    message: null,
  };

  const format = chunkFormatter(template, {
    dateFormat: firm.exportDateFormat,
    timezone: firm.timezone,
    today: localDay(startedAt, firm.timezone),
  });
  let out: Awaited<ReturnType<typeof openExportFile>> | undefined;
  let published: string | undefined;
  try {
    await makeFolder(outDir); // not mkdir's recursive: it spins on /proc/x (see folder.ts)
    out = await openExportFile({
      dir: outDir,
      prefix: template.name,
      name: tmpName,
      header: template.columns.map((c) => c.name),
      afterChunk: opts.afterChunk,
      runAlive: (id) => exportRunAlive(engine, id),
    });
    const chunks = readRecords(engine.db, template, {
      firmId: firm.id,
      since,
      chunkSize: opts.chunkSize ?? DEFAULT_CHUNK,
    });
    for await (const chunk of chunks) await out.write(format(chunk));
    published = await out.publish(exportFileNames(template.name, startedAt, firm.timezone));
    result.rows = out.rows;
    await commitExport(engine.db, {
      firmId: firm.id,
      runId,
      fileName: path.basename(published),
      filePath: published,
      rows: out.rows,
      // Only a delta moves its task's mark: a full export or --since answers another question, and the
      // task's next delta must still carry what its own last file did not.
      mark: scope.kind === 'delta' ? { task, at: mark } : undefined,
      // Only while the task's lease is still ours: otherwise another process has taken the task over.
      publish: async (trx, file) => {
        await lease.confirm(trx);
        return opts.publish?.(trx, file);
      },
    });
  } catch (e) {
    await out?.discard();
    const why = e instanceof Error ? e.message : String(e);
    result.message = published
      ? `${template.name}: ${path.basename(published)} was written but the export could not be recorded: ${why}; ` +
        'the next delta sends its rows again'
      : `${template.name}: export stopped after ${out?.rows ?? 0} rows: ${why}; no file was published and the ` +
        'next delta still contains every row';
    result.file = published ?? null;
    await interruptExport(engine.db, {
      runId,
      rows: out?.rows ?? 0,
      message: result.message,
      filePath: published ?? path.join(outDir, plannedName),
    });
    return result;
  }
  result.file = published;
  result.status = 'completed';
  return result;
}
