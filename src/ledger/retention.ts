// The 90-day window of the product: run details (the runs, their errors and rejected rows), the files
// received and produced, and the jobs older than that are purged, in small transactions so a purge never
// holds the store for long. Records and their audit trail are the firm's data and are kept.
import type { Engine } from '../store/engine.js';
import type { FileStore } from '../store/file-store.js';

export const RETENTION_DAYS = 90;
const PAGE = 500;

export interface Purged {
  runs: number;
  files: number;
  jobs: number;
}

/** Purges what finished before `cutoff` (ISO UTC). Files still waiting or running are never purged. */
export async function purgeBefore(engine: Engine, store: FileStore, cutoff: string): Promise<Purged> {
  const out: Purged = { runs: 0, files: 0, jobs: 0 };
  for (;;) {
    const files = await engine.db
      .selectFrom('files')
      .select(['id', 'content_key'])
      .where('received_at', '<', cutoff)
      .where('status', 'not in', ['received', 'queued', 'running'])
      .limit(PAGE)
      .execute();
    if (files.length === 0) break;
    await engine.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('files')
        .where(
          engine.inList(
            'id',
            files.map((f) => f.id),
          ),
        )
        .execute();
      await store.remove(
        trx,
        files.map((f) => f.content_key).filter((k): k is string => k !== null),
      );
    });
    out.files += files.length;
  }
  for (;;) {
    const runs = await engine.db
      .selectFrom('runs')
      .select('id')
      .where('started_at', '<', cutoff)
      .where('status', '<>', 'running')
      .limit(PAGE)
      .execute();
    if (runs.length === 0) break;
    const ids = runs.map((r) => r.id);
    await engine.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('run_errors').where(engine.inList('run_id', ids)).execute();
      await trx.deleteFrom('rejected_rows').where(engine.inList('run_id', ids)).execute();
      await trx.deleteFrom('runs').where(engine.inList('id', ids)).execute();
    });
    out.runs += runs.length;
  }
  const jobs = await engine.db
    .deleteFrom('jobs')
    .where('created_at', '<', cutoff)
    .where('status', '=', 'done')
    .executeTakeFirst();
  out.jobs = Number(jobs.numDeletedRows);
  return out;
}

export function retentionCutoff(now: Date): string {
  return new Date(now.getTime() - RETENTION_DAYS * 86_400_000).toISOString();
}
