// Notifications: an e-mail (SMTP, nodemailer) and/or a signed webhook when a file needs attention and
// when a run completes. Each is written to the outbox in the transaction of its event (so a committed
// event is never left untold, and a rolled-back one never told), then delivered by the server's
// notifier: claimed one at a time (a conditional update, so two processes never send the same one),
// sent, and marked sent, or retried with a back-off and at last marked failed with the reason.
import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { configError, usageError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import type { Database } from '../store/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

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
export function checkNotifySettings(o: { emails: string; webhookUrl: string }): {
  emails: string[];
  url: string;
} {
  const emails = o.emails
    .split(/[\s,;]+/)
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
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
  }
  return { emails, url };
}

/** Sets a firm's channels; a new webhook gets a new secret. Bad addresses or URLs are refused. */
export async function setNotifySettings(
  engine: Engine,
  firmId: string,
  o: { emails: string; webhookUrl: string },
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
    ? `${counts.total} rows: ${counts.created} created, ${counts.updated} updated, ${counts.rejected} rejected.`
    : '';
  if (event === 'attention') {
    return {
      subject: `[Caseport] ${file} needs attention (${p.status})`,
      text: `The file ${file} of ${p.firm} finished ${p.status}.\n${rows}\n${p.message ? `${p.message}\n` : ''}\nReview its errors and download its result file in the reports: Need Attention.\n`,
    };
  }
  return {
    subject: `[Caseport] ${p.kind === 'export' ? 'Export' : 'Import'} run ${p.jobId} completed`,
    text: `The ${p.kind} run ${p.jobId} of ${p.firm} completed.\n${((p.files as Array<Record<string, unknown>>) ?? []).map((f) => `- ${f.name}: ${f.status}`).join('\n')}\n`,
  };
}

/** Delivers due notifications until stopped (the server runs one in each process). */
export class Notifier {
  private transport: nodemailer.Transporter | undefined;
  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly mail: MailConfig | undefined = mailConfigFromEnv(),
  ) {
    if (mail) this.transport = nodemailer.createTransport(mail.url);
  }

  /** Sends what is due now; returns how many were handled. */
  async deliverDue(limit = 20): Promise<number> {
    const now = Date.now();
    const due = await this.engine.db
      .selectFrom('notifications')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .execute();
    let n = 0;
    for (const d of due) {
      // Claimed by one process: the update that finds it still pending wins.
      const claimed = await this.engine.db
        .updateTable('notifications')
        .set({ status: 'sending', attempts: d.attempts + 1, next_at: now + 5 * 60_000 })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) continue;
      n++;
      let error: string | undefined;
      try {
        await this.send(d);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const attempts = d.attempts + 1;
      await this.engine.db
        .updateTable('notifications')
        .set(
          error === undefined
            ? { status: 'sent', sent_at: new Date().toISOString(), last_error: null }
            : {
                status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
                next_at: Date.now() + backoffMs(attempts),
                last_error: error.slice(0, 1000),
              },
        )
        .where('id', '=', d.id)
        .execute();
      if (error)
        this.log.warn(
          { id: d.id, channel: d.channel, target: d.target, attempts, error },
          'notification not delivered',
        );
    }
    // A process that died while sending leaves its claims: they are pending again after 5 minutes.
    await this.engine.db
      .updateTable('notifications')
      .set({ status: 'pending' })
      .where('status', '=', 'sending')
      .where('next_at', '<', now)
      .execute();
    return n;
  }

  private async send(d: {
    firm_id: string;
    event: string;
    channel: string;
    target: string;
    payload: string;
  }) {
    const payload = JSON.parse(d.payload) as Record<string, unknown>;
    if (d.channel === 'email') {
      if (!this.transport || !this.mail) throw new Error('no SMTP server is configured (CASEPORT_SMTP_URL)');
      const m = mailOf(d.event, payload);
      await this.transport.sendMail({ from: this.mail.from, to: d.target, subject: m.subject, text: m.text });
      return;
    }
    const settings = await getNotifySettings(this.engine.db, d.firm_id);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = webhookSignature(settings.webhookSecret ?? '', timestamp, d.payload);
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
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    });
    await r.arrayBuffer().catch(() => undefined);
    if (r.status < 200 || r.status >= 300) throw new Error(`the webhook answered HTTP ${r.status}`);
  }

  /** Delivers every `everyMs` until the signal aborts. */
  async run(signal: AbortSignal, everyMs = 1000): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.deliverDue();
      } catch (e) {
        this.log.warn({ err: e }, 'notifier: the store failed; trying again');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, everyMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
    this.transport?.close();
  }
}
