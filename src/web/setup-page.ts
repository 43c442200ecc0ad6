// Setup: the firm's tasks (import or export, template, schedule, on arrival, export scope) and its
// settings (Zoom No Update, time zone, export date format, allowance). Everyone of the firm sees them;
// only operators change them (the article's Professional Services configure a firm's integration).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getNotifySettings, setNotifySettings } from '../notify/notify.js';
import { nextDue } from '../schedule/cron.js';
import { addTask, listTasks, type NewTask, removeTask, updateTask } from '../schedule/tasks.js';
import { type Firm, MAX_RECORD_LIMIT, updateFirm } from '../store/firms.js';
import { EXPORT_TEMPLATES } from '../templates/index.js';
import { localText } from '../time/zones.js';
import type { User } from './accounts.js';
import { asBadRequest, HttpError, notFound, pageContext, sendHtml, type WebContext } from './app.js';
import { type Html, html } from './html.js';
import { num, page, statusBadge, when } from './layout.js';
import { firmFor, intParam } from './scope.js';

type Form = Record<string, string | undefined>;

/** A change the operator asked for and was refused: where on the page, why, and what was typed. */
interface Refused {
  section: 'settings' | 'notifications' | 'add' | `task-${number}`;
  message: string;
  form: Form;
}

/** A form's fields as text; a field sent twice is a refused form, not two values joined. */
function formOf(body: unknown): Form {
  const form: Form = {};
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (k === '_csrf') continue;
    if (typeof v !== 'string') throw new HttpError(400, `The form field "${k}" was sent more than once.`);
    form[k] = v;
  }
  return form;
}

/** What a notification told of: the file that needs attention, or the run that finished. */
function aboutOf(event: string, payload: string): string {
  let p: Record<string, unknown> = {};
  try {
    p = JSON.parse(payload) as Record<string, unknown>;
  } catch {}
  if (event === 'attention' && typeof p.file === 'string') return `${p.file} needs attention (${p.status})`;
  const run = `${p.kind === 'export' ? 'export' : 'import'} run ${p.jobId ?? '?'}`;
  return event === 'attention' ? `${run} failed` : `${run} finished`;
}

/** The line shown after a change was made, from the page's ?done= code (never text from the link). */
function doneText(code: string | undefined): string | undefined {
  const m = /^(settings|notifications|(added|paused|resumed|schedule|removed)-(\d{1,10}))$/.exec(code ?? '');
  if (!m) return undefined;
  if (m[1] === 'settings') return 'Settings saved.';
  if (m[1] === 'notifications') return 'Notifications saved.';
  const what: Record<string, string> = {
    added: 'added',
    paused: 'paused',
    resumed: 'resumed',
    schedule: 'has its new schedule',
    removed: 'removed',
  };
  return `Task #${m[3]} ${what[m[2]]}.`;
}

/** The firm, for an operator; a firm user may not change setup (403: the page itself is theirs to see). */
async function operatorFirm(ctx: WebContext, user: User | undefined, firmId: string): Promise<Firm> {
  if (!user) throw new HttpError(401, 'Sign in first');
  const firm = await firmFor(ctx.engine, user, firmId);
  if (user.role !== 'operator') throw new HttpError(403, "Only an operator can change a firm's setup.");
  return firm;
}

/** A task from the add form; a bad value is the user's error, said in the page. */
function newTaskOf(f: Form): NewTask {
  const cron = (f.cron ?? '').trim();
  if (f.kind === 'import') {
    if (f.onArrival === '1') {
      if (cron)
        throw new HttpError(
          400,
          'An on-arrival import has no schedule: clear the schedule, or untick "on arrival".',
        );
      return { kind: 'import', onArrival: true };
    }
    if (!cron) throw new HttpError(400, 'An import task needs a schedule (cron), or "on arrival".');
    return { kind: 'import', cron };
  }
  if (f.kind === 'export') {
    if (!cron) throw new HttpError(400, 'An export task needs a schedule (cron).');
    return { kind: 'export', template: f.template ?? '', cron, delta: f.scope === 'delta' };
  }
  throw new HttpError(400, 'Choose import or export.');
}

