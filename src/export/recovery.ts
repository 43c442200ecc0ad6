// Exports whose process died before publishing (kill -9, a crash, a power cut): their run stays
// `running` and their temporary file stays in the folder. A run is alive exactly as long as the lease it
// runs under (the task's export lease, renewed by its process); once that lease has expired or passed
// to another process, the run is abandoned: the next export of the template marks it Interrupted and
// removes its temporary file. Runs from before leases (no lease recorded) count as abandoned after an
// hour without a sign of life.
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Engine } from '../store/engine.js';

import type { Database } from '../store/schema.js';

/** A run without a lease (written before leases) is abandoned after this long without a sign of life. */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** The message of a run whose process ended before publishing. */
export function abandonedMessage(template: string): string {
  return (
    `${template}: the export did not finish: its process ended before publishing (its lease expired); ` +
    'nothing was published and the mark did not move, so the next delta still contains every row'
  );
}

/** Of the given running runs, those whose lease is no longer held by the process that started them. */
async function withoutLiveLease(engine: Engine, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const live = await engine.db
    .selectFrom('runs')
    .innerJoin('leases', (j) =>
      j.onRef('leases.name', '=', 'runs.lease_name').onRef('leases.owner', '=', 'runs.lease_owner'),
    )
    .select('runs.id')
    .where(engine.inList('runs.id', ids))
    .where('leases.expires_at', '>=', engine.clockMs() as never)
    .execute();
  const alive = new Set(live.map((r) => Number(r.id)));
  return new Set(ids.filter((id) => !alive.has(id)));
}

/** Whether export run `runId` is still being written by a live process (its temporary file is in use). */
export async function exportRunAlive(engine: Engine, runId: number): Promise<boolean> {
  const run = await engine.db
    .selectFrom('runs')
    .select(['status', 'lease_name'])
    .where('id', '=', runId)
    .executeTakeFirst();
  if (run?.status !== 'running' || !run.lease_name) return false;
  return !(await withoutLiveLease(engine, [runId])).has(runId);
}

/**
 * Marks the firm's abandoned `running` export runs of this template Interrupted and removes their
 * temporary files. Runs record the template, not the task: an abandoned run is over whichever task
 * it served. Returns the ids of the runs it marked.
 */
export async function interruptAbandonedExports(
  engine: Engine,
  firmId: string,
  template: string,
  now = Date.now(),
): Promise<number[]> {
  const runs = await engine.db
    .selectFrom('runs')
    .select(['id', 'started_at', 'file_name', 'file_path', 'lease_name'])
    .where('firm_id', '=', firmId)
    .where('kind', '=', 'export')
    .where('template', '=', template)
    .where('status', '=', 'running')
    .execute();
  const gone = await withoutLiveLease(
    engine,
    runs.filter((r) => r.lease_name !== null).map((r) => Number(r.id)),
  );
  const marked: number[] = [];
  for (const run of runs) {
    // A running export's file_path is the temporary file it writes (see pipeline.ts).
    const tmp = run.file_path ?? '';
    if (run.lease_name === null) {
      const st = tmp ? await stat(tmp).catch(() => undefined) : undefined;
      if (now - (st ? st.mtimeMs : Date.parse(run.started_at)) <= ABANDONED_AFTER_MS) continue;
    } else if (!gone.has(Number(run.id))) continue;
    if (tmp && path.basename(tmp).startsWith('.')) await unlink(tmp).catch(() => {});
    const updated = await (engine.db as Kysely<Database>)
      .updateTable('runs')
      .set({
        status: 'interrupted',
        finished_at: new Date(now).toISOString(),
        message: abandonedMessage(template),
        // as for any interrupted export: the name it would have been published under
        file_path: tmp ? path.join(path.dirname(tmp), run.file_name) : run.file_path,
      })
      .where('id', '=', run.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) marked.push(Number(run.id));
  }
  return marked;
}

/** Import runs of the firm still running under a live lease (or from before leases): their start. */
export async function oldestLiveImport(engine: Engine, firmId: string): Promise<string | undefined> {
  const row = await engine.db
    .selectFrom('runs')
    .leftJoin('leases', (j) =>
      j.onRef('leases.name', '=', 'runs.lease_name').onRef('leases.owner', '=', 'runs.lease_owner'),
    )
    .select((eb) => eb.fn.min<string>('runs.started_at').as('oldest'))
    .where('runs.firm_id', '=', firmId)
    .where('runs.kind', '=', 'import')
    .where('runs.status', '=', 'running')
    .where((eb) =>
      eb.or([eb('runs.lease_name', 'is', null), eb('leases.expires_at', '>=', engine.clockMs() as never)]),
    )
    .executeTakeFirst();
  return row?.oldest ?? undefined;
}
