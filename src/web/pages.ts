// The server-rendered pages: Need Attention, a file (its errors, result file, comments, acknowledgement),
// the firms (operators) and the account (API tokens). Each firm's page checks the firm first (scope.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listTasks, upcomingRuns } from '../schedule/tasks.js';
import { type Firm, findFirm, listFirms } from '../store/firms.js';
import { IMPORT_TEMPLATES } from '../templates/index.js';
import { createApiToken, listApiTokens, revokeApiToken } from './accounts.js';
import { HttpError, notFound, pageContext, secureCookies, sendHtml, type WebContext } from './app.js';
import { barChart } from './chart.js';
import { html } from './html.js';
import { duration, empty, num, page, pager, statusBadge, when } from './layout.js';
import { clientPage, searchClients } from './records.js';
import {
  ATTENTION_STATUSES,
  acknowledge,
  addComment,
  billing,
  COMMENT_MAX,
  commentsOf,
  completedJobs,
  type FileSummary,
  fileErrors,
  fileOf,
  filterProblem,
  needAttention,
  notAcknowledgeable,
  resultFileOf,
} from './reports.js';
import { firmFor, intParam, pageAt, pageOf, sendStoredFile } from './scope.js';

/** A line naming the kinds of records a client has none of. */
const noRecords = (kinds: string[]) =>
  kinds.length === 0 ? '' : html`<p class="muted">No records yet: ${kinds.join(', ').toLowerCase()}.</p>`;

const SECTION_TITLES: Record<string, string> = {
  clients: 'Client',
  expirations: 'Document expirations',
  visas: 'Visas',
  passports: 'Passports',
  addresses: 'Addresses',
  education: 'Education',
  supervisor_links: 'Supervisors',
  custom_values: 'Custom data',
  cases: 'Cases',
};

/** An export run that ended with a reason ended without its file. */
const failedExport = (j: { kind: string; message: string | null }) => j.kind === 'export' && !!j.message;

/** A line cut to `n` characters, with an ellipsis when cut. */
const clip = (text: string, n: number) => (text.length <= n ? text : `${text.slice(0, n - 1)}…`);

const PAGE_SIZE = 50;
const IMPORT_TEMPLATE_NAMES = IMPORT_TEMPLATES.map((t) => t.name);
const ERRORS_PAGE_SIZE = 100;
const JOBS_PAGE_SIZE = 20;

type Params = { firm: string; id?: string };
type Query = Record<string, string | undefined>;

