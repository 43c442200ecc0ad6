// The reports web app and REST API on the server's HTTP port. Pages are rendered on the server (no
// script is needed to use them); the API under /api/v1 answers JSON, validated by JSON schemas, and
// documents itself (OpenAPI at /api/openapi.json, browsable at /api/docs). Pages are signed in with a
// session cookie (HttpOnly, SameSite) and every form carries a CSRF token; the API takes API tokens
// (Authorization: Bearer), which a browser never sends by itself. Every firm's route checks the firm
// against the caller: another firm's anything is 404.
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import secureJson from 'secure-json-parse';
import { isCaseportError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import type { FileStore } from '../store/file-store.js';
import { login, logout, SESSION_IDLE_MS, sessionUser, tokenUser, type User } from './accounts.js';
import { registerApi } from './api.js';
import type { Html } from './html.js';
import { errorPage, loginPage, type PageContext, STYLES } from './layout.js';
import { registerPages } from './pages.js';
import { registerSetupPage } from './setup-page.js';
import { registerTemplatePages } from './templates-page.js';

export interface WebContext {
  engine: Engine;
  store: FileStore;
  log?: Logger;
}

export const SESSION_COOKIE = 'caseport_session';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
}

/** A secret kept in the store for every node (cookie signing, CSRF tokens), made by the first to start. */
async function sharedSecret(engine: Engine, name: string): Promise<string> {
  const read = () =>
    engine.db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
  const found = await read();
  if (found) return found.value;
  await engine.db
    .insertInto('settings')
    .values({ name, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return (await read())!.value;
}

/** True if a value (a form or JSON body) holds a NUL character in any string. */
function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 20 || v === null || typeof v !== 'object') return false;
  return Object.entries(v as Record<string, unknown>).some(
    ([k, x]) => k.includes('\u0000') || hasNul(x, depth + 1),
  );
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
export const notFound = (what = 'No such page') => new HttpError(404, what);

/** Runs a change: the store's own refusals (a bad cron, time zone, template, address) are the caller's 400. */
export async function asBadRequest<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isCaseportError(e) && e.code !== 'DATABASE' && e.code !== 'STORAGE')
      throw new HttpError(400, e.message);
    throw e;
  }
}

export function sendHtml(reply: FastifyReply, body: Html, status = 200) {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store')
    .send(body.text);
}

/** A CSRF token for the forms of a page, good only with the request's session (or none, to sign in). */
export function csrfToken(req: FastifyRequest, reply: FastifyReply): string {
  return reply.generateCsrf({ userInfo: req.cookies[SESSION_COOKIE] || 'no-session' });
}

/** The signed-in user of a page request, and a CSRF token for its forms. */
export async function pageContext(req: FastifyRequest, reply: FastifyReply): Promise<PageContext> {
  if (!req.user) throw new HttpError(401, 'Sign in first');
  return { user: req.user, csrf: csrfToken(req, reply) };
}

const API_ERRORS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** Where to go after signing in: a path of this site only (no second slash or backslash after the
 * first, no control characters), percent-encoded as a Location header must be; else the start page. */
export function safeNext(v: unknown): string {
  if (typeof v !== 'string' || v.length > 2000 || !/^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/.test(v))
    return '/';
  try {
    const u = new URL(v, 'http://caseport.invalid');
    return u.origin === 'http://caseport.invalid' ? u.pathname + u.search + u.hash : '/';
  } catch {
    return '/';
  }
}

/** The path of the page a form was posted from (this site's, by the Referer header), if any. */
function refererPath(req: FastifyRequest): string | undefined {
  const ref = req.headers.referer;
  if (!ref) return undefined;
  try {
    const u = new URL(ref);
    return u.host === req.headers.host ? safeNext(u.pathname + u.search) : undefined;
  } catch {
    return undefined;
  }
}

/** The page a form posted to `url` is on, when the browser sent no Referer. */
function formPage(url: string): string | undefined {
  const path = url.split('?')[0];
  const m = /^\/f\/[^/]+\/(?:setup|files\/\d+)/.exec(path);
  if (m) return safeNext(m[0]);
  return path.startsWith('/account') ? '/account' : undefined;
}

