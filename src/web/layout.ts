// The frame of every page: the product's header, the firm's navigation and the signed-in user, a
// stylesheet of its own (no framework), and the shared pieces (tables, pagers, empty states, times).
import type { User } from './accounts.js';
import { type Html, html, raw } from './html.js';

export interface PageContext {
  user: User;
  /** The firm the page is about (a firm user's own; an operator's choice). */
  firm?: { id: string; name: string; timezone: string };
  csrf: string;
}

const NAV = [
  ['attention', 'Need attention'],
  ['completed', 'Completed runs'],
  ['upcoming', 'Upcoming runs'],
  ['setup', 'Setup'],
  ['billing', 'Billing'],
  ['templates', 'Templates'],
  ['clients', 'Clients'],
] as const;

export type Section = (typeof NAV)[number][0] | 'account' | 'firms' | 'file';

export function page(ctx: PageContext, title: string, section: Section, body: Html): Html {
  const f = ctx.firm;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${f ? `${f.name} · ` : ''}Caseport</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">Caseport</a>
  ${f ? html`<span class="firm" title="Firm">${f.name}</span>` : ''}
  ${ctx.user.role === 'operator' ? html`<a class="firms-link" href="/firms">All firms</a>` : ''}
  <span class="spacer"></span>
  <a href="/account" ${section === 'account' ? raw('aria-current="page"') : ''}>${ctx.user.email}</a>
  <form method="post" action="/logout" class="inline">
    <input type="hidden" name="_csrf" value="${ctx.csrf}">
    <button type="submit" class="link">Sign out</button>
  </form>
</header>
${
  f
    ? html`<nav class="tabs" aria-label="Reports">${NAV.map(
        ([key, label]) =>
          html`<a href="/f/${encodeURIComponent(f.id)}/${key}" ${section === key ? raw('aria-current="page"') : ''}>${label}</a>`,
      )}</nav>`
    : ''
}
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

export function loginPage(o: { csrf: string; error?: string; email?: string; next?: string }): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Caseport</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="login">
<main id="main" class="card narrow">
<h1>Caseport</h1>
<p class="muted">Integration reports for your immigration cases.</p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/login">
  <input type="hidden" name="_csrf" value="${o.csrf}">
  ${o.next && o.next !== '/' ? html`<input type="hidden" name="next" value="${o.next}">` : ''}
  <label>E-mail <input type="email" name="email" autocomplete="username" required value="${o.email ?? ''}" autofocus></label>
  <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
  <button type="submit" class="primary">Sign in</button>
</form>
</main>
</body>
</html>`;
}

export function errorPage(ctx: PageContext | undefined, status: number, message: string): Html {
  const body = html`<p class="error" role="alert">${message}</p><p><a href="/">Back to the start</a></p>`;
  // The request's fault (4xx) is not "something went wrong" on our side.
  const title =
    status === 404
      ? 'Not found'
      : status === 403
        ? 'Not allowed'
        : status < 500
          ? 'That request cannot be answered'
          : 'Something went wrong';
  if (!ctx) {
    return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · Caseport</title>
<link rel="stylesheet" href="/assets/app.css"></head><body class="login"><main id="main" class="card narrow"><h1>${title}</h1>${body}</main></body></html>`;
  }
  return page(ctx, title, 'file', body);
}

/** A time as the firm reads it (its time zone, named), with UTC in the tooltip. */
export function when(iso: string | null | undefined, timezone: string): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  const day = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
  }).format(d);
  const time = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(d);
  // A narrow column breaks between the day and the time, never inside either.
  return html`<time datetime="${d.toISOString()}" title="${d.toISOString().replace('T', ' ').slice(0, 19)} UTC"><span class="nw">${day},</span> <span class="nw">${time}</span></time>`;
}

export function duration(start: string | null, end: string | null): string {
  if (!start || !end) return '—';
  const s = Math.max(0, (Date.parse(end) - Date.parse(start)) / 1000);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const num = (n: number) => n.toLocaleString('en-US');

export function statusBadge(status: string): Html {
  return html`<span class="badge ${status}">${status[0].toUpperCase() + status.slice(1)}</span>`;
}

export function empty(message: string, hint?: Html | string): Html {
  return html`<div class="empty"><p>${message}</p>${hint ? html`<p class="muted">${hint}</p>` : ''}</div>`;
}

/** First / previous / next / last links over `total` items and a page to go to, keeping the other
 * query parameters. */
export function pager(
  base: string,
  params: Record<string, string | undefined>,
  pageNo: number,
  size: number,
  total: number,
): Html {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages <= 1) return html``;
  const kept = Object.entries(params).filter((e): e is [string, string] => !!e[1] && e[0] !== 'page');
  const link = (p: number) => {
    const q = new URLSearchParams(kept);
    q.set('page', String(p));
    return `${base}?${q}`;
  };
  const to = (p: number, label: string, rel: string, on: boolean) =>
    on ? html`<a href="${link(p)}" rel="${rel}">${label}</a>` : html`<span class="muted">${label}</span>`;
  return html`<nav class="pager" aria-label="Pages">
  ${to(1, '« First', 'first', pageNo > 1)} ${to(pageNo - 1, '← Previous', 'prev', pageNo > 1)}
  <span>Page ${num(pageNo)} of ${num(pages)}</span>
  ${to(pageNo + 1, 'Next →', 'next', pageNo < pages)} ${to(pages, 'Last »', 'last', pageNo < pages)}
  <form method="get" action="${base}" class="inline">${kept.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <label>Go to page <input name="page" type="number" min="1" max="${pages}" value="${pageNo}" size="6"></label> <button type="submit">Go</button></form>
</nav>`;
}

