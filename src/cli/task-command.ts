// `caseport task add|list|run|remove` and `caseport runs`: a firm's tasks, running one now, and the run
// reports (what needs attention, completed files, upcoming runs) read from the ledger.
import { usageError } from '../errors.js';
import { type FileReport, fileReports, type RunsView } from '../ledger/views.js';
import { nextDue } from '../schedule/cron.js';
import { createJobNow } from '../schedule/due.js';
import {
  addTask,
  getTask,
  listTasks,
  type NewTask,
  removeTask,
  type Task,
  upcomingRuns,
} from '../schedule/tasks.js';
import { type Engine, getFirm } from '../store/index.js';
import { localText } from '../time/zones.js';
import { EXIT, printJson, say } from './output.js';

export interface TaskAddOptions {
  kind: 'import' | 'export';
  onArrival?: boolean;
  cron?: string;
  template?: string;
  delta?: boolean;
  json?: boolean;
}

function newTask(o: TaskAddOptions): NewTask {
  if (o.kind === 'import') {
    if (o.template !== undefined || o.delta) throw usageError('--template and --delta are for export tasks');
    if (o.onArrival && o.cron !== undefined) throw usageError('give --on-arrival or --cron, not both');
    if (o.onArrival) return { kind: 'import', onArrival: true };
    if (o.cron === undefined) throw usageError('an import task needs --on-arrival or --cron "<expression>"');
    return { kind: 'import', cron: o.cron };
  }
  if (o.onArrival) throw usageError('--on-arrival is for import tasks; an export task needs --cron');
  if (o.template === undefined) throw usageError('an export task needs --template <export template>');
  if (o.cron === undefined) throw usageError('an export task needs --cron "<expression>"');
  return { kind: 'export', template: o.template, cron: o.cron, delta: o.delta === true };
}

function describeTask(t: Task, tz: string, now: Date): string {
  const what =
    t.kind === 'import' ? 'import' : `export ${t.template} (${t.scope === 'delta' ? 'delta' : 'full'})`;
  const next = t.cron && !t.paused ? nextDue(t.cron, tz, now, 1)[0] : undefined;
  const when = t.onArrival ? 'on arrival' : `cron "${t.cron}" (${tz})`;
  return `${t.id}  ${what} · ${when}${t.paused ? ' · paused' : ''}${next ? ` · next ${localText(next, tz)}` : ''}`;
}

export async function taskAdd(engine: Engine, firmId: string, o: TaskAddOptions): Promise<number> {
  const firm = await getFirm(engine, firmId);
  const t = await addTask(engine, firm.id, newTask(o));
  if (o.json) printJson(t);
  else say(`added task ${describeTask(t, firm.timezone, new Date())}`);
  return EXIT.ok;
}

export async function taskList(engine: Engine, firmId: string, o: { json?: boolean }): Promise<number> {
  const firm = await getFirm(engine, firmId);
  const tasks = await listTasks(engine, firm.id);
  const now = new Date();
  if (o.json) {
    printJson(
      tasks.map((t) => {
        const next = t.cron && !t.paused ? nextDue(t.cron, firm.timezone, now, 1)[0] : undefined;
        return { ...t, timezone: firm.timezone, nextRunAt: next?.toISOString() ?? null };
      }),
    );
  } else if (tasks.length === 0)
    say(`firm ${firm.id} has no tasks: caseport task add ${firm.id} --kind import --on-arrival`);
  else for (const t of tasks) say(describeTask(t, firm.timezone, now));
  return EXIT.ok;
}

export async function taskRemove(engine: Engine, firmId: string, id: number): Promise<number> {
  await getFirm(engine, firmId);
  await removeTask(engine, firmId, id);
  say(`removed task ${id} of firm ${firmId}`);
  return EXIT.ok;
}

export async function taskRun(
  engine: Engine,
  firmId: string,
  id: number,
  o: { json?: boolean },
): Promise<number> {
  await getFirm(engine, firmId);
  const t = await getTask(engine, firmId, id);
  const job = await createJobNow(engine, t);
  if (o.json) printJson(job);
  else if (t.kind === 'import') {
    say(
      `job ${job.jobId}: ${job.files} received file(s) queued; a worker (caseport serve or caseport worker) runs them`,
    );
  } else say(`job ${job.jobId}: export ${t.template} queued; a worker writes it to the firm's Export folder`);
  return EXIT.ok;
}

function reportLine(r: FileReport): string {
  const c = r.rows;
  const counts = r.runId
    ? ` · ${c.total} rows: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`
    : '';
  const when = r.finishedAt ?? r.startedAt ?? r.receivedAt;
  return `${r.status.toUpperCase().padEnd(11)} ${r.file}${r.runId ? ` · run ${r.runId}` : ''}${counts} · ${when}${r.message ? `\n            ${r.message}` : ''}`;
}

export async function runsReport(
  engine: Engine,
  o: { firm: string; view?: RunsView | 'upcoming'; json?: boolean; limit?: number },
): Promise<number> {
  const firm = await getFirm(engine, o.firm);
  if (o.view === 'upcoming') {
    const up = await upcomingRuns(engine, firm.id, firm.timezone, new Date());
    if (o.json) {
      printJson(
        up.map((u) => ({
          task: u.taskId,
          kind: u.kind,
          template: u.template,
          scope: u.scope,
          dueLocal: u.dueLocal,
          dueUtc: u.dueAt,
          timezone: firm.timezone,
        })),
      );
    } else if (up.length === 0) say(`firm ${firm.id} has no scheduled tasks`);
    else
      for (const u of up)
        say(`${u.dueLocal}  (${u.dueAt})  task ${u.taskId} ${u.kind}${u.template ? ` ${u.template}` : ''}`);
    return EXIT.ok;
  }
  const reports = await fileReports(engine, firm.id, o.view ?? 'all', o.limit);
  if (o.json) printJson(reports);
  else if (reports.length === 0)
    say(o.view === 'need-attention' ? 'nothing needs attention' : 'no files yet');
  else for (const r of reports) say(reportLine(r));
  return EXIT.ok;
}
