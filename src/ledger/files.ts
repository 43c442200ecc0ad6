// The file ledger, which is also the workers' queue. Every file the site receives is a row that moves
// through explicit states:
//
//   received ──(a due run of an import task, or on arrival)──> queued ──(claim)──> running
//   running ──> completed | incomplete | interrupted                      (final)
//   running ──(worker died: its firm lease expired)──> claimed again, resumed from the run's checkpoint
//   running ──(outage)──> queued with a back-off; after MAX attempts ──> interrupted, with the reason
//   received ──(the same name uploaded again before it was picked up)──> superseded
//
// Result and export files are rows too (folder Results or Export, status ready), so a node serves them
// from the store, not from its disk. The whole queue contract (receive, queue, claim, retry, release,
// finish) is here; the contents live in the file store (src/store/file-store.ts).
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { enqueue } from '../notify/notify.js';
import type { Engine } from '../store/engine.js';
import type { FileStore } from '../store/file-store.js';
import type { Database, FileTable } from '../store/schema.js';
import { recogniseFileName, runOrderKey } from '../templates/file-names.js';
import type { Lease } from './leases.js';
import { countsOf } from './runs.js';

type Db = Kysely<Database> | Transaction<Database>;
export type LedgerFile = Selectable<FileTable>;

export type ImportFileStatus =
  | 'received'
  | 'queued'
  | 'running'
  | 'completed'
  | 'incomplete'
  | 'interrupted'
  | 'superseded';
export type FinalStatus = 'completed' | 'incomplete' | 'interrupted';
export const FINAL_STATUSES: readonly FinalStatus[] = ['completed', 'incomplete', 'interrupted'];
export type OutputFolder = 'Results' | 'Export';

/** How many times a file is started before it stops as Interrupted (CASEPORT_MAX_ATTEMPTS, default 5). */
export function maxAttempts(): number {
  const v = Number(process.env.CASEPORT_MAX_ATTEMPTS);
  return Number.isInteger(v) && v >= 1 ? v : 5;
}

const nowIso = () => new Date().toISOString();

/** The wait before attempt n + 1 of a file or job: 1 s, 2 s, 4 s ... up to 5 minutes. */
export const backoffMs = (attempts: number) => Math.min(5 * 60_000, 1000 * 2 ** Math.max(0, attempts - 1));

export interface Arrival {
  firmId: string;
  /** The file's name in Import, as uploaded. */
  name: string;
  /** Where its bytes are now (the store copies them). */
  localPath: string;
  /** A job the file joins at once (the CLI's own), instead of waiting for a task. */
  jobId?: number;
  /**
   * The same name and content already waiting or stopped part-way (a command that was killed): that
   * row is taken up again instead of a new one, so its run resumes and it is never run twice. Only
   * under the firm's lease.
   */
  adopt?: boolean;
}

/**
 * A complete file arrives in Import: its content and its ledger row are committed together. An earlier
 * upload of the same name still waiting is superseded. With an on-arrival import task, the file joins
 * the firm's open arrival job and is queued at once; otherwise it waits for the next due import.
 */
export async function receiveFile(engine: Engine, store: FileStore, a: Arrival): Promise<LedgerFile> {
  // Two uploads of one name committed at once: the unique index on waiting names refuses the second,
  // which then supersedes the first.
  for (let attempt = 1; ; attempt++) {
    try {
      return await receiveOnce(engine, store, a);
    } catch (e) {
      if (attempt >= 50 || !engine.isRowDataError(e)) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt, 5)));
    }
  }
}