export const STYLES = `
:root { --ink:#1d2433; --muted:#5b6478; --line:#dde2ea; --bg:#f6f7fa; --brand:#1f4e8c; --brand-ink:#fff;
  --ok:#1c7c4a; --warn:#a4620a; --bad:#b3261e; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:var(--bg); font-size:15px; line-height:1.45; }
a { color:var(--brand); overflow-wrap:anywhere; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline:3px solid #f2b705; outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:6px; z-index:2; }
.top { display:flex; align-items:center; gap:16px; padding:10px 24px; background:var(--brand); color:var(--brand-ink); }
.top a, .top .link { color:var(--brand-ink); }
.brand { font-weight:700; font-size:18px; text-decoration:none; letter-spacing:.3px; }
.firm { padding:2px 10px; border:1px solid rgba(255,255,255,.5); border-radius:12px; }
.spacer { flex:1; }
.tabs { display:flex; flex-wrap:wrap; gap:4px; padding:0 24px; background:#fff; border-bottom:1px solid var(--line); }
.tabs a { padding:10px 12px; text-decoration:none; color:var(--muted); border-bottom:3px solid transparent; }
.tabs a[aria-current=page] { color:var(--ink); border-bottom-color:var(--brand); font-weight:600; }
main { max-width:1200px; margin:0 auto; padding:16px 24px 48px; }
h1 { font-size:22px; margin:8px 0 16px; overflow-wrap:anywhere; } h2 { font-size:17px; margin:24px 0 8px; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); table-layout:auto; }
th, td { text-align:left; padding:8px 10px; border-bottom:1px solid var(--line); vertical-align:top; overflow-wrap:anywhere; }
th { white-space:nowrap; }
.nw { white-space:nowrap; }
td code { display:inline-block; min-width:12ch; max-width:22em; overflow-wrap:anywhere; }
th { background:#eef1f6; font-weight:600; font-size:13px; color:var(--muted); }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; background:#e8ebf1; }
.badge.completed { background:#dff3e7; color:var(--ok); } .badge.incomplete { background:#fdf0d9; color:var(--warn); }
.badge.interrupted, .badge.failed { background:#fbe1df; color:var(--bad); } .badge.paused { background:#e8ebf1; color:var(--muted); }
.muted { color:var(--muted); }
.error { color:var(--bad); background:#fbe1df; padding:8px 12px; border-radius:6px; }
strong.bad { color:var(--bad); }
.notice { color:var(--ok); background:#dff3e7; padding:8px 12px; border-radius:6px; }
.empty { background:#fff; border:1px dashed var(--line); padding:24px; text-align:center; border-radius:8px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin-bottom:16px; }
.narrow { max-width:420px; margin:64px auto; }
.login label, form.stack label { display:block; margin:12px 0; font-weight:600; }
input, select, textarea { font:inherit; padding:6px 8px; border:1px solid #b9c1cf; border-radius:6px; background:#fff; }
.login input { width:100%; margin-top:4px; }
textarea { width:100%; min-height:70px; }
button { font:inherit; padding:6px 14px; border-radius:6px; border:1px solid #b9c1cf; background:#fff; cursor:pointer; }
button.primary { background:var(--brand); color:#fff; border-color:var(--brand); }
button.link { background:none; border:none; padding:0; text-decoration:underline; cursor:pointer; }
form.inline { display:inline; }
.filters { display:flex; flex-wrap:wrap; gap:12px; align-items:end; margin-bottom:16px; }
.filters label { display:flex; flex-direction:column; font-size:13px; color:var(--muted); gap:2px; }
.pager { display:flex; gap:16px; justify-content:center; align-items:center; flex-wrap:wrap; padding:12px; }
.pager input { width:6em; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; margin:0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; min-width:0; overflow-wrap:anywhere; }
.cols { display:grid; grid-template-columns:minmax(0,2fr) minmax(0,1fr); gap:16px; } @media (max-width:900px) { .cols { grid-template-columns:1fr; } }
.chart { margin:0; background:#fff; border:1px solid var(--line); border-radius:8px; padding:8px; }
details.card summary { cursor:pointer; }
.sr { position:absolute; left:-9999px; }
.scroll { overflow-x:auto; }
.comment { border-left:3px solid var(--line); padding:4px 12px; margin:8px 0; white-space:pre-wrap; overflow-wrap:anywhere; }
.actions { display:flex; gap:12px; flex-wrap:wrap; align-items:center; margin:12px 0; } .actions > * { min-width:0; }
code { background:#eef1f6; padding:1px 4px; border-radius:4px; overflow-wrap:anywhere; }
`;
