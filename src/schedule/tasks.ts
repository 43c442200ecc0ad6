// A firm's tasks: import (on a schedule, or on arrival) and export (template, scope, schedule). Every
// firm starts with the product's default, an import daily at 02:00 in its time zone.
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { CaseportError, usageError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import type { Database, TaskTable } from '../store/schema.js';
import { EXPORT_TEMPLATES, findExportTemplate } from '../templates/export-templates.js';
import { localText } from '../time/zones.js';
import { checkCron, nextDue } from './cron.js';

type Db = Kysely<Database> | Transaction<Database>;
export type TaskRow = Selectable<TaskTable>;

export const DEFAULT_IMPORT_CRON = '0 2 * * *';

export type NewTask =
  | { kind: 'import'; onArrival: true }
  | { kind: 'import'; cron: string }
  | { kind: 'export'; template: string; cron: string; delta: boolean };

export interface Task {
  id: number;
  firmId: string;
  kind: 'import' | 'export';
  template: string | null;
  scope: 'full' | 'delta' | null;
  schedule: string;
  cron: string | null;
  onArrival: boolean;
  paused: boolean;
  createdAt: string;
}

export function toTask(r: TaskRow): Task {
  return {
    id: Number(r.id),
    firmId: r.firm_id ?? '',
    kind: r.kind as Task['kind'],
    template: r.template,
    scope: r.scope as Task['scope'],
    schedule: r.on_arrival ? 'on arrival' : (r.cron ?? ''),
    cron: r.cron,
    onArrival: r.on_arrival === 1,
    paused: r.paused === 1,
    createdAt: r.created_at,
  };
}

/** The default import task of a new firm (in the firm's own transaction). */
export async function addDefaultTasks(db: Db, firmId: string): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('tasks')
    .values({ firm_id: firmId, kind: 'import', cron: DEFAULT_IMPORT_CRON, created_at: now, updated_at: now })
    .execute();
}

export async function addTask(engine: Engine, firmId: string, t: NewTask): Promise<Task> {
  const now = new Date().toISOString();
  let template: string | null = null;
  if (t.kind === 'export') {
    const found = findExportTemplate(t.template);
    if (!found) {
      throw new CaseportError(
        'TEMPLATE_UNKNOWN',
        `"${t.template}" is not an export template (${EXPORT_TEMPLATES.map((x) => x.name).join(', ')})`,
      );
    }
    template = found.name;
  }
  const cron = 'cron' in t ? checkCron(t.cron) : null;
  const row = await engine.db
    .insertInto('tasks')
    .values({
      firm_id: firmId,
      kind: t.kind,
      template,
      scope: t.kind === 'export' ? (t.delta ? 'delta' : 'full') : null,
      cron,
      on_arrival: 'onArrival' in t ? 1 : 0,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toTask(row);
}

export async function listTasks(engine: Engine, firmId: string): Promise<Task[]> {
  const rows = await engine.db
    .selectFrom('tasks')
    .selectAll()
    .where('firm_id', '=', firmId)
    .orderBy('id')
    .execute();
  return rows.map(toTask);
}

export async function getTask(engine: Engine, firmId: string, id: number): Promise<Task> {
  const row = await engine.db
    .selectFrom('tasks')
    .selectAll()
    .where('firm_id', '=', firmId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw usageError(`firm ${firmId} has no task ${id}`);
  return toTask(row);
}

/** Removes a task; the runs it made stay in the ledger. */
export async function removeTask(engine: Engine, firmId: string, id: number): Promise<void> {
  await getTask(engine, firmId, id);
  await engine.db.transaction().execute(async (trx) => {
    await trx.updateTable('jobs').set({ task_id: null }).where('task_id', '=', id).execute();
    await trx.deleteFrom('tasks').where('id', '=', id).where('firm_id', '=', firmId).execute();
  });
}

/**
 * Changes a task's schedule or pauses or resumes it. A resumed task does not catch up on the runs it
 * missed while paused: its next run is its next tick.
 */
export async function updateTask(
  engine: Engine,
  firmId: string,
  id: number,
  patch: { cron?: string; paused?: boolean },
): Promise<Task> {
  const task = await getTask(engine, firmId, id);
  const now = new Date().toISOString();
  const set: Updateable<TaskTable> = { updated_at: now };
  if (patch.cron !== undefined) {
    if (task.onArrival) throw usageError(`task ${id} runs on arrival: it has no schedule to change`);
    set.cron = checkCron(patch.cron);
  }
  if (patch.paused !== undefined) {
    set.paused = patch.paused ? 1 : 0;
    if (!patch.paused && task.paused) set.last_due_at = now;
  }
  const row = await engine.db
    .updateTable('tasks')
    .set(set)
    .where('id', '=', id)
    .where('firm_id', '=', firmId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toTask(row);
}

export interface UpcomingRun {
  taskId: number;
  kind: string;
  template: string | null;
  scope: string | null;
  /** ISO UTC. */
  dueAt: string;
  /** In the firm's time zone, e.g. 2026-11-27 02:00 PST. */
  dueLocal: string;
}

/** The next `perTask` runs of each scheduled task of the firm, soonest first. */
export async function upcomingRuns(
  engine: Engine,
  firmId: string,
  tz: string,
  now: Date,
  perTask = 3,
): Promise<UpcomingRun[]> {
  const out: UpcomingRun[] = [];
  for (const t of await listTasks(engine, firmId)) {
    if (t.paused || !t.cron) continue;
    for (const at of nextDue(t.cron, tz, now, perTask)) {
      out.push({
        taskId: t.id,
        kind: t.kind,
        template: t.template,
        scope: t.scope,
        dueAt: at.toISOString(),
        dueLocal: localText(at, tz),
      });
    }
  }
  return out.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.taskId - b.taskId);
}