export async function registerSetupPage(app: FastifyInstance, ctx: WebContext): Promise<void> {
  const { engine } = ctx;
  const hide = { schema: { hide: true } };
  type P = { firm: string; id?: string };

  /** The page; after a refused change, again with the message beside the form and what was typed. */
  const render = async (
    req: FastifyRequest,
    reply: FastifyReply,
    firm: Firm,
    state: { done?: string; refused?: Refused } = {},
  ) => {
    const user = req.user as User;
    const c = { ...(await pageContext(req, reply)), firm };
    const op = user.role === 'operator';
    const refused = state.refused;
    const typed = (section: Refused['section'], name: string, stored: string) =>
      refused?.section === section ? (refused.form[name] ?? '') : stored;
    const problem = (section: Refused['section']) =>
      refused?.section === section ? html`<p class="error" role="alert">${refused.message}</p>` : '';
    const tasks = await listTasks(engine, firm.id);
    const notify = await getNotifySettings(engine.db, firm.id);
    const sent = await engine.db
      .selectFrom('notifications')
      .select(['created_at', 'event', 'target', 'status', 'last_error', 'payload'])
      .where('firm_id', '=', firm.id)
      .orderBy('id', 'desc')
      .limit(10)
      .execute();
    const base = `/f/${encodeURIComponent(firm.id)}/setup`;
    const csrf = html`<input type="hidden" name="_csrf" value="${c.csrf}">`;
    const button = (action: string, label: string, extra?: Html) =>
      html`<form method="post" action="${action}" class="inline">${csrf}${extra ?? ''}<button type="submit">${label}</button></form>`;
    const done = state.done ?? '';
    const now = new Date();
    const taskRows = tasks.map((t) => {
      const next = t.cron && !t.paused ? nextDue(t.cron, firm.timezone, now, 1)[0] : undefined;
      const what =
        t.kind === 'import'
          ? 'Import the files in Import'
          : `Export ${t.template} (${t.scope === 'delta' ? 'changes only' : 'full'})`;
      return html`<tr><td>#${t.id}</td><td>${what}${problem(`task-${t.id}`)}</td><td>${t.onArrival ? 'on arrival' : html`<code>${t.cron}</code>`}</td>
<td>${t.paused ? statusBadge('paused') : next ? localText(next, firm.timezone) : t.onArrival ? 'within seconds of each upload' : '—'}</td>
${
  op
    ? html`<td><div class="actions">${button(`${base}/tasks/${t.id}/${t.paused ? 'resume' : 'pause'}`, t.paused ? 'Resume' : 'Pause')}
${t.onArrival ? '' : button(`${base}/tasks/${t.id}/schedule`, 'Change schedule', html`<label class="sr">Schedule of task ${t.id} <input name="cron" value="${typed(`task-${t.id}`, 'cron', t.cron ?? '')}" size="12" aria-label="Schedule of task ${t.id}"></label> `)}
${button(`${base}/tasks/${t.id}/remove`, 'Remove')}</div></td>`
    : ''
}</tr>`;
    });
    const settings = html`<dl class="facts">
<dt>"Zoom No Update"</dt><dd>${firm.zoomNoUpdate ? 'honoured: a cell with it keeps the stored value' : 'off: the words are data'}</dd>
<dt>Time zone</dt><dd>${firm.timezone}</dd>
<dt>Export date format</dt><dd>${firm.exportDateFormat}</dd>
<dt>Allowance</dt><dd>${firm.recordLimit === null ? 'unlimited' : `${firm.recordLimit.toLocaleString('en-US')} records a ${firm.billingPeriod}`}</dd></dl>`;
    const zoom = refused?.section === 'settings' ? refused.form.zoomNoUpdate === '1' : firm.zoomNoUpdate;
    const format = typed('settings', 'dateFormat', firm.exportDateFormat);
    const settingsForm = html`<form method="post" action="${base}/settings" class="stack" id="settings">${csrf}${problem('settings')}
<label><input type="checkbox" name="zoomNoUpdate" value="1" ${zoom ? html`checked` : ''}> Honour "Zoom No Update"</label>
<label>Time zone (IANA, e.g. America/Los_Angeles) <input name="timezone" value="${typed('settings', 'timezone', firm.timezone)}" required></label>
<label>Export date format <select name="dateFormat">${['MM/DD/YYYY', 'YYYY-MM-DD'].map((f) => html`<option ${format === f ? html`selected` : ''}>${f}</option>`)}</select></label>
<label>Allowance (records a ${firm.billingPeriod}; empty: unlimited) <input name="recordLimit" inputmode="numeric" pattern="\\d*" value="${typed('settings', 'recordLimit', firm.recordLimit === null ? '' : String(firm.recordLimit))}"></label>
<button type="submit" class="primary">Save settings</button></form>`;
    const added = refused?.section === 'add' ? refused.form : {};
    const chosen = (name: string, value: string) => (added[name] === value ? html`selected` : '');
    const addForm = html`<form method="post" action="${base}/tasks" class="card stack" id="add-task">${csrf}<h2>Add a task</h2>${problem('add')}
<label>Kind <select name="kind"><option value="import">Import</option><option value="export" ${chosen('kind', 'export')}>Export</option></select></label>
<label><input type="checkbox" name="onArrival" value="1" ${added.onArrival === '1' ? html`checked` : ''}> Import on arrival (within seconds of each upload; no schedule)</label>
<label>Schedule (cron, in the firm's time zone; e.g. <code>0 2 * * *</code> is 02:00 daily) <input name="cron" placeholder="0 2 * * *" value="${added.cron ?? ''}"></label>
<label>Export template <select name="template">${EXPORT_TEMPLATES.map((t) => html`<option ${chosen('template', t.name)}>${t.name}</option>`)}</select></label>
<label>Export scope <select name="scope"><option value="full">Full</option><option value="delta" ${chosen('scope', 'delta')}>Changes since the last export</option></select></label>
<button type="submit" class="primary">Add task</button></form>`;
    const body = html`${done ? html`<p class="notice" role="status">${done}</p>` : ''}
<h2>Tasks</h2>
${
  tasks.length === 0
    ? html`<div class="empty"><p>No tasks: files wait in Import until one is added.</p></div>`
    : html`<table><thead><tr><th>Task</th><th>What</th><th>Schedule</th><th>Next run</th>${op ? html`<th>Change</th>` : ''}</tr></thead><tbody>${taskRows}</tbody></table>`
}
${op ? addForm : html`<p class="muted">Your operator changes tasks and settings.</p>`}
<h2>Settings</h2><div class="card">${op ? settingsForm : settings}</div>
<h2>Notifications</h2>
<div class="card">
<p class="muted">An e-mail and/or a webhook when a file needs attention (Incomplete or Interrupted) and when a run completes.
A webhook is a POST of JSON signed with <code>X-Caseport-Signature: sha256=HMAC-SHA256(secret, "&lt;X-Caseport-Timestamp&gt;.&lt;body&gt;")</code>.</p>
${
  op
    ? html`<form method="post" action="${base}/notifications" class="stack" id="notifications">${csrf}${problem('notifications')}
<label>E-mail addresses (comma-separated) <input name="emails" value="${typed('notifications', 'emails', notify.emails.join(', '))}" size="60"></label>
<label>Webhook URL <input name="webhookUrl" type="url" value="${typed('notifications', 'webhookUrl', notify.webhookUrl ?? '')}" size="60" placeholder="https://hr.example.com/caseport-hook"></label>
${notify.webhookSecret ? html`<p>Signing secret: <code>${notify.webhookSecret}</code></p>` : ''}
<button type="submit" class="primary">Save notifications</button></form>`
    : html`<dl class="facts"><dt>E-mail</dt><dd>${notify.emails.join(', ') || '—'}</dd><dt>Webhook</dt><dd>${notify.webhookUrl ?? '—'}</dd></dl>`
}
${
  sent.length === 0
    ? ''
    : html`<h3>Recent notifications</h3><table><thead><tr><th>When</th><th>About</th><th>To</th><th>Outcome</th></tr></thead><tbody>
${sent.map((n) => html`<tr><td>${when(n.created_at, firm.timezone)}</td><td>${aboutOf(n.event, n.payload)}</td><td>${n.target}</td><td>${n.status}${n.last_error ? html`<br><span class="muted">${n.last_error}</span>` : ''}</td></tr>`)}
</tbody></table>`
}</div>`;
    return sendHtml(reply, page(c, 'Setup', 'setup', body), refused ? 400 : 200);
  };

  app.get<{ Params: P; Querystring: Form }>('/f/:firm/setup', hide, async (req, reply) => {
    if (!req.user) throw new HttpError(401, 'Sign in first');
    const firm = await firmFor(engine, req.user, req.params.firm);
    return render(req, reply, firm, { done: doneText(req.query.done) });
  });

  /** Runs a change; a refused one (the operator's input) shows the page again with what was typed. */
  const change = async (
    req: FastifyRequest<{ Params: P }>,
    reply: FastifyReply,
    section: Refused['section'],
    act: (firm: Firm, form: Form) => Promise<string>,
  ) => {
    const firm = await operatorFirm(ctx, req.user, req.params.firm);
    let form: Form = {};
    try {
      form = formOf(req.body);
      const done = await asBadRequest(() => act(firm, form));
      return reply.redirect(`/f/${encodeURIComponent(firm.id)}/setup?done=${done}#${section}`, 303);
    } catch (e) {
      if (!(e instanceof HttpError) || e.status !== 400) throw e;
      const message = e.message[0].toUpperCase() + e.message.slice(1);
      return render(req, reply, firm, { refused: { section, message, form } });
    }
  };
  const opts = { ...hide, preHandler: app.csrfProtection };

  app.post<{ Params: P }>('/f/:firm/setup/settings', opts, (req, reply) =>
    change(req, reply, 'settings', async (firm, f) => {
      const limit = (f.recordLimit ?? '').trim().replace(/[,_\s]/g, '');
      if (limit !== '' && !/^\d{1,10}$/.test(limit))
        throw new HttpError(
          400,
          `The allowance is a whole number of records from 0 to ${num(MAX_RECORD_LIMIT)}, or empty for unlimited.`,
        );
      const format =
        f.dateFormat === 'YYYY-MM-DD'
          ? 'YYYY-MM-DD'
          : f.dateFormat === 'MM/DD/YYYY'
            ? 'MM/DD/YYYY'
            : undefined;
      if (!format) throw new HttpError(400, 'The export date format is MM/DD/YYYY or YYYY-MM-DD.');
      await updateFirm(engine, firm.id, {
        zoomNoUpdate: f.zoomNoUpdate === '1',
        timezone: (f.timezone ?? '').trim(),
        exportDateFormat: format,
        recordLimit: limit === '' ? null : Number(limit),
      });
      return 'settings';
    }),
  );

  app.post<{ Params: P }>('/f/:firm/setup/notifications', opts, (req, reply) =>
    change(req, reply, 'notifications', async (firm, f) => {
      await setNotifySettings(engine, firm.id, { emails: f.emails ?? '', webhookUrl: f.webhookUrl ?? '' });
      return 'notifications';
    }),
  );

  app.post<{ Params: P }>('/f/:firm/setup/tasks', opts, (req, reply) =>
    change(req, reply, 'add', async (firm, f) => {
      const t = await addTask(engine, firm.id, newTaskOf(f));
      return `added-${t.id}`;
    }),
  );

  /** The changes to one task, by the last part of their path, and the code of the line they leave. */
  const taskActions: Record<
    string,
    [done: string, act: (firm: Firm, id: number, form: Form) => Promise<unknown>]
  > = {
    pause: ['paused', (f, id) => updateTask(engine, f.id, id, { paused: true })],
    resume: ['resumed', (f, id) => updateTask(engine, f.id, id, { paused: false })],
    schedule: ['schedule', (f, id, form) => updateTask(engine, f.id, id, { cron: (form.cron ?? '').trim() })],
    remove: ['removed', (f, id) => removeTask(engine, f.id, id)],
  };
  for (const [action, [done, act]] of Object.entries(taskActions)) {
    app.post<{ Params: P }>(`/f/:firm/setup/tasks/:id/${action}`, opts, (req, reply) => {
      const id = intParam(req.params.id);
      return change(req, reply, `task-${id ?? 0}`, async (firm, form) => {
        // 404 for a task that is not the firm's.
        if (id === undefined || !(await listTasks(engine, firm.id)).some((t) => t.id === id))
          throw notFound('There is no such task.');
        await act(firm, id, form);
        return `${done}-${id}`;
      });
    });
  }
}
