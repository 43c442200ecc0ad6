// Setup: the firm's tasks (import or export, template, schedule, on arrival, export scope) and its
// settings (Zoom No Update, time zone, export date format, allowance). Everyone of the firm sees them;
// only operators change them (the article's Professional Services configure a firm's integration).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getNotifySettings, setNotifySettings } from '../notify/notify.js';
import { nextDue } from '../schedule/cron.js';
import { addTask, listTasks, type NewTask, removeTask, updateTask } from '../schedule/tasks.js';
import { type Firm, updateFirm } from '../store/firms.js';
import { EXPORT_TEMPLATES } from '../templates/index.js';
import { localText } from '../time/zones.js';
import type { User } from './accounts.js';
import { asBadRequest, HttpError, notFound, pageContext, sendHtml, type WebContext } from './app.js';
import { type Html, html } from './html.js';
import { page, statusBadge } from './layout.js';
import { firmFor, intParam } from './scope.js';

type Form = Record<string, string | undefined>;

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
    if (f.onArrival === '1') return { kind: 'import', onArrival: true };
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
  const back = (firm: Firm, note?: string) =>
    `/f/${encodeURIComponent(firm.id)}/setup${note ? `?done=${encodeURIComponent(note)}` : ''}`;

  app.get<{ Params: P; Querystring: Form }>('/f/:firm/setup', hide, async (req, reply) => {
    if (!req.user) throw new HttpError(401, 'Sign in first');
    const firm = await firmFor(engine, req.user, req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const op = req.user.role === 'operator';
    const tasks = await listTasks(engine, firm.id);
    const notify = await getNotifySettings(engine.db, firm.id);
    const sent = await engine.db
      .selectFrom('notifications')
      .select(['created_at', 'event', 'target', 'status', 'last_error'])
      .where('firm_id', '=', firm.id)
      .orderBy('id', 'desc')
      .limit(10)
      .execute();
    const base = `/f/${encodeURIComponent(firm.id)}/setup`;
    const csrf = html`<input type="hidden" name="_csrf" value="${c.csrf}">`;
    const button = (action: string, label: string, extra?: Html) =>
      html`<form method="post" action="${action}" class="inline">${csrf}${extra ?? ''}<button type="submit">${label}</button></form>`;
    const done = typeof req.query.done === 'string' ? req.query.done.slice(0, 200) : '';
    const now = new Date();
    const taskRows = tasks.map((t) => {
      const next = t.cron && !t.paused ? nextDue(t.cron, firm.timezone, now, 1)[0] : undefined;
      const what =
        t.kind === 'import'
          ? 'Import the files in Import'
          : `Export ${t.template} (${t.scope === 'delta' ? 'changes only' : 'full'})`;
      return html`<tr><td>#${t.id}</td><td>${what}</td><td>${t.onArrival ? 'on arrival' : html`<code>${t.cron}</code>`}</td>
<td>${t.paused ? statusBadge('paused') : next ? localText(next, firm.timezone) : t.onArrival ? 'within seconds of each upload' : '—'}</td>
${
  op
    ? html`<td><div class="actions">${button(`${base}/tasks/${t.id}/${t.paused ? 'resume' : 'pause'}`, t.paused ? 'Resume' : 'Pause')}
${t.onArrival ? '' : button(`${base}/tasks/${t.id}/schedule`, 'Change schedule', html`<label class="sr">Schedule of task ${t.id} <input name="cron" value="${t.cron ?? ''}" size="12" aria-label="Schedule of task ${t.id}"></label> `)}
${button(`${base}/tasks/${t.id}/remove`, 'Remove')}</div></td>`
    : ''
}</tr>`;
    });
    const settings = html`<dl class="facts">
<dt>"Zoom No Update"</dt><dd>${firm.zoomNoUpdate ? 'honoured: a cell with it keeps the stored value' : 'off: the words are data'}</dd>
<dt>Time zone</dt><dd>${firm.timezone}</dd>
<dt>Export date format</dt><dd>${firm.exportDateFormat}</dd>
<dt>Allowance</dt><dd>${firm.recordLimit === null ? 'unlimited' : `${firm.recordLimit.toLocaleString('en-US')} records a ${firm.billingPeriod}`}</dd></dl>`;
    const settingsForm = html`<form method="post" action="${base}/settings" class="stack">${csrf}
<label><input type="checkbox" name="zoomNoUpdate" value="1" ${firm.zoomNoUpdate ? html`checked` : ''}> Honour "Zoom No Update"</label>
<label>Time zone (IANA) <input name="timezone" value="${firm.timezone}" required></label>
<label>Export date format <select name="dateFormat">${['MM/DD/YYYY', 'YYYY-MM-DD'].map((f) => html`<option ${firm.exportDateFormat === f ? html`selected` : ''}>${f}</option>`)}</select></label>
<label>Allowance (records a ${firm.billingPeriod}; empty: unlimited) <input name="recordLimit" inputmode="numeric" pattern="\\d*" value="${firm.recordLimit ?? ''}"></label>
<button type="submit" class="primary">Save settings</button></form>`;
    const addForm = html`<form method="post" action="${base}/tasks" class="card stack">${csrf}<h2>Add a task</h2>
<label>Kind <select name="kind"><option value="import">Import</option><option value="export">Export</option></select></label>
<label><input type="checkbox" name="onArrival" value="1"> Import on arrival (within seconds of each upload; no schedule)</label>
<label>Schedule (cron, in the firm's time zone; e.g. <code>0 2 * * *</code> is 02:00 daily) <input name="cron" placeholder="0 2 * * *"></label>
<label>Export template <select name="template">${EXPORT_TEMPLATES.map((t) => html`<option>${t.name}</option>`)}</select></label>
<label>Export scope <select name="scope"><option value="full">Full</option><option value="delta">Changes since the last export</option></select></label>
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
    ? html`<form method="post" action="${base}/notifications" class="stack">${csrf}
<label>E-mail addresses (comma-separated) <input name="emails" value="${notify.emails.join(', ')}" size="60"></label>
<label>Webhook URL <input name="webhookUrl" type="url" value="${notify.webhookUrl ?? ''}" size="60" placeholder="https://hr.example.com/caseport-hook"></label>
${notify.webhookSecret ? html`<p>Signing secret: <code>${notify.webhookSecret}</code></p>` : ''}
<button type="submit" class="primary">Save notifications</button></form>`
    : html`<dl class="facts"><dt>E-mail</dt><dd>${notify.emails.join(', ') || '—'}</dd><dt>Webhook</dt><dd>${notify.webhookUrl ?? '—'}</dd></dl>`
}
${
  sent.length === 0
    ? ''
    : html`<h3>Recent notifications</h3><table><thead><tr><th>When</th><th>Event</th><th>To</th><th>Outcome</th></tr></thead><tbody>
${sent.map((n) => html`<tr><td>${n.created_at.replace('T', ' ').slice(0, 16)} UTC</td><td>${n.event === 'attention' ? 'needs attention' : 'run completed'}</td><td>${n.target}</td><td>${n.status}${n.last_error ? html`<br><span class="muted">${n.last_error}</span>` : ''}</td></tr>`)}
</tbody></table>`
}</div>`;
    return sendHtml(reply, page(c, 'Setup', 'setup', body));
  });

  app.post<{ Params: P }>(
    '/f/:firm/setup/settings',
    { ...hide, preHandler: app.csrfProtection },
    async (req, reply) => {
      const firm = await operatorFirm(ctx, req.user, req.params.firm);
      const f = (req.body ?? {}) as Form;
      const limit = (f.recordLimit ?? '').trim();
      if (limit !== '' && !/^\d{1,12}$/.test(limit))
        throw new HttpError(400, 'The allowance is a whole number of records, or empty for unlimited.');
      const format =
        f.dateFormat === 'YYYY-MM-DD'
          ? 'YYYY-MM-DD'
          : f.dateFormat === 'MM/DD/YYYY'
            ? 'MM/DD/YYYY'
            : undefined;
      if (!format) throw new HttpError(400, 'The export date format is MM/DD/YYYY or YYYY-MM-DD.');
      await asBadRequest(() =>
        updateFirm(engine, firm.id, {
          zoomNoUpdate: f.zoomNoUpdate === '1',
          timezone: (f.timezone ?? '').trim(),
          exportDateFormat: format,
          recordLimit: limit === '' ? null : Number(limit),
        }),
      );
      return reply.redirect(back(firm, 'Settings saved.'), 303);
    },
  );

  app.post<{ Params: P }>(
    '/f/:firm/setup/notifications',
    { ...hide, preHandler: app.csrfProtection },
    async (req, reply) => {
      const firm = await operatorFirm(ctx, req.user, req.params.firm);
      const f = (req.body ?? {}) as Form;
      await asBadRequest(() =>
        setNotifySettings(engine, firm.id, { emails: f.emails ?? '', webhookUrl: f.webhookUrl ?? '' }),
      );
      return reply.redirect(back(firm, 'Notifications saved.'), 303);
    },
  );

  app.post<{ Params: P }>(
    '/f/:firm/setup/tasks',
    { ...hide, preHandler: app.csrfProtection },
    async (req, reply) => {
      const firm = await operatorFirm(ctx, req.user, req.params.firm);
      const t = await asBadRequest(() => addTask(engine, firm.id, newTaskOf((req.body ?? {}) as Form)));
      return reply.redirect(back(firm, `Task #${t.id} added.`), 303);
    },
  );

  const taskAction = async (
    req: FastifyRequest<{ Params: P }>,
    act: (firm: Firm, id: number) => Promise<string>,
  ) => {
    const firm = await operatorFirm(ctx, req.user, req.params.firm);
    const id = intParam(req.params.id);
    if (id === undefined || !(await listTasks(engine, firm.id)).some((t) => t.id === id))
      throw notFound('There is no such task.');
    return back(firm, await act(firm, id));
  };
  const opts = { ...hide, preHandler: app.csrfProtection };
  app.post<{ Params: P }>('/f/:firm/setup/tasks/:id/pause', opts, async (req, reply) =>
    reply.redirect(
      await taskAction(req, async (f, id) => {
        await updateTask(engine, f.id, id, { paused: true });
        return `Task #${id} paused.`;
      }),
      303,
    ),
  );
  app.post<{ Params: P }>('/f/:firm/setup/tasks/:id/resume', opts, async (req, reply) =>
    reply.redirect(
      await taskAction(req, async (f, id) => {
        await updateTask(engine, f.id, id, { paused: false });
        return `Task #${id} resumed.`;
      }),
      303,
    ),
  );
  app.post<{ Params: P }>('/f/:firm/setup/tasks/:id/schedule', opts, async (req, reply) =>
    reply.redirect(
      await taskAction(req, async (f, id) => {
        const cron = String(((req.body ?? {}) as Form).cron ?? '').trim();
        await asBadRequest(() => updateTask(engine, f.id, id, { cron }));
        return `Task #${id} now runs on "${cron}".`;
      }),
      303,
    ),
  );
  app.post<{ Params: P }>('/f/:firm/setup/tasks/:id/remove', opts, async (req, reply) =>
    reply.redirect(
      await taskAction(req, async (f, id) => {
        await removeTask(engine, f.id, id);
        return `Task #${id} removed.`;
      }),
      303,
    ),
  );
}
