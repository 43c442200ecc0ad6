// Notifications: an e-mail (SMTP, nodemailer) and/or a signed webhook when a file needs attention and
// when a run completes. Each is written to the outbox in the transaction of its event (so a committed
// event is never left untold, and a rolled-back one never told), then delivered by the server's
// notifier: claimed (a conditional update, so two processes never send the same one), sent, and marked
// sent, or retried with a back-off and at last marked failed with the reason.
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Kysely, Transaction } from 'kysely';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { configError, usageError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import type { Database } from '../store/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** nodemailer's own reading of an smtp:// URL into transport options. */
const { parseConnectionUrl } = createRequire(import.meta.url)('nodemailer/lib/shared/index.js') as {
  parseConnectionUrl: (url: string) => Record<string, unknown>;
};

export type NotifyEvent = 'attention' | 'completed';

export interface NotifySettings {
  emails: string[];
  webhookUrl: string | null;
  /** The secret the webhook's signature is made with (shown to operators to give the receiver). */
  webhookSecret: string | null;
}

const EMAIL = /^[^\s@,]{1,64}@[^\s@,]{1,255}$/;
export const MAX_ATTEMPTS = 6;
const backoffMs = (attempts: number) => Math.min(30 * 60_000, 10_000 * 2 ** Math.max(0, attempts - 1));

export async function getNotifySettings(db: Db, firmId: string): Promise<NotifySettings> {
  const r = await db
    .selectFrom('notify_settings')
    .selectAll()
    .where('firm_id', '=', firmId)
    .executeTakeFirst();
  return {
    emails: r?.emails ? r.emails.split(',').filter(Boolean) : [],
    webhookUrl: r?.webhook_url ?? null,
    webhookSecret: r?.webhook_secret ?? null,
  };
}

/** The channels as they will be stored, or a USAGE error naming the bad address or URL. */
export function checkNotifySettings(o: { emails: string | string[]; webhookUrl: string }): {
  emails: string[];
  url: string;
} {
  // Text (a form) is split at commas, semicolons and spaces; a list (the API) is taken entry by entry.
  const given = Array.isArray(o.emails) ? o.emails : o.emails.split(/[\s,;]+/);
  const emails = [...new Set(given.map((e) => e.trim().toLowerCase()).filter(Boolean))];
  const bad = emails.find((e) => !EMAIL.test(e));
  if (bad) throw usageError(`"${bad}" is not an e-mail address`);
  if (emails.length > 20) throw usageError('at most 20 e-mail addresses');
  const url = o.webhookUrl.trim();
  if (url) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw usageError(`"${url}" is not a URL`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw usageError('a webhook URL is http:// or https://');
    if (u.username || u.password)
      throw usageError(
        'a webhook URL may not hold a user name or password: the signature tells the receiver it is Caseport',
      );
  }
  return { emails, url };
}

/** Sets a firm's channels; a new webhook gets a new secret. Bad addresses or URLs are refused. */
export async function setNotifySettings(
  engine: Engine,
  firmId: string,
  o: { emails: string | string[]; webhookUrl: string },
): Promise<NotifySettings> {
  const { emails, url } = checkNotifySettings(o);
  const before = await getNotifySettings(engine.db, firmId);
  const secret = !url
    ? null
    : url === before.webhookUrl && before.webhookSecret
      ? before.webhookSecret
      : randomBytes(24).toString('base64url');
  const row = {
    emails: emails.join(','),
    webhook_url: url || null,
    webhook_secret: secret,
    updated_at: new Date().toISOString(),
  };
  await engine.db
    .insertInto('notify_settings')
    .values({ firm_id: firmId, ...row })
    .onConflict((oc) => oc.column('firm_id').doUpdateSet(row))
    .execute();
  return getNotifySettings(engine.db, firmId);
}

/** Writes the notifications of an event to the outbox, in the caller's transaction. */
export async function enqueue(
  db: Db,
  firmId: string,
  event: NotifyEvent,
  payload: Record<string, unknown>,
): Promise<void> {
  const s = await getNotifySettings(db, firmId);
  const targets: Array<[string, string]> = s.emails.map((e) => ['email', e]);
  if (s.webhookUrl) targets.push(['webhook', s.webhookUrl]);
  if (targets.length === 0) return;
  const now = Date.now();
  const body = JSON.stringify({ event, firm: firmId, at: new Date(now).toISOString(), ...payload });
  await db
    .insertInto('notifications')
    .values(
      targets.map(([channel, target]) => ({
        firm_id: firmId,
        event,
        channel,
        target,
        payload: body,
        status: 'pending',
        next_at: now,
        created_at: new Date(now).toISOString(),
      })),
    )
    .execute();
}

/** The signature a receiver checks: HMAC-SHA256 of "<timestamp>.<body>" with the firm's secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export interface MailConfig {
  /** smtp://user:pass@host:port or smtps://... (CASEPORT_SMTP_URL). */
  url: string;
  from: string;
}

