// Notifications on both engines, against a local SMTP server (smtp-server) and a local HTTP receiver
// that this test starts: a file that needs attention and a completed run send an e-mail to each address
// and a signed webhook; a webhook that fails is retried and then delivered; bad settings are refused.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { receiveFile } from '../src/ledger/files.js';
import { Notifier, SMTP_SILENCE_MS, setNotifySettings, webhookSignature } from '../src/notify/notify.js';
import { addTask } from '../src/schedule/tasks.js';
import { type Running, serve } from '../src/server/serve.js';
import { addFirm } from '../src/store/index.js';
import { header, rowOf, templateNamed } from './fixtures.js';
import { ENGINES, openTestStore, type TestStore, tempDir, writeCsv } from './helpers.js';
import { waitFor } from './server-processes.js';

const employers = templateNamed('company_Details_import');
const log = pino({ level: 'silent' });

interface Mail {
  to: string[];
  text: string;
}
interface Hook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

for (const kind of ENGINES) {
  describe(`notifications (${kind})`, () => {
    let s: TestStore;
    let server: Running;
    let smtp: SMTPServer;
    let http: Server;
    const mails: Mail[] = [];
    const hooks: Hook[] = [];
    let failNext = 0;
    let releaseSlow: () => void = () => {};
    let slowHeld = new Promise<void>((r) => {
      releaseSlow = r;
    });
    let hookUrl = '';
    const dir = tempDir();
    const savedEnv = process.env.CASEPORT_SMTP_URL;

    before(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, done) {
          let text = '';
          stream.on('data', (d: Buffer) => {
            text += d.toString('utf8');
          });
          stream.on('end', async () => {
            const to = session.envelope.rcptTo.map((r) => r.address);
            // An SMTP server that holds slow@'s mail until the test lets it go.
            if (to.some((t) => t.startsWith('slow'))) await slowHeld;
            mails.push({ to, text });
            done();
          });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      http = createServer((req, res) => {
        if (req.url === '/endless') {
          // An answer that never ends: the sender must not read it.
          res.writeHead(200);
          const t = setInterval(() => res.write('x'.repeat(65536)), 5);
          res.on('close', () => clearInterval(t));
          hooks.push({ headers: req.headers, body: '' });
          return;
        }
        let body = '';
        req.on('data', (d: Buffer) => {
          body += d.toString('utf8');
        });
        req.on('end', () => {
          if (failNext > 0) {
            failNext--;
            res.writeHead(500).end('down');
            return;
          }
          hooks.push({ headers: req.headers, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
      hookUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`;
      process.env.CASEPORT_SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
      s = await openTestStore(kind);
      await addFirm(s.engine, { id: 'acme', name: 'Acme' });
      await addTask(s.engine, 'acme', { kind: 'import', onArrival: true });
      server = await serve({
        engine: s.engine,
        dataDir: s.dataDir,
        log,
        workers: 1,
        scheduler: false,
        pollMs: 50,
        notifyEveryMs: 50,
      });
    });
    after(async () => {
      await server?.close();
      await s?.cleanup();
      smtp?.close();
      http?.close();
      if (savedEnv === undefined) delete process.env.CASEPORT_SMTP_URL;
      else process.env.CASEPORT_SMTP_URL = savedEnv;
    });

    const upload = (name: string, rows: string[][]) =>
      receiveFile(s.engine, server.store, {
        firmId: 'acme',
        name,
        localPath: writeCsv(dir, name, [header(employers), ...rows]),
      });

    test('addresses are kept once each and checked whole; a webhook URL with a password is refused; SMTP waits 30 s at most', async () => {
      const set = await setNotifySettings(s.engine, 'acme', {
        emails: ['A@X.example', 'a@x.example', ' b@x.example '],
        webhookUrl: '',
      });
      assert.deepEqual(set.emails, ['a@x.example', 'b@x.example']);
      await assert.rejects(
        setNotifySettings(s.engine, 'acme', { emails: ['ok@x.example', 'bad address'], webhookUrl: '' }),
        /"bad address" is not an e-mail address/,
      );
      await assert.rejects(
        setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: 'https://u:p@hooks.example/x' }),
        /may not hold a user name or password/,
      );
      // The SMTP transport's own timeouts (they were once passed where nodemailer takes message fields).
      const transport = (
        new Notifier(s.engine, log, { url: 'smtp://127.0.0.1:1', from: 'x@y' }) as unknown as {
          transport: { options: Record<string, unknown> };
        }
      ).transport;
      assert.equal(transport.options.socketTimeout, SMTP_SILENCE_MS);
      assert.equal(transport.options.greetingTimeout, 10_000);
      await setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: '' });
    });

    test('bad settings are refused with the reason', async () => {
      await assert.rejects(
        setNotifySettings(s.engine, 'acme', { emails: 'hr@acme.example, not-an-address', webhookUrl: '' }),
        /not-an-address.*not an e-mail address/,
      );
      await assert.rejects(
        setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: 'ftp://x' }),
        /http/,
      );
      await assert.rejects(
        setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: 'not a url' }),
        /not a URL/,
      );
    });

    test('a file that needs attention and its completed run: an e-mail to each address and a signed webhook', async () => {
      const settings = await setNotifySettings(s.engine, 'acme', {
        emails: 'HR@acme.example; ops@firm.example',
        webhookUrl: hookUrl,
      });
      assert.deepEqual(settings.emails, ['hr@acme.example', 'ops@firm.example']);
      assert.ok(settings.webhookSecret);
      await upload('company_Details_import_20261120.csv', [
        rowOf(employers, { EmployerID: 'OK1' }),
        rowOf(employers, { EmployerID: 'BAD', FEIN: 'x' }),
      ]);
      await waitFor('two e-mails to each address', () => mails.length >= 4, 20_000);
      await waitFor('two webhooks', () => hooks.length >= 2, 20_000);
      const attention = mails.filter((m) => /finished incomplete/.test(m.text));
      assert.deepEqual(attention.map((m) => m.to[0]).sort(), ['hr@acme.example', 'ops@firm.example']);
      assert.match(attention[0].text, /company_Details_import_20261120\.csv/);
      assert.match(attention[0].text, /1 rejected/);
      assert.equal(mails.filter((m) => /run \d+ of acme finished/.test(m.text)).length, 2);
      assert.match(attention[0].text, /0 unchanged/, 'the counts add up');

      const events = hooks.map((h) => h.headers['x-caseport-event']).sort();
      assert.deepEqual(events, ['attention', 'completed']);
      for (const h of hooks) {
        const ts = String(h.headers['x-caseport-timestamp']);
        assert.equal(
          h.headers['x-caseport-signature'],
          `sha256=${webhookSignature(settings.webhookSecret!, ts, h.body)}`,
          'signed with the secret',
        );
        assert.notEqual(
          h.headers['x-caseport-signature'],
          `sha256=${webhookSignature('another secret', ts, h.body)}`,
        );
      }
      const body = JSON.parse(hooks.find((h) => h.headers['x-caseport-event'] === 'attention')!.body);
      assert.equal(body.file, 'company_Details_import_20261120.csv');
      assert.equal(body.status, 'incomplete');
      assert.equal(body.rows.rejected, 1);
      const rows = await s.engine.db.selectFrom('notifications').select(['status']).execute();
      assert.ok(rows.every((r) => r.status === 'sent'));
    });

    test('a webhook that fails is retried, and delivered once', async () => {
      hooks.length = 0;
      failNext = 1;
      await upload('company_Details_import_20261121.csv', [rowOf(employers, { EmployerID: 'OK2' })]); // completed: one webhook
      await waitFor(
        'the failed attempt recorded',
        async () => {
          const r = await s.engine.db
            .selectFrom('notifications')
            .select(['last_error'])
            .where('channel', '=', 'webhook')
            .where('status', '=', 'pending')
            .execute();
          return r.some((x) => /HTTP 500/.test(x.last_error ?? ''));
        },
        20_000,
      );
      // The back-off is 10 s; bring the retry forward.
      await s.engine.db
        .updateTable('notifications')
        .set({ next_at: 0 })
        .where('status', '=', 'pending')
        .execute();
      await waitFor('the retry delivered', () => hooks.length === 1, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(hooks.length, 1, 'once');
      const row = await s.engine.db
        .selectFrom('notifications')
        .select(['status', 'attempts'])
        .where('channel', '=', 'webhook')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      assert.deepEqual([row.status, row.attempts], ['sent', 2]);
    });

    test('a slow SMTP server holds up only its own e-mails; a changed webhook gets no retry; an endless answer holds nothing', async () => {
      hooks.length = 0;
      // More held e-mails than a process sends at once: the webhook still goes.
      const slow = Array.from({ length: 12 }, (_, i) => `slow${i}@firm.example`);
      await setNotifySettings(s.engine, 'acme', { emails: slow.join(', '), webhookUrl: hookUrl });
      await upload('company_Details_import_20261122.csv', [rowOf(employers, { EmployerID: 'OK3' })]);
      await waitFor('the webhook, while the e-mails are held', () => hooks.length === 1, 20_000);
      assert.equal(mails.filter((m) => m.to[0].startsWith('slow')).length, 0, 'the e-mails are still held');
      releaseSlow();
      await waitFor(
        'the held e-mails',
        () => mails.filter((m) => m.to[0].startsWith('slow')).length === 12,
        20_000,
      );
      slowHeld = Promise.resolve();

      // A retry due after the operator changed the webhook goes nowhere (it would carry the new secret).
      hooks.length = 0;
      failNext = 1;
      await setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: hookUrl });
      await upload('company_Details_import_20261123.csv', [rowOf(employers, { EmployerID: 'OK4' })]);
      const failed = async () =>
        s.engine.db
          .selectFrom('notifications')
          .select(['id', 'status', 'last_error'])
          .where('channel', '=', 'webhook')
          .where('status', '=', 'pending')
          .where('last_error', 'like', '%HTTP 500%')
          .executeTakeFirst();
      await waitFor('the failed attempt', async () => !!(await failed()), 20_000);
      const pending = (await failed())!;
      await setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: `${hookUrl}2` });
      await s.engine.db
        .updateTable('notifications')
        .set({ next_at: 0 })
        .where('id', '=', pending.id)
        .execute();
      await waitFor(
        'the retry dropped',
        async () =>
          (
            await s.engine.db
              .selectFrom('notifications')
              .select('status')
              .where('id', '=', pending.id)
              .executeTakeFirstOrThrow()
          ).status === 'dropped',
        20_000,
      );
      assert.equal(hooks.length, 0, 'neither URL got it');

      // A receiver that answers 200 and then streams for ever: the send ends at the status.
      const endless = hookUrl.replace(/\/hook$/, '/endless');
      await setNotifySettings(s.engine, 'acme', { emails: '', webhookUrl: endless });
      await upload('company_Details_import_20261124.csv', [rowOf(employers, { EmployerID: 'OK5' })]);
      await waitFor(
        'the endless answer counted as delivered',
        async () =>
          (
            await s.engine.db
              .selectFrom('notifications')
              .select('status')
              .where('target', '=', endless)
              .execute()
          ).some((r) => r.status === 'sent'),
        20_000,
      );
    });
  });
}
