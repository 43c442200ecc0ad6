// Templates and lists: every import template's columns (type, key, required, list), an empty template
// with a sample row to download, and the knowledge-base lists: the Country List (.xlsx and .csv), the
// shipped lists with the firm's additions, and the firm's own lists.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Papa from 'papaparse';
import { countryListFile } from '../kb/country-list.js';
import { KB_LISTS, kbEntries } from '../kb/entries.js';
import type { Firm } from '../store/firms.js';
import { FIRM_LIST_TEMPLATES, IMPORT_TEMPLATES, type ImportTemplate } from '../templates/index.js';
import { SAMPLE_ROWS } from '../templates/samples.js';
import type { User } from './accounts.js';
import { HttpError, notFound, pageContext, sendHtml, type WebContext } from './app.js';
import { html } from './html.js';
import { page } from './layout.js';
import { downloadResponses, errorResponses } from './schemas.js';
import { firmFor } from './scope.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const TEMPLATES = [...IMPORT_TEMPLATES, ...FIRM_LIST_TEMPLATES];

function typeText(c: ImportTemplate['columns'][number]): string {
  if (c.parent) return c.name === 'EmployerID' ? 'the employer (EmployerID)' : 'the client (EmployeeID)';
  if (c.type === 'kb') return `from the ${c.list} list`;
  if (c.type === 'pattern') return `text shaped ${c.hint ?? 'as required'}`;
  if (c.type === 'date') return 'date (MM/DD/YYYY or YYYY-MM-DD)';
  if (c.type === 'yesno') return 'Y or N';
  if (c.type === 'country') return 'country (name or ISO code, see the Country List)';
  if (c.type === 'custom-value') return "value of the field's type";
  if (c.type === 'list-values') return 'a|b|c (for a list field)';
  return c.type;
}

/** The header and one sample row of a template, as CSV. */
async function sampleCsv(t: ImportTemplate): Promise<string> {
  const header = t.columns.map((c) => c.name);
  let row: string[] | undefined;
  const sample = SAMPLE_ROWS[t.name];
  if (sample) row = header.map((h) => sample[h] ?? '');
  else {
    // A firm's own list: the first entry of its example file.
    const text = await readFile(path.join(EXAMPLES, 'kb', `${t.name}.csv`), 'utf8').catch(() => '');
    const parsed = Papa.parse<string[]>(text.trim(), { skipEmptyLines: true }).data;
    if (parsed.length > 1) row = parsed[1];
  }
  return `${Papa.unparse(row ? [header, row] : [header])}\r\n`;
}

function download(reply: FastifyReply, name: string, type: string, body: string | Uint8Array) {
  return reply
    .header('content-type', type)
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('x-content-type-options', 'nosniff')
    .send(typeof body === 'string' ? body : Buffer.from(body));
}

/** A list file: the Country List (.xlsx, .csv), a shipped list with the firm's additions, or a firm list. */
async function listFile(ctx: WebContext, reply: FastifyReply, firm: Firm, fileName: string) {
  const m = /^([a-z-]+)\.(csv|xlsx)$/.exec(fileName);
  if (!m || !KB_LISTS.includes(m[1]) || (m[2] === 'xlsx' && m[1] !== 'countries'))
    throw notFound('There is no such list.');
  if (m[1] === 'countries') {
    const content = await countryListFile(m[2]);
    const type =
      m[2] === 'xlsx'
        ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
        : 'text/csv; charset=utf-8';
    return download(reply, m[2] === 'xlsx' ? 'Country List.xlsx' : 'Country List.csv', type, content);
  }
  const entries = await kbEntries(ctx.engine, m[1], firm.id);
  const csv =
    entries.length === 0
      ? ''
      : Papa.unparse(entries.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v ?? '']))));
  return download(reply, `${m[1]}.csv`, 'text/csv; charset=utf-8', `${csv}\r\n`);
}