/** Errors Fastify meets before a route (an address with bad percent-encoding): said like any other. */
export function frameworkError(_err: Error, req: FastifyRequest, reply: FastifyReply) {
  const message = 'The address is not valid: it has a character or percent-encoding that cannot be read.';
  if (req.url.startsWith('/api/')) return reply.code(400).send({ error: 'bad_request', message });
  return sendHtml(reply, errorPage(undefined, 400, message), 400);
}

/**
 * Request validation. A JSON body is taken as sent: a number is not text, a key the schema does not
 * name is refused, not dropped. Path and query parameters arrive as text, so there numbers are read
 * from text and unknown query keys are left out.
 */
function registerValidation(app: FastifyInstance): void {
  const bodies = new Ajv({
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
  });
  const params = new Ajv({
    coerceTypes: 'array',
    removeAdditional: true,
    useDefaults: true,
    allErrors: false,
  });
  for (const ajv of [bodies, params]) {
    addFormats.default(ajv);
    ajv.addKeyword('example');
  }
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodies : params).compile(schema as object),
  );
  // "body.body must be string", "body: "colour" is not a field of this request".
  app.setSchemaErrorFormatter((errors, part) => {
    const e = errors[0];
    const where = `${part}${(e.instancePath ?? '').replace(/\//g, '.')}`;
    const params = (e.params ?? {}) as Record<string, unknown>;
    if (e.keyword === 'additionalProperties')
      return new Error(`${where}: "${String(params.additionalProperty)}" is not a field of this request`);
    return new Error(`${where} ${e.message ?? 'is not valid'}`);
  });

  // JSON bodies: UTF-8 only (a byte that is not is refused, not replaced by U+FFFD), and no key that
  // would reach an object's prototype.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, buf, done) => {
    const fail = (message: string) => done(new HttpError(400, message), undefined);
    let text: string;
    try {
      text = utf8.decode(buf as Buffer);
    } catch {
      return fail('The body is not UTF-8 text.');
    }
    if (text.trim() === '') return fail('The body is empty: send a JSON object.');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return fail(`The body is not valid JSON: ${(e as Error).message}`);
    }
    try {
      if (value !== null && typeof value === 'object')
        secureJson.scan(value as Record<string, unknown>, {
          protoAction: 'error',
          constructorAction: 'error',
        });
    } catch {
      return fail('The body may not have a "__proto__" or "constructor.prototype" key.');
    }
    done(null, value);
  });
}

/** Cookies only over HTTPS: set CASEPORT_SECURE_COOKIES=1 behind TLS. */
export const secureCookies = () => process.env.CASEPORT_SECURE_COOKIES === '1';

