// A small browser for the web tests: keeps cookies, follows nothing by itself (each test sees every
// redirect), reads the CSRF token of a page's forms, and posts forms as a browser does.

export interface Response {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(
    method: string,
    path: string,
    o: {
      form?: Record<string, string> | [string, string][];
      json?: unknown;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...o.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(o.form).toString();
    } else if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    const r = await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c) || /max-age=0/i.test(c))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: r.status,
      headers: r.headers,
      text: await r.text(),
      location: r.headers.get('location'),
    };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  /** Posts a form of the page at `pagePath` (with its CSRF token) to `action`. */
  async submit(pagePath: string, action: string, fields: Record<string, string> = {}): Promise<Response> {
    const page = await this.get(pagePath);
    return this.request('POST', action, { form: { _csrf: csrfOf(page.text), ...fields } });
  }

  async login(email: string, password: string): Promise<Response> {
    return this.submit('/login', '/login', { email, password });
  }
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1];
}

/** An API client with a token. */
export async function api(
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  json?: unknown,
) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + path, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: r.status, body: body as Record<string, unknown> & unknown[], text, headers: r.headers };
}
