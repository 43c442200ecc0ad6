// Migration 3: the integration server. Tasks (a firm's scheduled or on-arrival imports and exports),
// jobs (one run of a task: the article's "job", grouping the files it took), the file ledger (every
// file received, produced or offered for download, with its state; it is also the workers' queue), file
// contents for stores that keep files in the database, and server settings (the SFTP host key).
import { type Kysely, sql } from 'kysely';
import type { Engine } from '../engine.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('tasks')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    // null for the system's own tasks (the 90-day purge)
    .addColumn('firm_id', 'text', (c) => c.references('firms.id'))
    .addColumn('kind', 'text', (c) => c.notNull()) // import | export | purge
    .addColumn('template', 'text') // export tasks
    .addColumn('scope', 'text') // export tasks: full | delta
    .addColumn('cron', 'text') // null for an on-arrival import task
    .addColumn('on_arrival', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
    // The due time of the last job created for it: a missed tick is created once, after it.
    .addColumn('last_due_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tasks_firm').on('tasks').columns(['firm_id', 'id']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text')
    .addColumn('task_id', 'integer', (c) => c.references('tasks.id'))
    .addColumn('trigger', 'text', (c) => c.notNull()) // schedule | arrival | manual | cli
    .addColumn('kind', 'text', (c) => c.notNull()) // import | export | purge
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // queued | running | done
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('not_before', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('message', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  // A due run is created once, however many schedulers see it.
  await db.schema.createIndex('jobs_due').on('jobs').columns(['task_id', 'due_at']).unique().execute();
  await db.schema.createIndex('jobs_queue').on('jobs').columns(['status', 'kind']).execute();
  await db.schema.createIndex('jobs_firm').on('jobs').columns(['firm_id', 'created_at']).execute();

  await db.schema
    .createTable('files')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text', (c) => c.notNull().references('firms.id'))
    .addColumn('folder', 'text', (c) => c.notNull()) // Import | Results | Export
    .addColumn('name', 'text', (c) => c.notNull())
    // Import files are applied in this order: template order, file date, suffix (templates.md).
    .addColumn('run_order', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('template', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    // Where the content is: a key in the file store (data folder or file_chunks).
    .addColumn('content_key', 'text')
    // Import: received | queued | running | completed | incomplete | interrupted | superseded.
    // Results and Export: ready | deleted.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('job_id', 'integer')
    .addColumn('run_id', 'integer')
    .addColumn('source_file_id', 'integer') // a result file: the import file it describes
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('not_before', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('message', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('acknowledged_at', 'text')
    .execute();
  await db.schema
    .createIndex('files_queue')
    .on('files')
    .columns(['status', 'firm_id', 'run_order', 'id'])
    .execute();
  await db.schema
    .createIndex('files_folder')
    .on('files')
    .columns(['firm_id', 'folder', 'status', 'name'])
    .execute();
  await db.schema.createIndex('files_received').on('files').columns(['received_at']).execute();
  // One file of a name waits in Import at a time: a later upload of the name supersedes it, even when
  // two uploads of it are committed at the same moment on two nodes.
  await db.schema
    .createIndex('files_waiting_name')
    .on('files')
    .columns(['firm_id', 'name'])
    .unique()
    .where(sql.ref('folder'), '=', 'Import')
    .where(sql.ref('status'), '=', 'received')
    .execute();

  await db.schema
    .createTable('file_chunks')
    .addColumn('content_key', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', engine.kind === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('file_chunks_pk', ['content_key', 'seq'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  // A name offered for download is one file: a new result replaces the old (superseding it first), an
  // export of the same name takes _2, _3 ...
  await db.schema
    .createIndex('files_ready_name')
    .on('files')
    .columns(['firm_id', 'folder', 'name'])
    .unique()
    .where(sql.ref('status'), '=', 'ready')
    .execute();
  await db.schema.alterTable('runs').addColumn('file_id', 'integer').execute();
  await db.schema.alterTable('runs').addColumn('job_id', 'integer').execute();
  // The lease a run works under: it is alive exactly as long as that lease (no host or process guesses).
  await db.schema.alterTable('runs').addColumn('lease_name', 'text').execute();
  await db.schema.alterTable('runs').addColumn('lease_owner', 'text').execute();
  await db.schema.createIndex('runs_file_id').on('runs').columns(['file_id']).execute();

  const now = new Date().toISOString();
  // The article's default for every firm: an import daily at 02:00 in the firm's time zone.
  await sql`insert into tasks (firm_id, kind, cron, on_arrival, paused, created_at, updated_at)
            select id, 'import', '0 2 * * *', 0, 0, ${now}, ${now} from firms`.execute(db);
  // The 90-day window: run details, errors and stored files older than that are purged daily.
  await sql`insert into tasks (firm_id, kind, cron, on_arrival, paused, created_at, updated_at)
            values (null, 'purge', '30 3 * * *', 0, 0, ${now}, ${now})`.execute(db);
}