export async function registerTemplatePages(app: FastifyInstance, ctx: WebContext): Promise<void> {
  const { engine } = ctx;
  const hide = { schema: { hide: true } };
  type P = { firm: string; name: string };

  app.get<{ Params: { firm: string } }>('/f/:firm/templates', hide, async (req, reply) => {
    if (!req.user) throw new HttpError(401, 'Sign in first');
    const firm = await firmFor(engine, req.user, req.params.firm);
    const c = { ...(await pageContext(req, reply)), firm };
    const base = `/f/${encodeURIComponent(firm.id)}`;
    const body = html`<p class="muted">Files are named <code>&lt;template&gt;_YYYYMMDD.csv</code>, or
<code>&lt;template&gt;_YYYYMMDD_2.csv</code> and on (digits) for more files of one day, UTF-8, with the header row exactly as below. Each template downloads
empty with one sample row to replace.</p>
<h2>Lists</h2>
<div class="card"><ul>
<li>Country List: <a href="${base}/lists/countries.xlsx" download>Excel (.xlsx)</a> · <a href="${base}/lists/countries.csv" download>CSV</a></li>
${KB_LISTS.filter((l) => l !== 'countries').map((l) => html`<li><a href="${base}/lists/${l}.csv" download>${l}</a> (CSV)</li>`)}
</ul></div>
<h2>Templates</h2>
${TEMPLATES.map(
  (
    t,
  ) => html`<details class="card" id="${t.name}"><summary><strong>${t.name}</strong> <span class="muted">· ${t.columns.length} columns${FIRM_LIST_TEMPLATES.includes(t) ? ' · a firm list' : ''}</span></summary>
<p><a href="${base}/templates/${t.name}.csv" download>Download the empty template with a sample row</a></p>
<table><thead><tr><th>Column</th><th>Type</th><th>Key</th><th>Required</th></tr></thead><tbody>
${t.columns.map((col) => html`<tr><td><code>${col.name}</code></td><td>${typeText(col)}</td><td>${col.key ? 'key' : ''}</td><td>${col.required ? 'required' : ''}</td></tr>`)}
</tbody></table></details>`,
)}`;
    return sendHtml(reply, page(c, 'Templates and lists', 'templates', body));
  });

  app.get<{ Params: P }>('/f/:firm/templates/:name', hide, async (req, reply) => {
    if (!req.user) throw new HttpError(401, 'Sign in first');
    await firmFor(engine, req.user, req.params.firm);
    const name = req.params.name.replace(/\.csv$/, '');
    const t = TEMPLATES.find((x) => x.name === name);
    if (!t) throw notFound('There is no such template.');
    return download(reply, `${t.name}_template.csv`, 'text/csv; charset=utf-8', await sampleCsv(t));
  });

  app.get<{ Params: P }>('/f/:firm/lists/:name', hide, async (req, reply) => {
    if (!req.user) throw new HttpError(401, 'Sign in first');
    return listFile(ctx, reply, await firmFor(engine, req.user, req.params.firm), req.params.name);
  });
}

/** The template routes of the REST API (under /api/v1; the caller is signed in). */
export async function registerTemplateApi(
  api: FastifyInstance,
  ctx: WebContext,
  me: (u: User | undefined) => User,
) {
  const { engine } = ctx;
  api.get(
    '/templates',
    {
      schema: {
        summary: 'Every template: its columns with type, key, required and list',
        tags: ['templates'],
        response: {
          200: {
            type: 'object',
            properties: {
              templates: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    kind: { type: 'string', description: 'import, or a firm list' },
                    columns: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          name: { type: 'string' },
                          type: { type: 'string' },
                          description: { type: 'string' },
                          key: { type: 'boolean' },
                          required: { type: 'boolean' },
                          list: { type: 'string', nullable: true },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          401: errorResponses[401],
        },
      },
    },
    async () => ({
      templates: TEMPLATES.map((t) => ({
        name: t.name,
        kind: FIRM_LIST_TEMPLATES.includes(t) ? 'firm list' : 'import',
        columns: t.columns.map((c) => ({
          name: c.name,
          type: c.parent ? 'parent' : c.type,
          description: typeText(c),
          key: !!c.key,
          required: !!c.required,
          list: c.list ?? null,
        })),
      })),
    }),
  );
  api.get<{ Params: { firm: string; name: string } }>(
    '/firms/:firm/templates/:name',
    {
      schema: {
        summary: 'Download an empty template with a sample row (CSV)',
        tags: ['templates'],
        params: {
          type: 'object',
          properties: { firm: { type: 'string' }, name: { type: 'string' } },
          required: ['firm', 'name'],
        },
        response: downloadResponses('the template: its header and one sample row', 'text/csv'),
      },
    },
    async (req, reply) => {
      await firmFor(engine, me(req.user), req.params.firm);
      const t = TEMPLATES.find((x) => x.name === req.params.name.replace(/\.csv$/, ''));
      if (!t) throw notFound('No such template');
      return download(reply, `${t.name}_template.csv`, 'text/csv; charset=utf-8', await sampleCsv(t));
    },
  );
  api.get<{ Params: { firm: string; name: string } }>(
    '/firms/:firm/lists/:name',
    {
      schema: {
        summary:
          "Download a list: countries.xlsx, countries.csv, a shipped list with the firm's additions, or a firm's own list (CSV)",
        tags: ['templates'],
        params: {
          type: 'object',
          properties: { firm: { type: 'string' }, name: { type: 'string' } },
          required: ['firm', 'name'],
        },
        response: downloadResponses(
          'the list',
          'text/csv',
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        ),
      },
    },
    async (req, reply) =>
      listFile(ctx, reply, await firmFor(engine, me(req.user), req.params.firm), req.params.name),
  );
}