export async function registerWeb(app: FastifyInstance, ctx: WebContext): Promise<void> {
  const secret = await sharedSecret(ctx.engine, 'web_secret');
  registerValidation(app);
  await app.register(fastifyCookie, { secret });
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  await app.register(fastifyCsrf, {
    cookieKey: 'caseport_csrf',
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, signed: true, secure: secureCookies() },
    // A token is good only with the session it was made for (no cookie tossing across sessions).
    getUserInfo: (req: FastifyRequest) => req.cookies[SESSION_COOKIE] || 'no-session',
    csrfOpts: { hmacKey: secret },
    getToken: (req: FastifyRequest) => {
      const b = req.body as Record<string, unknown> | undefined;
      const t = b && typeof b === 'object' ? b._csrf : undefined;
      return typeof t === 'string' ? t : (req.headers['x-csrf-token'] as string | undefined);
    },
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Caseport API',
        version: '1',
        description:
          "Reports of a firm's integration: files that need attention, their errors, comments and " +
          'acknowledgement, completed and upcoming runs, tasks, billing, templates and records. ' +
          'Authenticate with an API token: `Authorization: Bearer <token>` (create one on your account page).',
      },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
      security: [{ token: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Who is asking: a session cookie (pages) or an API token (API).
  const sessionCookie = {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: secureCookies(),
    maxAge: Math.floor(SESSION_IDLE_MS / 1000),
  };
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/v1/')) {
      const auth = req.headers.authorization;
      const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
      req.user = await tokenUser(ctx.engine, m?.[1]);
      const type = req.headers['content-type'];
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || !!req.headers['transfer-encoding'];
      if (hasBody && !/^application\/json\s*(;|$)/i.test(type ?? ''))
        throw new HttpError(415, 'The API takes JSON bodies only: Content-Type: application/json.');
    } else if (req.cookies[SESSION_COOKIE]) {
      req.user = await sessionUser(ctx.engine, req.cookies[SESSION_COOKIE]);
      // The session lasts 12 hours from its last use: the cookie is renewed with it.
      if (req.user) reply.setCookie(SESSION_COOKIE, req.cookies[SESSION_COOKIE], sessionCookie);
    }
  });

  // A page's query parameter given twice is refused (the API's schemas do the same for the API).
  app.addHook('preValidation', async (req) => {
    if (req.url.startsWith('/api/')) return;
    for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>))
      if (Array.isArray(v)) throw new HttpError(400, `The parameter "${k}" was given more than once.`);
  });

  // PostgreSQL text holds no NUL character: a request carrying one is refused, on both stores alike.
  app.addHook('preHandler', async (req) => {
    if (/%00/.test(req.url) || hasNul(req.body))
      throw new HttpError(400, 'The request contains a NUL character, which no field can hold.');
  });

  app.setNotFoundHandler(async (req, reply) => {
    if (req.url.startsWith('/api/'))
      return reply.code(404).send({ error: 'not_found', message: 'No such resource' });
    const ctx2 = req.user ? await pageContext(req, reply) : undefined;
    return sendHtml(reply, errorPage(ctx2, 404, 'There is no such page.'), 404);
  });

  app.setErrorHandler(
    async (err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
      const api = req.url.startsWith('/api/');
      let status = err instanceof HttpError ? err.status : (err.statusCode ?? 500);
      let message = err.message;
      if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
        status = 403;
        message = 'The form has expired or did not come from this site: reload the page and try again.';
      } else if (status >= 500) {
        ctx.log?.error({ err, url: req.url }, 'web request failed');
        message = 'Something went wrong on our side. Try again; if it persists, tell your operator.';
      }
      if (api) {
        const error = API_ERRORS[status] ?? 'error';
        return reply.code(status).send({ error, message });
      }
      if (status === 401) {
        // Back to where the user was: the page itself, or for a form, the page the form was on.
        const back = req.method === 'GET' ? req.url : (refererPath(req) ?? formPage(req.url));
        return reply.redirect(
          back && back !== '/' ? `/login?next=${encodeURIComponent(back)}` : '/login',
          303,
        );
      }
      const ctx2 = req.user ? { user: req.user, csrf: csrfToken(req, reply) } : undefined;
      return sendHtml(reply, errorPage(ctx2, status, message), status);
    },
  );

  app.get('/assets/app.css', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(STYLES),
  );

  /** Where to go after signing in: a path of this site only (no second slash or backslash after the
   * first, no control characters), else the start page. */

  app.get('/login', { schema: { hide: true } }, async (req, reply) => {
    const next = safeNext((req.query as Record<string, unknown>).next);
    if (req.user) return reply.redirect(next, 303);
    return sendHtml(reply, loginPage({ csrf: csrfToken(req, reply), next }));
  });

  app.post('/login', { schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(b.next ?? (req.query as Record<string, unknown>).next);
    const email = typeof b.email === 'string' ? b.email : '';
    const password = typeof b.password === 'string' ? b.password : '';
    const r = await login(ctx.engine, email, password, req.ip);
    if (!r.ok) {
      const error =
        r.reason === 'throttled'
          ? `Too many failed sign-ins. Try again in ${Math.ceil((r.retryAfterS ?? 60) / 60)} minute(s).`
          : 'That e-mail and password do not match an account.';
      if (r.retryAfterS) reply.header('retry-after', String(r.retryAfterS));
      return sendHtml(
        reply,
        loginPage({ csrf: csrfToken(req, reply), error, email, next }),
        r.reason === 'throttled' ? 429 : 401,
      );
    }
    reply.setCookie(SESSION_COOKIE, r.session, sessionCookie);
    return reply.redirect(next, 303);
  });

  app.post('/logout', { schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
    await logout(ctx.engine, req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });

  await registerPages(app, ctx);
  await registerTemplatePages(app, ctx);
  await registerSetupPage(app, ctx);
  await registerApi(app, ctx);
}
