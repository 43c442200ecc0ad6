// Exports whose process died before publishing (kill -9, a crash, a power cut): their run stays
// `running` and their temporary file stays in the folder. The next export of the template for the firm
// marks such runs Interrupted and removes their temporary file. A run is abandoned when its process is
// known to be gone (same machine, no such process) or nothing has shown life for an hour (its
// temporary file untouched, or missing since a start that long ago), whatever machine wrote it.
import { stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { type ExportOwner, hostToken, temporaryOwner } from './file-name.js';

/** Untouched this long, a temporary file (or a run without one) belongs to a process that died. */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** This process, as it signs the temporary files it writes. */
export function thisOwner(): ExportOwner {
  return { host: hostToken(hostname()), pid: process.pid };
}

/** Whether the owner's process still runs: undefined when this machine cannot tell (another host). */
export function ownerAlive(owner: ExportOwner | undefined): boolean | undefined {
  if (!owner || owner.host !== thisOwner().host) return undefined;
  try {
    process.kill(owner.pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: it exists, as another user
  }
}

/** Pure: an export is abandoned when its process is gone, or when it has shown no life for too long. */
export function isAbandoned(alive: boolean | undefined, idleMs: number): boolean {
  return alive === false || idleMs > ABANDONED_AFTER_MS;
}

/** The message of a run whose process ended before publishing. */
export function abandonedMessage(template: string, owner: ExportOwner | undefined): string {
  const who = owner ? ` (process ${owner.pid} on ${owner.host})` : '';
  return (
    `${template}: the export did not finish: its process${who} ended before publishing; nothing was ` +
    'published and the mark did not move, so the next delta still contains every row'
  );
}

/**
 * Marks the firm's abandoned `running` export runs of this template Interrupted and removes their
 * temporary files. Runs record the template, not the task: an abandoned run is over whichever task
 * it served. Returns the ids of the runs it marked.
 */
export async function interruptAbandonedExports(
  db: Kysely<Database>,
  firmId: string,
  template: string,
  now = Date.now(),
): Promise<number[]> {
  const runs = await db
    .selectFrom('runs')
    .select(['id', 'started_at', 'file_name', 'file_path'])
    .where('firm_id', '=', firmId)
    .where('kind', '=', 'export')
    .where('template', '=', template)
    .where('status', '=', 'running')
    .execute();
  const marked: number[] = [];
  for (const run of runs) {
    // A running export's file_path is the temporary file it writes (see pipeline.ts).
    const tmp = run.file_path ?? '';
    const owner = temporaryOwner(path.basename(tmp), template);
    const st = owner ? await stat(tmp).catch(() => undefined) : undefined;
    const lastSign = st ? st.mtimeMs : Date.parse(run.started_at);
    if (!isAbandoned(ownerAlive(owner), now - lastSign)) continue;
    if (owner) await unlink(tmp).catch(() => {});
    const updated = await db
      .updateTable('runs')
      .set({
        status: 'interrupted',
        finished_at: new Date(now).toISOString(),
        message: abandonedMessage(template, owner),
        // as for any interrupted export: the name it would have been published under
        file_path: owner ? path.join(path.dirname(tmp), run.file_name) : run.file_path,
      })
      .where('id', '=', run.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) marked.push(Number(run.id));
  }
  return marked;
}