export function mailConfigFromEnv(env = process.env): MailConfig | undefined {
  const url = env.CASEPORT_SMTP_URL?.trim();
  if (!url) return undefined;
  if (!/^smtps?:\/\//i.test(url))
    throw configError(`CASEPORT_SMTP_URL: "${url}" is not an smtp:// or smtps:// URL`);
  return { url, from: env.CASEPORT_MAIL_FROM?.trim() || 'Caseport <caseport@localhost>' };
}

function mailOf(event: string, p: Record<string, unknown>): { subject: string; text: string } {
  const file = typeof p.file === 'string' ? p.file : '';
  const counts = p.rows as Record<string, number> | undefined;
  const rows = counts
    ? `${counts.total} rows: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.rejected} rejected.`
    : '';
  const base = process.env.CASEPORT_PUBLIC_URL?.trim().replace(/\/+$/, '');
  const firm = encodeURIComponent(String(p.firm));
  const link = (path: string, words: string) =>
    base ? `${words}: ${base}/f/${firm}/${path}\n` : `${words} in the reports.\n`;
  const kind = p.kind === 'export' ? 'Export' : 'Import';
  const files = ((p.files as Array<Record<string, unknown>>) ?? [])
    .map((f) => `- ${f.name}: ${f.status}`)
    .join('\n');
  if (event === 'attention' && p.fileId === undefined) {
    // A run that stopped without a file to show (an export that failed).
    return {
      subject: `[Caseport] ${kind} run ${p.jobId} failed`,
      text: `The ${kind.toLowerCase()} run ${p.jobId} of ${p.firm} stopped: ${p.message}\n${link('completed', 'See it')}`,
    };
  }
  if (event === 'attention') {
    return {
      subject: `[Caseport] ${file} needs attention (${p.status})`,
      text: `The file ${file} of ${p.firm} finished ${p.status}.\n${rows}\n${p.message ? `${p.message}\n` : ''}\n${link(`files/${p.fileId}`, 'Review its errors and download its result file')}`,
    };
  }
  const needs = ((p.files as Array<Record<string, unknown>>) ?? []).filter((f) =>
    ['incomplete', 'interrupted'].includes(String(f.status)),
  ).length;
  return {
    subject: `[Caseport] ${kind} run ${p.jobId} finished${needs > 0 ? `: ${needs} file${needs > 1 ? 's' : ''} need${needs > 1 ? '' : 's'} attention` : ''}`,
    text: `The ${kind.toLowerCase()} run ${p.jobId} of ${p.firm} finished.\n${files}\n\n${link('completed', 'Completed runs')}`,
  };
}

/** How long a claim on a notification lasts: longer than any send can take (webhook and SMTP limits). */
const CLAIM_MS = 10 * 60_000;
const WEBHOOK_TIMEOUT_MS = 10_000;
/** At most this many notifications of each channel are in flight in one process: slow e-mails never
 * hold up webhooks, nor webhooks e-mails. */
const IN_FLIGHT = 10;
/** An SMTP server silent this long fails the send. */
export const SMTP_SILENCE_MS = 30_000;
const CHANNELS = ['email', 'webhook'] as const;

/**
 * Delivers due notifications until stopped (the server runs one in each process). Each is claimed by a
 * conditional update (one process sends it), sent concurrently with the others (a slow SMTP server holds
 * up its own e-mails only), to the firm's channels as they are when it is sent (a removed address or a
 * changed webhook gets nothing more).
 */
export class Notifier {
  private transport: nodemailer.Transporter | undefined;
  private readonly inFlight = new Map<number, { channel: string; sending: Promise<void> }>();
  private readonly stopping = new AbortController();
  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly mail: MailConfig | undefined = mailConfigFromEnv(),
  ) {
    if (mail)
      this.transport = nodemailer.createTransport({
        // Bounded, well inside a claim: a server that stops answering fails the send, to be retried.
        // (Given with a URL, nodemailer takes the URL's options only: the URL is read into options here,
        // and its query, e.g. ?socketTimeout=60000, still has the last word.)
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: SMTP_SILENCE_MS,
        dnsTimeout: 10_000,
        ...parseConnectionUrl(mail.url),
      } as nodemailer.TransportOptions);
  }

  /** Claims what is due now, up to `limit` of each channel less those in flight, and starts sending it. */
  private async start(limit: number): Promise<Promise<void>[]> {
    const now = Date.now();
    // A process that died while sending leaves its claims: they are pending again when the claim ends.
    await this.engine.db
      .updateTable('notifications')
      .set({ status: 'pending' })
      .where('status', '=', 'sending')
      .where('next_at', '<', now)
      .execute();
    const started: Promise<void>[] = [];
    for (const channel of CHANNELS) {
      const busy = [...this.inFlight.values()].filter((f) => f.channel === channel).length;
      if (limit - busy <= 0) continue;
      const due = await this.engine.db
        .selectFrom('notifications')
        .selectAll()
        .where('status', '=', 'pending')
        .where('channel', '=', channel)
        .where('next_at', '<=', now)
        .orderBy('id')
        .limit(limit - busy)
        .execute();
      for (const d of due) {
        const id = Number(d.id);
        if (this.inFlight.has(id)) continue;
        const claimed = await this.engine.db
          .updateTable('notifications')
          .set({ status: 'sending', attempts: d.attempts + 1, next_at: now + CLAIM_MS })
          .where('id', '=', d.id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) === 0) continue;
        const sending = this.deliver(d, d.attempts + 1)
          .catch((e) => this.log.warn({ err: e, id }, 'notifier: the store failed; the claim will end'))
          .finally(() => this.inFlight.delete(id));
        this.inFlight.set(id, { channel, sending });
        started.push(sending);
      }
    }
    return started;
  }

  /** Sends what is due now and waits for it; returns how many were handled. */
  async deliverDue(limit = IN_FLIGHT): Promise<number> {
    const started = await this.start(limit);
    await Promise.all(started);
    return started.length;
  }

  private async deliver(
    d: { id: number; firm_id: string; event: string; channel: string; target: string; payload: string },
    attempts: number,
  ): Promise<void> {
    let outcome: { status: 'sent' } | { status: 'dropped' | 'failed' | 'pending'; error: string };
    try {
      const dropped = await this.send(d);
      outcome = dropped ? { status: 'dropped', error: dropped } : { status: 'sent' };
    } catch (e) {
      const error = reasonOf(e);
      outcome = { status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending', error };
      this.log.warn(
        { id: d.id, channel: d.channel, target: d.target, attempts, error },
        'notification not delivered',
      );
    }
    await this.engine.db
      .updateTable('notifications')
      .set(
        outcome.status === 'sent'
          ? { status: 'sent', sent_at: new Date().toISOString(), last_error: null }
          : {
              status: outcome.status,
              next_at: Date.now() + backoffMs(attempts),
              last_error: outcome.error.slice(0, 1000),
            },
      )
      .where('id', '=', d.id)
      .execute();
  }

  /** Sends one notification; returns why it was not sent when its channel is gone. */
  private async send(d: {
    firm_id: string;
    event: string;
    channel: string;
    target: string;
    payload: string;
  }): Promise<string | undefined> {
    const payload = JSON.parse(d.payload) as Record<string, unknown>;
    const settings = await getNotifySettings(this.engine.db, d.firm_id);
    if (d.channel === 'email') {
      if (!settings.emails.includes(d.target)) return 'the address was removed before this was sent';
      if (!this.transport || !this.mail) throw new Error('no SMTP server is configured (CASEPORT_SMTP_URL)');
      const m = mailOf(d.event, payload);
      await this.transport.sendMail({ from: this.mail.from, to: d.target, subject: m.subject, text: m.text });
      return undefined;
    }
    // Signed with the secret of this very URL, never with another's or with none.
    if (settings.webhookUrl !== d.target || !settings.webhookSecret)
      return 'the webhook was changed or removed before this was sent';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = webhookSignature(settings.webhookSecret, timestamp, d.payload);
    const r = await fetch(d.target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Caseport-Webhook/1',
        'x-caseport-event': d.event,
        'x-caseport-timestamp': timestamp,
        'x-caseport-signature': `sha256=${signature}`,
      },
      body: d.payload,
      signal: AbortSignal.any([AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), this.stopping.signal]),
      redirect: 'manual',
    });
    // The answer's status is all that counts: its body is not read (a receiver could send gigabytes).
    await r.body?.cancel().catch(() => undefined);
    if (r.status < 200 || r.status >= 300) throw new Error(`the webhook answered HTTP ${r.status}`);
    return undefined;
  }

  /** Delivers every `everyMs` until the signal aborts; then waits up to `graceMs` for sends under way. */
  async run(signal: AbortSignal, everyMs = 1000, graceMs = 5000): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.start(IN_FLIGHT);
      } catch (e) {
        this.log.warn({ err: e }, 'notifier: the store failed; trying again');
      }
      await sleep(everyMs, signal);
    }
    // Webhooks under way are cut short (retried later); an e-mail has `graceMs` to finish, then its
    // claim lets another process retry it when the claim ends.
    this.stopping.abort();
    const sending = [...this.inFlight.values()].map((f) => f.sending);
    await Promise.race([Promise.allSettled(sending), sleep(graceMs)]);
    this.transport?.close();
  }
}

/** What went wrong, with the cause fetch hides ("fetch failed: ECONNREFUSED"). */
function reasonOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (e.name === 'TimeoutError') return `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`;
  return cause ? `${e.message}: ${cause.code ?? cause.message}` : e.message;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