export async function registerPages(app: FastifyInstance, ctx: WebContext): Promise<void> {
  const { engine } = ctx;
  const hide = { schema: { hide: true } };
  const signedIn = async (req: FastifyRequest) => {
    if (!req.user) throw new HttpError(401, 'Sign in first');
    return req.user;
  };

  app.get('/', hide, async (req, reply) => {
    const user = await signedIn(req);
    if (user.firmId) return reply.redirect(`/f/${encodeURIComponent(user.firmId)}/attention`, 303);
    return reply.redirect('/firms', 303);
  });

  app.get('/firms', hide, async (req, reply) => {
    const user = await signedIn(req);
    if (user.role !== 'operator') throw notFound();
    const c = await pageContext(req, reply);
    const firms = await listFirms(engine);
    const body =
      firms.length === 0
        ? empty('There are no firms yet.', html`Add one with <code>caseport firm add</code>.`)
        : html`<table><thead><tr><th>Firm</th><th>Name</th><th>Time zone</th><th class="n">Allowance</th></tr></thead><tbody>
${firms.map(
  (
    f,
  ) => html`<tr><td><a href="/f/${encodeURIComponent(f.id)}/attention">${f.id}</a></td><td>${f.name}</td><td>${f.timezone}</td>
<td class="n">${f.recordLimit === null ? 'unlimited' : num(f.recordLimit)}</td></tr>`,
)}</tbody></table>`;
    return sendHtml(reply, page(c, 'Firms', 'firms', body));
  });

  app.get<{ Params: Params; Querystring: Query }>('/f/:firm/attention', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const q = req.query;
    const filter = {
      template: q.template || undefined,
      status: q.status || undefined,
      from: q.from || undefined,
      to: q.to || undefined,
      acknowledged: q.acknowledged === '1',
    };
    const problem = filterProblem(filter, IMPORT_TEMPLATE_NAMES);
    const { result, pageNo } = problem
      ? { result: { files: [], total: 0 }, pageNo: 1 }
      : await pageAt(pageOf(q.page), PAGE_SIZE, (p) =>
          needAttention(engine, firm.id, { ...filter, timezone: firm.timezone }, p),
        );
    const { files, total } = result;
    const base = `/f/${encodeURIComponent(firm.id)}`;
    const filters = html`<form class="filters" method="get" action="${base}/attention" role="search">
  <label>Template <select name="template"><option value="">Any</option>${IMPORT_TEMPLATES.map(
    (t) =>
      html`<option value="${t.name}" ${filter.template === t.name ? html`selected` : ''}>${t.name}</option>`,
  )}</select></label>
  <label>Status <select name="status"><option value="">Interrupted or Incomplete</option>${ATTENTION_STATUSES.map(
    (s) =>
      html`<option value="${s}" ${filter.status === s ? html`selected` : ''}>${s[0].toUpperCase() + s.slice(1)}</option>`,
  )}</select></label>
  <label>Received from <input type="date" name="from" value="${filter.from ?? ''}"></label>
  <label>to <input type="date" name="to" value="${filter.to ?? ''}"></label>
  <label><span><input type="checkbox" name="acknowledged" value="1" ${filter.acknowledged ? html`checked` : ''}> include acknowledged</span></label>
  <button type="submit">Filter</button>
</form>`;
    const table = problem
      ? html`<p class="error" role="alert">${problem} Change the filter and try again.</p>`
      : files.length === 0
        ? empty(
            total === 0 && !filter.template && !filter.status && !filter.from && !filter.to
              ? 'Nothing needs attention: every file was processed completely.'
              : 'No files match these filters.',
          )
        : html`<table><thead><tr><th>File</th><th>Template</th><th>Status</th><th>Received</th><th>Finished</th>
<th class="n">Rows</th><th class="n">Created</th><th class="n">Updated</th><th class="n">Unchanged</th><th class="n">Rejected</th></tr></thead><tbody>
${files.map(
  (
    f,
  ) => html`<tr><td><a href="${base}/files/${f.id}">${f.name}</a>${f.acknowledgedAt ? html` <span class="muted">(acknowledged)</span>` : ''}${
    f.status === 'interrupted' && f.message
      ? html`<br><span class="muted">${clip(f.message, 160)}</span>`
      : ''
  }</td>
<td>${f.template ?? '—'}</td><td>${statusBadge(f.status)}</td><td>${when(f.receivedAt, firm.timezone)}</td>
<td>${when(f.finishedAt, firm.timezone)}</td><td class="n">${num(f.rows.total)}</td><td class="n">${num(f.rows.created)}</td>
<td class="n">${num(f.rows.updated)}</td><td class="n">${num(f.rows.unchanged)}</td><td class="n">${num(f.rows.rejected)}</td></tr>`,
)}</tbody></table>`;
    const body = html`<p class="muted">Interrupted and Incomplete files, newest first. Open one to review its errors, download its
result file, comment, and acknowledge it. Days and times are in ${firm.timezone}.</p>${filters}${table}${pager(`${base}/attention`, { ...q, page: undefined }, pageNo, PAGE_SIZE, total)}`;
    return sendHtml(reply, page(c, 'Need attention', 'attention', body), problem ? 400 : 200);
  });

  /** A file's page; after a refused comment or acknowledgement, again with why (and what was typed). */
  const filePage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    firm: Firm,
    file: FileSummary,
    pageNo: number,
    refused?: { problem: string; comment?: string },
  ) => {
    const c = { ...(await pageContext(req, reply)), firm };
    const [{ result: errors, pageNo: shown }, result, comments] = await Promise.all([
      pageAt(pageNo, ERRORS_PAGE_SIZE, (p) => fileErrors(engine, firm.id, file, p)),
      resultFileOf(engine, firm.id, file.id),
      commentsOf(engine, firm.id, file.id),
    ]);
    const base = `/f/${encodeURIComponent(firm.id)}/files/${file.id}`;
    const needs = (ATTENTION_STATUSES as readonly string[]).includes(file.status);
    const facts = html`<div class="card"><dl class="facts">
<dt>Status</dt><dd>${statusBadge(file.status)} ${file.acknowledgedAt ? html`<span class="muted">acknowledged ${when(file.acknowledgedAt, firm.timezone)}</span>` : ''}</dd>
<dt>Template</dt><dd>${file.template ?? '—'}</dd>
<dt>Received</dt><dd>${when(file.receivedAt, firm.timezone)}</dd>
<dt>Started</dt><dd>${when(file.startedAt, firm.timezone)}</dd>
<dt>Finished</dt><dd>${when(file.finishedAt, firm.timezone)} <span class="muted">(${duration(file.startedAt, file.finishedAt)})</span></dd>
<dt>Rows</dt><dd>${
      ['received', 'queued', 'running'].includes(file.status)
        ? html`<span class="muted">being processed: so far</span> ${num(file.rows.total)} read: `
        : html`${num(file.rows.total)} in all: `
    }${num(file.rows.created)} created, ${num(file.rows.updated)} updated,
${num(file.rows.unchanged)} unchanged, ${num(file.rows.rejected)} rejected</dd>
${file.message ? html`<dt>Message</dt><dd>${file.message}</dd>` : ''}
</dl>
<div class="actions">
${result ? html`<a href="${base}/result" download>Download the result file (${result.name})</a>` : html`<span class="muted">No result file: no row was rejected.</span>`}
${
  needs && !file.acknowledgedAt
    ? html`<form method="post" action="${base}/acknowledge" class="inline"><input type="hidden" name="_csrf" value="${c.csrf}">
<button type="submit" class="primary">Acknowledge</button></form>`
    : ''
}
</div></div>`;
    const errorTable =
      errors.total === 0
        ? empty(
            file.status === 'interrupted'
              ? 'The file stopped before any row was rejected.'
              : 'No row was rejected.',
          )
        : html`<table><thead><tr><th class="n">Row</th><th>Column</th><th>Value</th><th>Problem</th></tr></thead><tbody>
${errors.errors.map(
  (e) =>
    html`<tr><td class="n">${num(e.row)}</td><td>${e.column}</td><td><code>${e.value ?? ''}</code></td><td>${e.message}</td></tr>`,
)}</tbody></table>${pager(base, {}, shown, ERRORS_PAGE_SIZE, errors.total)}`;
    const commentList = html`<div class="card"><h2>Comments</h2>
${comments.length === 0 ? html`<p class="muted">No comments yet.</p>` : comments.map((m) => html`<div class="comment"><strong>${m.author}</strong> <span class="muted">${when(m.createdAt, firm.timezone)}</span><br>${m.body}</div>`)}
<form method="post" action="${base}/comments" class="stack" id="comment"><input type="hidden" name="_csrf" value="${c.csrf}">
${refused?.comment !== undefined ? html`<p class="error" role="alert">${refused.problem}</p>` : ''}
<label>Add a comment <textarea name="body" maxlength="${COMMENT_MAX}" required>${refused?.comment ?? ''}</textarea></label>
<button type="submit">Add comment</button></form></div>`;
    const body = html`<p><a href="/f/${encodeURIComponent(firm.id)}/attention">← Need attention</a></p>
${refused && refused.comment === undefined ? html`<p class="error" role="alert">${refused.problem}</p>` : ''}
<div class="cols"><div>${facts}<h2>Errors (${num(errors.total)})</h2>${errorTable}</div><div>${commentList}</div></div>`;
    return sendHtml(reply, page(c, file.name, 'file', body), refused ? 400 : 200);
  };

  app.get<{ Params: Params; Querystring: Query }>('/f/:firm/files/:id', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const file = await fileOf(engine, firm.id, intParam(req.params.id) ?? -1);
    if (!file) throw notFound('There is no such file.');
    return filePage(req, reply, firm, file, pageOf(req.query.page));
  });

  app.get<{ Params: Params }>('/f/:firm/files/:id/result', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const id = intParam(req.params.id) ?? -1;
    const result = (await fileOf(engine, firm.id, id)) && (await resultFileOf(engine, firm.id, id));
    if (!result) throw notFound('There is no result file for this file.');
    return sendStoredFile(ctx, reply, result);
  });

  app.post<{ Params: Params }>(
    '/f/:firm/files/:id/comments',
    { ...hide, preHandler: app.csrfProtection },
    async (req, reply) => {
      const user = await signedIn(req);
      const firm = await firmFor(engine, user, req.params.firm);
      const file = await fileOf(engine, firm.id, intParam(req.params.id) ?? -1);
      if (!file) throw notFound('There is no such file.');
      const sent = (req.body as Record<string, unknown> | undefined)?.body;
      // Browsers send a line break as CR LF and count it as one character (maxlength): so do we.
      const typed = typeof sent === 'string' ? sent.replace(/\r\n?/g, '\n') : '';
      const text = typed.trim();
      const problem =
        typeof sent !== 'string' && sent !== undefined
          ? 'The comment was sent more than once; add it again.'
          : !text
            ? 'A comment cannot be blank.'
            : text.length > COMMENT_MAX
              ? `A comment has at most ${num(COMMENT_MAX)} characters; this one has ${num(text.length)}.`
              : undefined;
      if (problem) return filePage(req, reply, firm, file, 1, { problem, comment: typed });
      await addComment(engine, firm.id, file.id, user.email, text);
      return reply.redirect(`/f/${encodeURIComponent(firm.id)}/files/${file.id}#comment`, 303);
    },
  );

  app.post<{ Params: Params }>(
    '/f/:firm/files/:id/acknowledge',
    { ...hide, preHandler: app.csrfProtection },
    async (req, reply) => {
      const firm = await firmFor(engine, await signedIn(req), req.params.firm);
      const file = await fileOf(engine, firm.id, intParam(req.params.id) ?? -1);
      if (!file) throw notFound('There is no such file.');
      const refused = notAcknowledgeable(file);
      if (refused) return filePage(req, reply, firm, file, 1, { problem: refused });
      await acknowledge(engine, firm.id, file);
      return reply.redirect(`/f/${encodeURIComponent(firm.id)}/attention`, 303);
    },
  );

  app.get<{ Params: Params; Querystring: Query }>('/f/:firm/completed', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const {
      result: { jobs, total },
      pageNo,
    } = await pageAt(pageOf(req.query.page), JOBS_PAGE_SIZE, (p) => completedJobs(engine, firm.id, p));
    const base = `/f/${encodeURIComponent(firm.id)}`;
    const TRIGGERS: Record<string, string> = {
      schedule: 'Scheduled',
      arrival: 'On arrival',
      manual: 'Run now',
      cli: 'Command line',
    };
    const body =
      jobs.length === 0
        ? empty(
            'No run has completed yet.',
            'Runs appear here when every file of a scheduled, on-arrival or manual run is done.',
          )
        : html`${jobs.map(
            (j) => html`<section class="card" aria-labelledby="job-${j.id}">
<h2 id="job-${j.id}">${j.kind === 'export' ? 'Export' : 'Import'} run ${j.id} <span class="muted">· ${TRIGGERS[j.trigger] ?? j.trigger}</span>${failedExport(j) ? html` ${statusBadge('failed')}` : ''}</h2>
<dl class="facts"><dt>Started</dt><dd>${when(j.startedAt ?? j.dueAt, firm.timezone)}</dd>
<dt>Ended</dt><dd>${when(j.finishedAt, firm.timezone)}</dd>
<dt>Duration</dt><dd>${duration(j.startedAt ?? j.dueAt, j.finishedAt)}</dd>
<dt>Files</dt><dd>${num(j.files.length)}</dd>${j.message ? html`<dt>Message</dt><dd>${j.message}</dd>` : ''}</dl>
${
  j.files.length === 0
    ? failedExport(j)
      ? html`<p class="error">The export failed: no file was made. It runs again at its next scheduled time.</p>`
      : html`<p class="muted">No file was waiting for this run.</p>`
    : html`<table><thead><tr><th>File</th><th>Status</th><th class="n">Rows</th><th class="n">Created</th><th class="n">Updated</th><th class="n">Unchanged</th><th class="n">Rejected</th></tr></thead><tbody>
${j.files.map(
  (
    f,
  ) => html`<tr><td>${f.folder === 'Import' ? html`<a href="${base}/files/${f.id}">${f.name}</a>` : html`${f.name} <span class="muted">(export)</span>`}</td>
<td>${f.folder === 'Import' ? statusBadge(f.status) : html`<span class="badge">${f.status === 'ready' ? 'Ready to download' : 'Downloaded'}</span>`}</td><td class="n">${num(f.rows.total)}</td><td class="n">${num(f.rows.created)}</td>
<td class="n">${num(f.rows.updated)}</td><td class="n">${num(f.rows.unchanged)}</td><td class="n">${num(f.rows.rejected)}</td></tr>`,
)}</tbody></table>`
}</section>`,
          )}${pager(`${base}/completed`, {}, pageNo, JOBS_PAGE_SIZE, total)}`;
    return sendHtml(reply, page(c, 'Completed runs', 'completed', body));
  });

  app.get<{ Params: Params }>('/f/:firm/upcoming', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const [runs, tasks] = await Promise.all([
      upcomingRuns(engine, firm.id, firm.timezone, new Date(), 5),
      listTasks(engine, firm.id),
    ]);
    const arrival = tasks.filter((t) => t.onArrival && !t.paused);
    const utc = (iso: string) => `${iso.replace('T', ' ').slice(0, 16)} UTC`;
    const local = (iso: string) =>
      new Intl.DateTimeFormat('en-US', {
        timeZone: firm.timezone,
        weekday: 'short',
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
        timeZoneName: 'short',
      }).format(new Date(iso));
    const body = html`${
      arrival.length > 0
        ? html`<p class="notice">Files uploaded to Import are processed within seconds of arrival (on-arrival import task${arrival.length > 1 ? 's' : ''} ${arrival.map((t) => `#${t.id}`).join(', ')}).</p>`
        : ''
    }${
      runs.length === 0
        ? empty('No scheduled run is coming.', 'Every task is paused or runs on arrival only.')
        : html`<table><thead><tr><th>When (${firm.timezone})</th><th>When (UTC)</th><th>Task</th><th>What</th></tr></thead><tbody>
${runs.map(
  (r) => html`<tr><td>${local(r.dueAt)}</td><td>${utc(r.dueAt)}</td><td>#${r.taskId}</td>
<td>${r.kind === 'import' ? 'Import the files waiting in Import' : html`Export ${r.template} (${r.scope === 'delta' ? 'changes since the last export' : 'full'})`}</td></tr>`,
)}</tbody></table>`
    }`;
    return sendHtml(reply, page(c, 'Upcoming runs', 'upcoming', body));
  });

  app.get<{ Params: Params }>('/f/:firm/billing', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const b = await billing(engine, firm);
    const base = `/f/${encodeURIComponent(firm.id)}`;
    const pct = b.allowance ? Math.round((100 * b.used) / b.allowance) : 0;
    const over = b.allowance !== null && b.used > b.allowance ? b.used - b.allowance : 0;
    const body = html`<div class="card"><dl class="facts">
<dt>Billing period</dt><dd>this ${b.period}, since ${when(b.periodStart, firm.timezone)}</dd>
<dt>Allowance</dt><dd>${b.allowance === null ? 'unlimited' : `${num(b.allowance)} records`}</dd>
<dt>Used</dt><dd>${num(b.used)} records${b.allowance ? ` (${pct}%)` : ''}</dd>
<dt>Left</dt><dd>${b.left === null ? '—' : `${num(b.left)} records`}${over ? html` <strong class="bad">(over the allowance by ${num(over)}: it was lowered after they were used)</strong>` : ''}</dd></dl>
${b.allowance ? html`<meter min="0" max="${b.allowance}" value="${b.used}" high="${Math.round(b.allowance * 0.9)}" optimum="0" aria-label="Allowance used" style="width:100%">${pct}%</meter>` : ''}
<p class="muted">A file that would go past the allowance stops Interrupted before any of its rows is applied.</p></div>
<h2>Records per day</h2>
${barChart(
  b.days.map((d) => ({ label: d.day, value: d.records })),
  { title: `Records billed per day this ${b.period} (${firm.timezone})`, unit: 'records' },
)}
<h2>Records per run</h2>
${
  b.runs.length === 0
    ? empty(`No records billed this ${b.period} yet.`)
    : html`<table><thead><tr><th>File</th><th>Template</th><th>Started</th><th class="n">Records</th></tr></thead><tbody>
${b.runs.map((r) => html`<tr><td>${r.file}</td><td>${r.template}</td><td>${when(r.startedAt, firm.timezone)}</td><td class="n">${num(r.records)}</td></tr>`)}
</tbody></table>`
}
<p><a href="${base}/completed">Completed runs</a></p>`;
    return sendHtml(reply, page(c, 'Billing', 'billing', body));
  });

  app.get<{ Params: Params; Querystring: Query }>('/f/:firm/clients', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const q = (req.query.q ?? '').trim();
    const hits = q ? await searchClients(engine, firm.id, q) : [];
    const base = `/f/${encodeURIComponent(firm.id)}`;
    const body = html`<form class="filters" method="get" action="${base}/clients" role="search">
<label>EmployeeID or name <input type="search" name="q" value="${q}" maxlength="100" autofocus placeholder="E1001 or Garcia"></label>
<button type="submit">Search</button></form>
${
  !q
    ? empty(
        'Search a client by the start of an EmployeeID, a first or last name, or a first and last name ("Ana Gar"); case does not matter.',
      )
    : hits.length === 0
      ? empty(`No client matches “${q}”.`)
      : html`<table><thead><tr><th>Name</th><th>EmployeeID</th><th>EmployerID</th></tr></thead><tbody>
${hits.map((h) => html`<tr><td><a href="${base}/clients/${h.id}">${h.name || '(no name)'}</a></td><td>${h.employeeId}</td><td>${h.employerCode}</td></tr>`)}
</tbody></table>${hits.length === 50 ? html`<p class="muted">The first 50 matches: narrow the search.</p>` : ''}`
}`;
    return sendHtml(reply, page(c, 'Clients', 'clients', body));
  });

  app.get<{ Params: Params }>('/f/:firm/clients/:id', hide, async (req, reply) => {
    const firm = await firmFor(engine, await signedIn(req), req.params.firm);
    const p = await clientPage(engine, firm.id, intParam(req.params.id) ?? -1);
    if (!p) throw notFound('There is no such client.');
    const c = { ...(await pageContext(req, reply)), firm };
    const base = `/f/${encodeURIComponent(firm.id)}`;
    const show = (v: unknown) =>
      v === null || v === undefined || v === '' ? html`<span class="muted">—</span>` : html`${String(v)}`;
    // A run is one file's import: named by its file, which links to the file's page.
    const runLink = (id: number | null) => {
      const run = id === null ? undefined : p.runFiles.get(id);
      if (!run) return html`<span class="muted">—</span>`;
      return run.fileId === null
        ? html`${run.name}`
        : html`<a href="${base}/files/${run.fileId}">${run.name}</a>`;
    };
    const recordTable = (records: (typeof p.sections)[number]['records']) => {
      const cols = records[0].fields.map((f) => f.column);
      return html`<div class="scroll"><table><thead><tr>${cols.map((col) => html`<th>${col}</th>`)}<th>Changed</th></tr></thead><tbody>
${records.map((r) => html`<tr>${r.fields.map((f) => html`<td>${show(f.value)}</td>`)}<td>${when(r.updatedAt, firm.timezone)}<br><span class="muted">${runLink(r.updatedRunId)}</span></td></tr>`)}
</tbody></table></div>`;
    };
    const body = html`<p><a href="${base}/clients">← Clients</a></p>
<div class="card"><dl class="facts"><dt>EmployerID</dt><dd>${p.employerCode}</dd>
${p.client.fields.filter((f) => f.value !== null && f.value !== '').map((f) => html`<dt>${f.column}</dt><dd>${String(f.value)}</dd>`)}
<dt>Created</dt><dd>${when(p.client.createdAt, firm.timezone)} (${runLink(p.client.createdRunId)})</dd>
<dt>Last changed</dt><dd>${when(p.client.updatedAt, firm.timezone)} (${runLink(p.client.updatedRunId)})</dd></dl></div>
${p.sections
  .filter((sec) => sec.records.length > 0)
  .map(
    (
      sec,
    ) => html`<h2>${SECTION_TITLES[sec.table] ?? sec.template} <span class="muted">(${sec.records.length})</span></h2>
${recordTable(sec.records)}`,
  )}
${noRecords(p.sections.filter((sec) => sec.records.length === 0).map((sec) => SECTION_TITLES[sec.table] ?? sec.template))}
<h2 id="audit">Audit trail</h2>
<p class="muted">Every field an import changed on this client and its records, newest first: from what, to what, by which file.</p>
${
  p.audit.length === 0
    ? empty('No field has been changed since these records were created.')
    : html`<table><thead><tr><th>When</th><th>Record</th><th>Field</th><th>From</th><th>To</th><th>By file</th></tr></thead><tbody>
${p.audit.map(
  (
    a,
  ) => html`<tr><td>${when(a.at, firm.timezone)}</td><td>${SECTION_TITLES[a.table] ?? a.table} #${a.recordId}</td><td>${a.column}</td>
<td>${show(a.old)}</td><td>${show(a.now)}</td><td>${a.runId === null ? a.by : runLink(a.runId)}</td></tr>`,
)}</tbody></table>`
}`;
    return sendHtml(reply, page(c, p.name || p.employeeId, 'clients', body));
  });

  const accountPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    o: { created?: { name: string; token: string }; problem?: string } = {},
  ) => {
    const { created, problem } = o;
    const user = await signedIn(req);
    const c = await pageContext(req, reply);
    const tokens = await listApiTokens(engine, user);
    // A firm user reads times in the firm's zone, as on every other page; an operator in UTC.
    const zone = (user.firmId && (await findFirm(engine, user.firmId))?.timezone) || 'UTC';
    const body = html`<div class="card"><dl class="facts"><dt>E-mail</dt><dd>${user.email}</dd>
<dt>Role</dt><dd>${user.role === 'operator' ? 'Operator (every firm)' : html`Firm user of <a href="/f/${encodeURIComponent(user.firmId!)}/attention">${user.firmId}</a>`}</dd></dl></div>
<h2>API tokens</h2>
<p class="muted">Scripts call the <a href="/api/docs">REST API</a> with <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you.</p>
${created ? html`<p class="notice" role="status">Token “${created.name}” created. Copy it now: it is not shown again.<br><code id="new-token">${created.token}</code></p>` : ''}
${
  tokens.length === 0
    ? empty('You have no API tokens.')
    : html`<table><thead><tr><th>Name</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>${tokens.map(
        (
          t,
        ) => html`<tr><td>${t.name}</td><td>${when(t.createdAt, zone)}</td><td>${when(t.lastUsedAt, zone)}</td>
<td><form method="post" action="/account/tokens/${t.id}/revoke" class="inline"><input type="hidden" name="_csrf" value="${c.csrf}"><button type="submit">Revoke</button></form></td></tr>`,
      )}</tbody></table>`
}
<form method="post" action="/account/tokens" class="stack card" id="new-token-form"><input type="hidden" name="_csrf" value="${c.csrf}">
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<label>New token name <input name="name" maxlength="100" required placeholder="nightly HR script"></label>
<button type="submit" class="primary">Create token</button></form>`;
    return sendHtml(reply, page(c, 'Your account', 'account', body), problem ? 400 : 200);
  };

  // A new token is shown once, on the page the POST redirects to (a reload makes no second token): it
  // rides there in a signed, HttpOnly cookie of two minutes, which that page reads and clears.
  const NEW_TOKEN_COOKIE = 'caseport_new_token';
  const tokenCookie = { path: '/account', httpOnly: true, sameSite: 'strict' as const, signed: true };
  app.get('/account', hide, (req, reply) => {
    const raw = req.cookies[NEW_TOKEN_COOKIE];
    if (!raw) return accountPage(req, reply);
    reply.clearCookie(NEW_TOKEN_COOKIE, tokenCookie);
    const value = req.unsignCookie(raw);
    let created: { name: string; token: string } | undefined;
    try {
      const v = value.valid && value.value ? JSON.parse(value.value) : undefined;
      if (typeof v?.name === 'string' && typeof v?.token === 'string') created = v;
    } catch {}
    return accountPage(req, reply, { created });
  });
  app.post('/account/tokens', { ...hide, preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await signedIn(req);
    const sent = (req.body as Record<string, unknown> | undefined)?.name;
    const name = typeof sent === 'string' ? sent.trim() : '';
    if (typeof sent !== 'string') return accountPage(req, reply, { problem: 'Give the token one name.' });
    if (!name)
      return accountPage(req, reply, { problem: 'A token needs a name, to tell it from the others.' });
    const created = await createApiToken(engine, user, name);
    reply.setCookie(NEW_TOKEN_COOKIE, JSON.stringify({ name: created.name, token: created.token }), {
      ...tokenCookie,
      secure: secureCookies(),
      maxAge: 120,
    });
    return reply.redirect('/account', 303);
  });
  app.post<{ Params: { id: string } }>(
    '/account/tokens/:id/revoke',
    { ...hide, preHandler: app.csrfProtection },
    async (req, reply) => {
      const user = await signedIn(req);
      if (!(await revokeApiToken(engine, user, intParam(req.params.id) ?? -1)))
        throw notFound('There is no such token.');
      return reply.redirect('/account', 303);
    },
  );
}