async function receiveOnce(engine: Engine, store: FileStore, a: Arrival): Promise<LedgerFile> {
  return engine.db.transaction().execute(async (trx) => {
    const content = await store.put(trx, a.localPath);
    if (a.adopt) {
      const earlier = await trx
        .selectFrom('files')
        .select('id')
        .where('firm_id', '=', a.firmId)
        .where('folder', '=', 'Import')
        .where('name', '=', a.name)
        .where('sha256', '=', content.sha256)
        .where('status', 'in', ['received', 'queued', 'running'])
        .orderBy('id')
        .executeTakeFirst();
      if (earlier) {
        await store.remove(trx, [content.key]);
        return trx
          .updateTable('files')
          .set({ status: 'queued', job_id: a.jobId ?? null, lease_owner: null, not_before: null })
          .where('id', '=', earlier.id)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
    }
    let template: string | null = null;
    try {
      template = recogniseFileName(a.name).template.name;
    } catch {
      // an unrecognised name is received all the same: its run says why it was refused
    }
    await trx
      .updateTable('files')
      .set({
        status: 'superseded',
        finished_at: nowIso(),
        message: 'replaced by a later upload of the same name',
      })
      .where('firm_id', '=', a.firmId)
      .where('folder', '=', 'Import')
      .where('name', '=', a.name)
      .where('status', '=', 'received')
      .execute();
    const jobId = a.jobId ?? (await arrivalJob(trx, a.firmId));
    return trx
      .insertInto('files')
      .values({
        firm_id: a.firmId,
        folder: 'Import',
        name: a.name,
        run_order: runOrderKey(a.name),
        template,
        size: content.size,
        sha256: content.sha256,
        content_key: content.key,
        status: jobId === undefined ? 'received' : 'queued',
        job_id: jobId ?? null,
        received_at: nowIso(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** The firm's arrival job still waiting to start, or a new one; undefined without an on-arrival task. */
async function arrivalJob(trx: Transaction<Database>, firmId: string): Promise<number | undefined> {
  const task = await trx
    .selectFrom('tasks')
    .select('id')
    .where('firm_id', '=', firmId)
    .where('kind', '=', 'import')
    .where('on_arrival', '=', 1)
    .where('paused', '=', 0)
    .orderBy('id')
    .executeTakeFirst();
  if (!task) return undefined;
  const open = await trx
    .selectFrom('jobs')
    .select('id')
    .where('task_id', '=', task.id)
    .where('status', '=', 'queued')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (open) return Number(open.id);
  return createJob(trx, { firmId, taskId: task.id, trigger: 'arrival', kind: 'import', dueAt: nowIso() });
}

export interface NewJob {
  firmId: string | null;
  taskId: number | null;
  trigger: 'schedule' | 'arrival' | 'manual' | 'cli';
  kind: 'import' | 'export' | 'purge';
  /** The instant the job is for (ISO UTC): with the task, its unique key. */
  dueAt: string;
}

/** Creates a job once: undefined when the task already has a job for that due time. */
export async function createJob(db: Db, j: NewJob): Promise<number | undefined> {
  const row = await db
    .insertInto('jobs')
    .values({
      firm_id: j.firmId,
      task_id: j.taskId,
      trigger: j.trigger,
      kind: j.kind,
      due_at: j.dueAt,
      status: 'queued',
      created_at: nowIso(),
    })
    .onConflict((oc) => oc.columns(['task_id', 'due_at']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

/** A due import job takes every file of its firm received up to its due time. */
export async function queueReceived(db: Db, firmId: string, jobId: number, upTo: string): Promise<number> {
  const r = await db
    .updateTable('files')
    .set({ status: 'queued', job_id: jobId })
    .where('firm_id', '=', firmId)
    .where('folder', '=', 'Import')
    .where('status', '=', 'received')
    .where('received_at', '<=', upTo)
    .executeTakeFirst();
  const n = Number(r.numUpdatedRows);
  if (n === 0)
    await db
      .updateTable('jobs')
      .set({ status: 'done', finished_at: nowIso(), message: 'no files' })
      .where('id', '=', jobId)
      .execute();
  return n;
}

/** Firms with a file to run now (queued, or running under a lease that may have expired). */
export async function firmsWithWork(engine: Engine): Promise<string[]> {
  const rows = await engine.db
    .selectFrom('files')
    .select('firm_id')
    .distinct()
    .where('status', 'in', ['queued', 'running'])
    .where('folder', '=', 'Import')
    .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<=', engine.clockMs() as never)]))
    .execute();
  return rows.map((r) => r.firm_id);
}

/**
 * Claims the firm's next file, holding the firm's import lease: a file left running by a worker that
 * died comes first (it resumes), then the files in run order (job, template order, date, suffix). One
 * statement; the first file waiting out a back-off holds the ones after it back, so order is kept.
 */
export async function claimFile(
  engine: Engine,
  firmId: string,
  lease: Lease,
): Promise<(LedgerFile & { takenOver: boolean }) | undefined> {
  return engine.db.transaction().execute(async (trx) => {
    await lease.confirm(trx);
    // Under the firm's lease, a file still running is a dead worker's: it is taken over.
    const stale = await trx
      .selectFrom('files')
      .select('id')
      .where('firm_id', '=', firmId)
      .where('folder', '=', 'Import')
      .where('status', '=', 'running')
      .limit(1)
      .executeTakeFirst();
    const r = await sql<LedgerFile>`
      update files set status = 'running', attempts = attempts + 1, lease_owner = ${lease.owner},
             started_at = coalesce(started_at, ${nowIso()}), not_before = null
      where id = (
        select id from files
        where firm_id = ${firmId} and folder = 'Import' and status in ('queued', 'running')
        order by case when status = 'running' then 0 else 1 end, job_id, run_order, id
        limit 1 ${engine.skipLocked()}
      ) and (not_before is null or not_before <= ${engine.clockMs()})
      returning *`.execute(trx);
    const file = r.rows[0];
    if (file?.job_id != null) {
      await trx
        .updateTable('jobs')
        .set({ status: 'running', started_at: nowIso() })
        .where('id', '=', file.job_id)
        .where('status', '=', 'queued')
        .execute();
    }
    return file ? { ...file, takenOver: stale?.id === file.id } : undefined;
  });
}

/** Claims one given file (the command line runs the files it was given, under the firm's lease). */
export async function claimThisFile(engine: Engine, fileId: number, lease: Lease): Promise<LedgerFile> {
  return engine.db.transaction().execute(async (trx) => {
    await lease.confirm(trx);
    return trx
      .updateTable('files')
      .set((eb) => ({
        status: 'running',
        attempts: eb('attempts', '+', 1),
        lease_owner: lease.owner,
        started_at: nowIso(),
        not_before: null,
      }))
      .where('id', '=', fileId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** The file's final status, with its run; its job is done once none of its files is left to run. */
export async function finishFile(
  db: Db,
  fileId: number,
  f: { status: FinalStatus; runId: number | null; message: string | null },
): Promise<void> {
  const row = await db
    .updateTable('files')
    .set({ status: f.status, run_id: f.runId, message: f.message, finished_at: nowIso(), lease_owner: null })
    .where('id', '=', fileId)
    .returning(['job_id', 'firm_id', 'name', 'template'])
    .executeTakeFirst();
  if (row && f.status !== 'completed') {
    const run =
      f.runId === null
        ? undefined
        : await db.selectFrom('runs').selectAll().where('id', '=', f.runId).executeTakeFirst();
    await enqueue(db, row.firm_id, 'attention', {
      fileId,
      file: row.name,
      template: row.template,
      status: f.status,
      message: f.message,
      runId: f.runId,
      rows: run ? countsOf(run) : undefined,
    });
  }
  if (row?.job_id != null) await closeJobIfDone(db, row.job_id);
}

async function closeJobIfDone(db: Db, jobId: number): Promise<void> {
  const left = await db
    .selectFrom('files')
    .select('id')
    .where('job_id', '=', jobId)
    .where('status', 'in', ['queued', 'running'])
    .limit(1)
    .executeTakeFirst();
  if (!left) {
    const job = await db
      .updateTable('jobs')
      .set({ status: 'done', finished_at: nowIso() })
      .where('id', '=', jobId)
      .where('status', '<>', 'done')
      .returning(['firm_id', 'kind', 'trigger', 'started_at', 'finished_at'])
      .executeTakeFirst();
    if (job?.firm_id) await notifyJobDone(db, job.firm_id, jobId, job);
  }
}

/** A run (job) completed: its notifications, with its files and their statuses. */
export async function notifyJobDone(
  db: Db,
  firmId: string,
  jobId: number,
  job: { kind: string; trigger: string; started_at: string | null; finished_at: string | null },
  /** Why the run stopped short (an export that failed): told as needing attention. */
  failed: string | null = null,
): Promise<void> {
  const files = await db
    .selectFrom('files')
    .select(['id', 'name', 'status', 'folder'])
    .where('job_id', '=', jobId)
    .where('status', '<>', 'superseded')
    .where('folder', 'in', ['Import', 'Export'])
    .orderBy('id')
    .execute();
  await enqueue(db, firmId, failed ? 'attention' : 'completed', {
    jobId,
    ...(failed ? { message: failed } : {}),
    kind: job.kind,
    trigger: job.trigger,
    startedAt: job.started_at,
    finishedAt: job.finished_at,
    files: files.map((f) => ({ id: Number(f.id), name: f.name, status: f.status, folder: f.folder })),
  });
}

/**
 * A file that could not run now (the database or the disk failed): queued again after a back-off that
 * doubles with each attempt, or Interrupted with the reason once it has had its attempts.
 */
export async function retryFile(
  engine: Engine,
  file: LedgerFile,
  reason: string,
): Promise<'retry' | FinalStatus> {
  if (file.attempts >= maxAttempts()) {
    await finishFile(engine.db, file.id, {
      status: 'interrupted',
      runId: file.run_id,
      message: `stopped after ${file.attempts} attempts: ${reason}`,
    });
    return 'interrupted';
  }
  const backoff = backoffMs(file.attempts);
  await engine.db
    .updateTable('files')
    .set((eb) => ({
      status: 'queued',
      message: `attempt ${file.attempts} failed: ${reason}`,
      not_before: eb.parens(engine.clockMs(), '+', backoff) as never,
      lease_owner: null,
    }))
    .where('id', '=', file.id)
    .execute();
  return 'retry';
}

/** A worker stopping (SIGTERM) gives the file back: it is claimed again, and resumes, not counted twice. */
export async function releaseFile(engine: Engine, file: LedgerFile): Promise<void> {
  await engine.db
    .updateTable('files')
    .set((eb) => ({ status: 'queued', attempts: eb('attempts', '-', 1), lease_owner: null }))
    .where('id', '=', file.id)
    .where('status', '=', 'running')
    .execute();
}

/** Links the run to the file as soon as it exists, so a resumed file finds it. */
export async function linkRun(db: Db, fileId: number, runId: number): Promise<void> {
  await db.updateTable('files').set({ run_id: runId }).where('id', '=', fileId).execute();
}

export interface Output {
  firmId: string;
  folder: OutputFolder;
  name: string;
  localPath: string;
  /** The import file a result file describes. */
  sourceFileId?: number;
  jobId?: number | null;
  runId?: number | null;
}

/** A result or export file offered for download; an earlier one of the same name is replaced. */
export async function storeOutput(
  trx: Transaction<Database>,
  store: FileStore,
  o: Output,
): Promise<LedgerFile> {
  const content = await store.put(trx, o.localPath);
  await trx
    .updateTable('files')
    .set({ status: 'superseded', finished_at: nowIso() })
    .where('firm_id', '=', o.firmId)
    .where('folder', '=', o.folder)
    .where('name', '=', o.name)
    .where('status', '=', 'ready')
    .execute();
  return trx
    .insertInto('files')
    .values({
      firm_id: o.firmId,
      folder: o.folder,
      name: o.name,
      run_order: '',
      size: content.size,
      sha256: content.sha256,
      content_key: content.key,
      status: 'ready',
      job_id: o.jobId ?? null,
      run_id: o.runId ?? null,
      source_file_id: o.sourceFileId ?? null,
      received_at: nowIso(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The first of `name`, `<name>_2.csv`, `<name>_3.csv` ... that no ready file of the folder has (a unique
 * index on ready names guards against two exports choosing at the same moment).
 */
export async function freeOutputName(
  db: Db,
  firmId: string,
  folder: OutputFolder,
  name: string,
): Promise<string> {
  const base = name.replace(/\.csv$/i, '');
  const taken = new Set(
    (
      await db
        .selectFrom('files')
        .select('name')
        .where('firm_id', '=', firmId)
        .where('folder', '=', folder)
        .where('status', '=', 'ready')
        .where('name', 'like', `${base}%`) // a superset (wildcards in the name match more): exact names are compared below
        .execute()
    ).map((r) => r.name),
  );
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${base}_${n}.csv`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** What a firm sees in a folder of its site: Import, the files not yet picked up; else the ready files. */
export async function listFolder(engine: Engine, firmId: string, folder: 'Import' | OutputFolder) {
  return engine.db
    .selectFrom('files')
    .select(['id', 'name', 'size', 'received_at', 'content_key'])
    .where('firm_id', '=', firmId)
    .where('folder', '=', folder)
    .where('status', 'in', folder === 'Import' ? ['received', 'queued'] : ['ready'])
    .orderBy('name')
    .orderBy('id')
    .execute();
}

/** A ready file of Results or Export by name. */
export async function findOutput(engine: Engine, firmId: string, folder: OutputFolder, name: string) {
  return engine.db
    .selectFrom('files')
    .selectAll()
    .where('firm_id', '=', firmId)
    .where('folder', '=', folder)
    .where('name', '=', name)
    .where('status', '=', 'ready')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** Deletes a downloaded export file (its content is removed with its row). */
export async function removeOutput(
  engine: Engine,
  store: FileStore,
  firmId: string,
  name: string,
): Promise<boolean> {
  return engine.db.transaction().execute(async (trx) => {
    const rows = await trx
      .updateTable('files')
      .set({ status: 'deleted', finished_at: nowIso(), content_key: null })
      .where('firm_id', '=', firmId)
      .where('folder', '=', 'Export')
      .where('name', '=', name)
      .where('status', '=', 'ready')
      .returning('content_key')
      .execute();
    await store.remove(
      trx,
      rows.map((r) => r.content_key).filter((k): k is string => k !== null),
    );
    return rows.length > 0;
  });
}

/** Of `keys`, those a file row still names (the rest may be swept from the file store). */
export async function namedContents(engine: Engine, keys: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await engine.db
      .selectFrom('files')
      .select('content_key')
      .where(engine.inList('content_key', keys.slice(i, i + 500)))
      .execute();
    for (const r of rows) if (r.content_key) out.add(r.content_key);
  }
  return out;
}

/** A file of the same name completed: its earlier result file no longer describes anything. */
export async function supersedeResult(db: Db, firmId: string, resultName: string): Promise<void> {
  await db
    .updateTable('files')
    .set({ status: 'superseded', finished_at: nowIso() })
    .where('firm_id', '=', firmId)
    .where('folder', '=', 'Results')
    .where('name', '=', resultName)
    .where('status', '=', 'ready')
    .execute();
}
