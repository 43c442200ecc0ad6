// The SFTP server with real clients: Debian's OpenSSH `sftp` in batch mode (public-key login) and
// ssh2's Client (password login and what a batch file cannot do: raw offsets, dropped connections).
// Every refusal the server makes has its case here. The site behind it is the real one: the ledger and
// the file store on a SQLite store (test/sftp-backend.ts).

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import ssh2, { type Client, type SFTPWrapper } from 'ssh2';
import { type SftpServer, type SftpServerOptions, startSftpServer } from '../src/sftp/server.js';
import type { SiteBackend, SiteLimits } from '../src/sftp/site.js';
import { diskTempFiles, type TempFiles } from '../src/sftp/temp-files.js';
import { makeLedgerBackend, type SiteFixture } from './sftp-backend.js';

/** The one place the backend is chosen. */
const makeBackend = (dir: string): Promise<SiteFixture> => makeLedgerBackend(dir);

const STATUS = ssh2.utils.sftp.STATUS_CODE;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const ACME_PASSWORD = 'acme-correct-horse';
const BETA_PASSWORD = 'beta-battery-staple';

type Logged = { event: string; detail: Record<string, unknown> };

let dir: string;
let fx: SiteFixture;
let keyFile: string;
/** Every backend call's method and firm id, to show no call ever carries another firm's. */
const calls: Array<{ method: string; firmId: string }> = [];
const logs: Logged[] = [];
const servers: SftpServer[] = [];

/** The backend with each call recorded in `calls`. */
function recorded(b: SiteBackend): SiteBackend {
  return new Proxy(b, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (typeof args[0] === 'string') calls.push({ method: String(prop), firmId: args[0] });
        return v.apply(target, args);
      };
    },
  });
}

async function startServer(
  name: string,
  limits: Partial<SiteLimits>,
  extra: Partial<SftpServerOptions> = {},
) {
  const server = await startSftpServer({
    backend: recorded(fx.backend),
    uploadDir: path.join(dir, `uploads-${name}`),
    limits: {
      maxFileBytes: MAX_FILE_BYTES,
      idleTimeoutMs: 60_000,
      maxFailedLogins: 100,
      failWindowMs: 60_000,
      ...limits,
    },
    log: (event, detail) => logs.push({ event, detail }),
    port: 0,
    host: '127.0.0.1',
    ...extra,
  });
  servers.push(server);
  return server;
}

const uploadsLeft = (name: string) => readdirSync(path.join(dir, `uploads-${name}`));

async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- OpenSSH's sftp, in batch mode -------------------------------------------------------------

async function openssh(
  port: number,
  commands: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const batch = path.join(dir, `batch-${randomBytes(4).toString('hex')}`);
  writeFileSync(batch, `${commands.join('\n')}\n`);
  const args = ['-b', batch, '-P', String(port), '-F', '/dev/null', '-i', keyFile];
  for (const o of ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'BatchMode=yes'])
    args.push('-o', o);
  args.push('-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR', 'acme@127.0.0.1');
  try {
    const { stdout, stderr } = await promisify(execFile)('/usr/bin/sftp', args, { timeout: 20_000 });
    return { ok: true, stdout, stderr };
  } catch (e) {
    const { stdout, stderr } = e as { stdout: string; stderr: string };
    return { ok: false, stdout, stderr };
  }
}

// ---- ssh2's Client ------------------------------------------------------------------------------

function connect(port: number, username: string, password: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('ready', () => resolve(c))
      .on('error', reject)
      .on('close', () => reject(new Error('closed before ready')));
    c.connect({
      host: '127.0.0.1',
      port,
      username,
      password,
      readyTimeout: 10_000,
      hostVerifier: () => true,
    });
  });
}

function sftpOf(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

async function session(port: number, firm = 'acme', password = ACME_PASSWORD) {
  const client = await connect(port, firm, password);
  const sftp = await sftpOf(client);
  return { client, sftp };
}

/** A callback-style ssh2 call as a promise. */
function call<T = void>(fn: (cb: (err?: Error | null, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

/** The SFTP status (and message) a failing call was answered with. */
async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code: number }).code, message: (e as Error).message };
  }
  return assert.fail('expected the request to be refused');
}

const open = (s: SFTPWrapper, p: string, flags: ssh2.OpenMode | number) =>
  call<Buffer>((cb) => s.open(p, flags as ssh2.OpenMode, cb));
const write = (s: SFTPWrapper, h: Buffer, data: Buffer, at: number) =>
  call((cb) => s.write(h, data, 0, data.length, at, cb));
const close = (s: SFTPWrapper, h: Buffer) => call((cb) => s.close(h, cb));
const list = (s: SFTPWrapper, p: string) =>
  call<ssh2.FileEntryWithStats[]>((cb) => s.readdir(p, cb)).then((es) => es.map((e) => e.filename).sort());

async function upload(s: SFTPWrapper, p: string, data: Buffer, chunk = 32 * 1024): Promise<void> {
  const h = await open(s, p, 'w');
  try {
    for (let at = 0; at < data.length; at += chunk) await write(s, h, data.subarray(at, at + chunk), at);
  } catch (e) {
    await close(s, h).catch(() => {}); // as clients do: the handle is closed after a failed write
    throw e;
  }
  await close(s, h);
}

const receivedNames = (firmId = 'acme') => fx.received.filter((r) => r.firmId === firmId).map((r) => r.name);

describe('SFTP server', () => {
  let main: SftpServer;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'caseport-sftp-'));
    keyFile = path.join(dir, 'client_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    fx = await makeBackend(path.join(dir, 'backend'));
    const acmeKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
    const otherKey = ssh2.utils.generateKeyPairSync('ed25519').public;
    await fx.addFirm({ id: 'acme', password: ACME_PASSWORD, publicKeys: [otherKey, acmeKey] });
    await fx.addFirm({ id: 'beta', password: BETA_PASSWORD });
    await fx.putFile('beta', 'Results', 'beta-result.csv', 'secret,of,beta\n');
    await fx.putFile('beta', 'Export', 'beta-export.csv', 'beta export\n');
    main = await startServer('main', {});
  });

  after(async () => {
    for (const s of servers) await s.close();
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('with OpenSSH sftp', () => {
    test('put, ls, rename of a .filepart, get from Results, rm in Export', async () => {
      const big = randomBytes(3 * 1024 * 1024 + 17); // many parallel 32 KiB writes and reads
      writeFileSync(path.join(dir, 'big.csv'), big);
      writeFileSync(path.join(dir, 'small.csv'), 'a,b\n1,2\n');
      await fx.putFile('acme', 'Results', 'result.csv', big);
      await fx.putFile('acme', 'Export', 'export.csv', 'x,y\n');
      const r = await openssh(main.port, [
        'pwd',
        'ls',
        'cd Import',
        `put ${path.join(dir, 'small.csv')}`,
        `put ${path.join(dir, 'big.csv')} big.csv.filepart`,
        'ls -l',
        'rename big.csv.filepart big.csv',
        'ls -l /Import',
        'cd /Results',
        `get result.csv ${path.join(dir, 'result.out')}`,
        'rm /Export/export.csv',
        'ls /Export',
      ]);
      assert.equal(r.ok, true, r.stderr);
      assert.match(r.stdout, /Remote working directory: \/\n/);
      assert.match(r.stdout, /Export\s+Import\s+Results/);
      assert.match(r.stdout, /-rw-r--r-- .* big\.csv\.filepart\n/); // staged, listed, not received
      assert.match(r.stdout, /ls -l \/Import\n.*big\.csv\n.*small\.csv\n/);
      assert.deepEqual(receivedNames(), ['small.csv', 'big.csv']);
      assert.deepEqual(await fx.readFile('acme', 'Import', 'big.csv'), big);
      assert.deepEqual(readFileSync(path.join(dir, 'result.out')), big);
      assert.equal(await fx.readFile('acme', 'Export', 'export.csv'), undefined);
      await eventually(() => uploadsLeft('main').length === 0, 'no temp files left');
    });

    test('each refusal: put to Results, rm in Import, get /etc/passwd, symlink, mkdir, cd above /', async () => {
      await fx.putFile('acme', 'Results', 'kept.csv', 'kept\n');
      const local = path.join(dir, 'small.csv');
      const cases: Array<[string[], RegExp]> = [
        [[`put ${local} /Results/x.csv`], /dest open "\/Results\/x\.csv": Permission denied/],
        [['rm /Import/small.csv'], /remote delete \/Import\/small\.csv: Permission denied/],
        [['rm /Results/kept.csv'], /Permission denied/],
        [[`get /etc/passwd ${path.join(dir, 'passwd')}`], /File "\/etc\/passwd" not found/],
        [[`get ../../etc/passwd ${path.join(dir, 'passwd')}`], /not found/],
        [[`get /Import/small.csv ${path.join(dir, 'back.csv')}`], /Permission denied/],
        [['symlink /Results/kept.csv /Import/link.csv'], /remote symlink .*: Permission denied/],
        [['mkdir /Import/sub'], /remote mkdir "\/Import\/sub": Permission denied/],
        [['rmdir /Import'], /Permission denied/],
        [['cd /etc'], /No such file or directory/],
        [['rename /Results/kept.csv /Import/kept.csv'], /Permission denied/],
        [['chmod 600 /Results/kept.csv'], /Permission denied/],
      ];
      const results = await Promise.all(cases.map(([commands]) => openssh(main.port, commands)));
      results.forEach((r, i) => {
        assert.equal(r.ok, false, `${cases[i][0]} should fail`);
        assert.match(r.stderr, cases[i][1], `${cases[i][0]}`);
      });
      // `cd ..` from / stays at /: the home is all there is.
      const up = await openssh(main.port, ['cd ..', 'cd /../..', 'pwd', 'ls']);
      assert.equal(up.ok, true, up.stderr);
      assert.match(up.stdout, /Remote working directory: \/\n/);
      assert.match(up.stdout, /Export\s+Import\s+Results/);
      assert.ok(await fx.readFile('acme', 'Results', 'kept.csv'));
      assert.deepEqual(receivedNames(), ['small.csv', 'big.csv']);
    });
  });

  describe('logins', () => {
    test('password login; a wrong password and an unknown firm look the same and are logged without it', async () => {
      const { client, sftp } = await session(main.port);
      assert.deepEqual(await list(sftp, '/'), ['Export', 'Import', 'Results']);
      client.end();
      const wrong = await connect(main.port, 'acme', 'not-the-password').then(
        () => assert.fail('logged in'),
        (e: Error) => e.message,
      );
      const unknown = await connect(main.port, 'nobody', 'not-the-password').then(
        () => assert.fail('logged in'),
        (e: Error) => e.message,
      );
      assert.equal(wrong, unknown);
      assert.match(wrong, /authentication methods failed/);
      assert.ok(logs.some((l) => l.event === 'sftp.login_ok' && l.detail.firm === 'acme'));
      assert.ok(logs.some((l) => l.event === 'sftp.login_failed' && l.detail.firm === 'nobody'));
      const text = JSON.stringify(logs);
      for (const secret of [ACME_PASSWORD, 'not-the-password']) assert.ok(!text.includes(secret));
    });

    test('a public key is accepted only with a good signature', async () => {
      // parseKey gives an array for OpenSSH's private key format (one key in it).
      const parse = (text: string | Buffer) => {
        const k = ssh2.utils.parseKey(text) as ssh2.ParsedKey | ssh2.ParsedKey[] | Error;
        assert.ok(!(k instanceof Error));
        return Array.isArray(k) ? k[0] : k;
      };
      const key = parse(readFileSync(keyFile));
      const login = (privateKey: ssh2.ParsedKey) =>
        new Promise<void>((resolve, reject) => {
          const c = new ssh2.Client();
          c.on('ready', () => {
            c.end();
            resolve();
          }).on('error', reject);
          let tried = false;
          c.connect({
            host: '127.0.0.1',
            port: main.port,
            username: 'acme',
            // A parsed key goes through authHandler only (the privateKey option takes text).
            authHandler: () => {
              if (tried) return false;
              tried = true;
              return { type: 'publickey', username: 'acme', key: privateKey };
            },
            hostVerifier: () => true,
          });
        });
      await login(key);
      // The same authorised key, signing garbage: the key is acceptable, the signature is not.
      const forger = Object.assign(Object.create(key) as ssh2.ParsedKey, { sign: () => randomBytes(64) });
      await assert.rejects(login(forger), /authentication methods failed/);
      assert.ok(
        logs.some((l) => l.event === 'sftp.login_failed' && l.detail.reason === 'bad public key signature'),
      );
      // A key the firm has not authorised is simply not accepted.
      const stranger = parse(ssh2.utils.generateKeyPairSync('ed25519').private);
      await assert.rejects(login(stranger), /authentication methods failed/);
    });

    test('failed logins are throttled per address until the window passes', async () => {
      const server = await startServer('throttle', { maxFailedLogins: 3, failWindowMs: 1500 });
      for (let i = 0; i < 3; i++) await assert.rejects(connect(server.port, 'acme', `wrong-${i}`));
      const checksBefore = calls.filter((c) => c.method === 'checkPassword').length;
      // The right password now: refused without being checked, and the connection closed.
      await assert.rejects(connect(server.port, 'acme', ACME_PASSWORD));
      assert.equal(calls.filter((c) => c.method === 'checkPassword').length, checksBefore);
      assert.ok(logs.some((l) => l.event === 'sftp.login_throttled'));
      await new Promise((r) => setTimeout(r, 1600));
      const { client } = await session(server.port);
      client.end();
    });

    test('a login must finish in time; an idle connection is ended', async () => {
      const server = await startServer('idle', { idleTimeoutMs: 400 }, { loginTimeoutMs: 400 });
      const silent = net.connect(server.port, '127.0.0.1');
      silent.on('data', () => {}); // reads the server's greeting, says nothing
      const t0 = Date.now();
      await new Promise((r) => silent.once('close', r));
      assert.ok(Date.now() - t0 < 3000);
      assert.ok(logs.some((l) => l.event === 'sftp.login_timeout'));

      const { client, sftp } = await session(server.port);
      await list(sftp, '/Import'); // activity, then silence
      const closed = Date.now();
      await new Promise<void>((r) => client.once('close', () => r()));
      assert.ok(Date.now() - closed >= 300, 'not closed while active');
      assert.ok(logs.some((l) => l.event === 'sftp.idle_timeout' && l.detail.firm === 'acme'));
    });

    test('shells, commands, terminals, other subsystems and forwarding are refused', async () => {
      const client = await connect(main.port, 'acme', ACME_PASSWORD);
      const fails = (what: string, start: (cb: (err: Error | undefined) => void) => void) =>
        assert.rejects(
          new Promise<void>((resolve, reject) => start((err) => (err ? reject(err) : resolve()))),
          Error,
          what,
        );
      await fails('shell', (cb) => client.shell(false, (err) => cb(err)));
      await fails('exec', (cb) => client.exec('cat /etc/passwd', (err) => cb(err)));
      await fails('pty', (cb) => client.exec('ls', { pty: true }, (err) => cb(err)));
      await fails('subsystem', (cb) => client.subsys('netconf', (err) => cb(err)));
      await fails('tcpip', (cb) => client.forwardOut('127.0.0.1', 1, '127.0.0.1', 22, (err) => cb(err)));
      await fails('forward in', (cb) => client.forwardIn('127.0.0.1', 0, (err) => cb(err)));
      await fails('streamlocal', (cb) =>
        client.openssh_forwardOutStreamLocal('/tmp/x.sock', (err) => cb(err)),
      );
      // The connection is still good for SFTP.
      assert.deepEqual(await list(await sftpOf(client), '/'), ['Export', 'Import', 'Results']);
      client.end();
    });
  });

  describe('with ssh2 Client', () => {
    let sftp: SFTPWrapper;
    let client: Client;
    before(async () => {
      ({ client, sftp } = await session(main.port));
    });
    after(() => client.end());

    test('names: /../ cannot leave Import; NUL, backslash, look-alikes, bidi and long names are refused', async () => {
      const data = Buffer.from('a,b\n');
      let r = await refusal(upload(sftp, '/Import/../Results/sneaky.csv', data));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      r = await refusal(upload(sftp, 'Import/../../beta/Import/sneaky.csv', data));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      r = await refusal(upload(sftp, '/Import/nul\0.csv', data));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      assert.match(r.message, /control character/);
      r = await refusal(upload(sftp, '/Import/back\\slash.csv', data));
      assert.match(r.message, /slash/);
      r = await refusal(upload(sftp, '/Import/2026\u2215cases.csv', data));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      assert.match(r.message, /looks like a slash \(U\+2215\)/);
      // U+202E turns the rest around: shown as "casesvsc.exe".
      r = await refusal(upload(sftp, '/Import/cases\u202Eexe.csv', data));
      assert.match(r.message, /invisible formatting character \(U\+202E\)/);
      r = await refusal(upload(sftp, '/Import/\uFEFFcases.csv', data));
      assert.match(r.message, /U\+FEFF/);
      // 248 bytes is the longest upload name (its result file's, 7 bytes longer, is 255); 249 is refused.
      const longest = `${'n'.repeat(244)}.csv`;
      await upload(sftp, `/Import/${longest}`, data);
      r = await refusal(upload(sftp, `/Import/n${longest}`, data));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      assert.match(
        r.message,
        /longer than 248 bytes: its result file's name \(7 bytes longer\) would not fit/,
      );
      r = await refusal(upload(sftp, `/Import/${'n'.repeat(252)}.csv`, data));
      assert.match(r.message, /longer than 255 bytes/);
      // Nor can a staged upload be renamed to such a name; it stays staged for a good one.
      await upload(sftp, '/Import/long.csv.part', data);
      r = await refusal(call((cb) => sftp.rename('/Import/long.csv.part', `/Import/n${longest}`, cb)));
      assert.match(r.message, /longer than 248 bytes/);
      await call((cb) => sftp.rename('/Import/long.csv.part', `/Import/m${longest.slice(1)}`, cb));
      assert.ok(receivedNames().includes(`m${longest.slice(1)}`), 'renamed to 248 bytes: received');
      // The longest upload's result file can be listed and downloaded.
      const result = `${longest.slice(0, -4)}_result.csv`;
      await fx.putFile('acme', 'Results', result, 'r\n');
      assert.ok((await list(sftp, '/Results')).includes(result), 'the 255-byte result listed');
      await close(sftp, await open(sftp, `/Results/${result}`, 'r'));
      r = await refusal(call((cb) => sftp.stat('/Import/a\0b', cb)));
      assert.equal(r.code, STATUS.NO_SUCH_FILE);
      r = await refusal(open(sftp, '/../beta/Results/beta-result.csv', 'r'));
      assert.equal(r.code, STATUS.NO_SUCH_FILE);
      assert.equal(await call<string>((cb) => sftp.realpath('Import/../../..//./Export/', cb)), '/Export');
      assert.ok(receivedNames().includes(longest));
      assert.ok(!receivedNames().includes(`n${longest}`), '249 bytes: not received');
      assert.deepEqual(receivedNames('beta'), []);
      assert.ok(
        !receivedNames().some((n) => /sneaky|\u2215|\u202E|\uFEFF/.test(n)),
        'refused names received',
      );
    });

    test('an upload over maxFileBytes is refused with the limit and never received; one at it is', async () => {
      const r = await refusal(upload(sftp, '/Import/too-big.csv', Buffer.alloc(MAX_FILE_BYTES + 1, 'x')));
      assert.equal(r.code, STATUS.FAILURE);
      assert.match(r.message, new RegExp(`file too large: the limit is ${MAX_FILE_BYTES} bytes`));
      assert.ok(!receivedNames().includes('too-big.csv'));
      assert.ok(logs.some((l) => l.event === 'sftp.upload_refused' && l.detail.name === 'too-big.csv'));
      await upload(sftp, '/Import/just-fits.csv', Buffer.alloc(MAX_FILE_BYTES, 'y'));
      assert.ok(receivedNames().includes('just-fits.csv'));
      await eventually(() => uploadsLeft('main').length === 0, 'no temp files left');
    });

    test('parallel writes out of order make the right bytes', async () => {
      const data = randomBytes(40 * 16 * 1024 + 5);
      const h = await open(sftp, '/Import/parallel.csv', 'w');
      const offsets: number[] = [];
      for (let at = 0; at < data.length; at += 16 * 1024) offsets.push(at);
      offsets.reverse();
      [offsets[3], offsets[17]] = [offsets[17], offsets[3]];
      await Promise.all(offsets.map((at) => write(sftp, h, data.subarray(at, at + 16 * 1024), at)));
      await close(sftp, h);
      assert.deepEqual(await fx.readFile('acme', 'Import', 'parallel.csv'), data);
    });

    test('an upload whose connection is destroyed mid-write is never received and leaves no temp file', async () => {
      const other = await session(main.port);
      const h = await open(other.sftp, '/Import/dropped.csv', 'w');
      await write(other.sftp, h, randomBytes(64 * 1024), 0);
      await write(other.sftp, h, randomBytes(64 * 1024), 64 * 1024);
      assert.equal(uploadsLeft('main').length, 1);
      (other.client as unknown as { _sock: net.Socket })._sock.destroy();
      await eventually(() => uploadsLeft('main').length === 0, 'the temp file removed');
      assert.ok(!receivedNames().includes('dropped.csv'));
      assert.ok(logs.some((l) => l.event === 'sftp.upload_discarded' && l.detail.name === 'dropped.csv'));
    });

    test('an upload with bytes never written is refused at CLOSE, never received', async () => {
      // One byte at the last offset allowed would otherwise be received as a file of the largest size.
      let h = await open(sftp, '/Import/holey.csv', 'w');
      await write(sftp, h, Buffer.from('x'), MAX_FILE_BYTES - 1);
      let r = await refusal(close(sftp, h));
      assert.equal(r.code, STATUS.FAILURE);
      assert.match(
        r.message,
        new RegExp(`the upload has gaps: bytes 0–${MAX_FILE_BYTES - 2} were never sent`),
      );
      // A gap in the middle, and one in an upload under a temporary name (never staged).
      h = await open(sftp, '/Import/middle.csv', 'w');
      await write(sftp, h, Buffer.from('0123456789'), 0);
      await write(sftp, h, Buffer.from('0123456789'), 20);
      r = await refusal(close(sftp, h));
      assert.match(r.message, /the upload has gaps: bytes 10–19 were never sent/);
      h = await open(sftp, '/Import/holey.csv.part', 'w');
      await write(sftp, h, Buffer.from('x'), 5);
      assert.match((await refusal(close(sftp, h))).message, /bytes 0–4 were never sent/);
      assert.ok(!(await list(sftp, '/Import')).includes('holey.csv.part'), 'a holey upload staged');
      // The gap filled late (writes out of order) is no gap.
      h = await open(sftp, '/Import/late.csv', 'w');
      await write(sftp, h, Buffer.from('b\n'), 4);
      await write(sftp, h, Buffer.from('a,'), 0);
      await write(sftp, h, Buffer.from('b\n'), 2);
      await close(sftp, h);
      assert.deepEqual(await fx.readFile('acme', 'Import', 'late.csv'), Buffer.from('a,b\nb\n'));
      for (const name of ['holey.csv', 'middle.csv']) assert.ok(!receivedNames().includes(name), name);
      assert.ok(
        logs.some((l) => l.event === 'sftp.upload_refused' && l.detail.name === 'middle.csv'),
        'logged',
      );
      await eventually(() => uploadsLeft('main').length === 0, 'no temp files left');
    });

    test('a staged .filepart is listed, renamed to its final name and received once', async () => {
      const data = Buffer.from('id,name\n1,Ann\n');
      await upload(sftp, '/Import/cases.csv.filepart', data);
      assert.ok(!receivedNames().includes('cases.csv'));
      assert.ok((await list(sftp, '/Import')).includes('cases.csv.filepart'));
      const st = await call<ssh2.Stats>((cb) => sftp.stat('/Import/cases.csv.filepart', cb));
      assert.equal(st.size, data.length);
      // EXCL on the staged name fails; the staged upload is untouched.
      assert.equal((await refusal(open(sftp, '/Import/cases.csv.filepart', 'wx'))).code, STATUS.FAILURE);
      await call((cb) => sftp.rename('/Import/cases.csv.filepart', '/Import/cases.csv', cb));
      let r = await refusal(call((cb) => sftp.rename('/Import/cases.csv.filepart', '/Import/cases.csv', cb)));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      assert.equal(receivedNames().filter((n) => n === 'cases.csv').length, 1);
      assert.deepEqual(await fx.readFile('acme', 'Import', 'cases.csv'), data);
      // A received file cannot be renamed, nor moved out of Import.
      r = await refusal(call((cb) => sftp.rename('/Import/cases.csv', '/Import/other.csv', cb)));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      // lftp's .in.* temporary name, via posix-rename (not advertised, but answered if sent).
      await upload(sftp, '/Import/.in.more.csv', data);
      (sftp as unknown as { _extensions: Record<string, string> })._extensions['posix-rename@openssh.com'] =
        '1';
      await call((cb) => sftp.ext_openssh_rename('/Import/.in.more.csv', '/Import/more.csv', cb));
      assert.equal(receivedNames().filter((n) => n === 'more.csv').length, 1);
      // Any other name starting with '.' is a final name: received when closed, not held for an hour.
      await upload(sftp, '/Import/.dotted.csv', data);
      assert.ok(receivedNames().includes('.dotted.csv'), '.dotted.csv received on close');
      // OPEN without TRUNC takes a staged upload up again (a resumed transfer) at its size.
      await upload(sftp, '/Import/resumed.csv.filepart', data.subarray(0, 5));
      const h = await open(sftp, '/Import/resumed.csv.filepart', ssh2.utils.sftp.OPEN_MODE.WRITE);
      await write(sftp, h, data.subarray(5), 5);
      await close(sftp, h);
      await call((cb) => sftp.rename('/Import/resumed.csv.filepart', '/Import/resumed.csv', cb));
      assert.deepEqual(await fx.readFile('acme', 'Import', 'resumed.csv'), data);
      // At most 100 uploads held staged per firm: the 101st is refused at its CLOSE.
      const held = Array.from({ length: 100 }, (_, i) => `/Import/held-${i}.csv.part`);
      for (const p of held) await upload(sftp, p, data);
      r = await refusal(upload(sftp, '/Import/one-more.csv.part', data));
      assert.match(r.message, /too many unfinished uploads \(at most 100\)/);
      for (const p of held) await call((cb) => sftp.unlink(p, cb));
      // A staged upload may be removed (WinSCP does on cancel); it is then gone.
      await upload(sftp, '/Import/cancelled.csv.part', data);
      await call((cb) => sftp.unlink('/Import/cancelled.csv.part', cb));
      assert.ok(!(await list(sftp, '/Import')).includes('cancelled.csv.part'));
    });

    test('a file the backend refuses is answered FAILURE with its reason, and its temp file removed', async () => {
      const r = await refusal(upload(sftp, '/Import/notes.txt', Buffer.from('hello')));
      assert.equal(r.code, STATUS.FAILURE);
      assert.match(r.message, /"notes\.txt" was not received: file name "notes\.txt" refused: only \.csv/);
      await eventually(() => uploadsLeft('main').length === 0, 'no temp files left');
    });

    test('attributes, downloads, removal and listings past one READDIR batch', async () => {
      const h = await open(sftp, '/Import/timed.csv', 'w');
      await call((cb) => sftp.fsetstat(h, { atime: 1, mtime: 1 }, cb)); // WinSCP, put -p: harmless
      await close(sftp, h);
      await call((cb) => sftp.setstat('/Import/timed.csv', { mtime: 2, atime: 2 }, cb));
      let r = await refusal(call((cb) => sftp.setstat('/Export/x.csv', { mtime: 2, atime: 2 }, cb)));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      r = await refusal(call((cb) => sftp.readlink('/Import/timed.csv', cb)));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      r = await refusal(call((cb) => sftp.unlink('/Export/missing.csv', cb)));
      assert.equal(r.code, STATUS.NO_SUCH_FILE);
      r = await refusal(open(sftp, '/Results/missing.csv', 'r'));
      assert.equal(r.code, STATUS.NO_SUCH_FILE);
      r = await refusal(open(sftp, '/Export/beta-export.csv', 'r'));
      assert.equal(r.code, STATUS.NO_SUCH_FILE);
      const folder = await call<ssh2.Stats>((cb) => sftp.stat('/Results', cb));
      assert.ok(folder.isDirectory());
      for (let i = 0; i < 150; i++)
        await fx.putFile('acme', 'Results', `r${String(i).padStart(3, '0')}.csv`, 'r');
      const names = await list(sftp, '/Results');
      assert.equal(names.filter((n) => /^r\d{3}\.csv$/.test(n)).length, 150);
      assert.ok(!names.includes('beta-result.csv'));
      const rh = await open(sftp, '/Results/r007.csv', 'r');
      const buf = Buffer.alloc(10);
      const n = await call<number>((cb) => sftp.read(rh, buf, 0, 10, 0, (err, bytes) => cb(err, bytes)));
      assert.equal(buf.subarray(0, n).toString(), 'r');
      r = await refusal(write(sftp, rh, Buffer.from('x'), 0));
      assert.equal(r.code, STATUS.PERMISSION_DENIED);
      await close(sftp, rh);
      r = await refusal(close(sftp, rh));
      assert.equal(r.code, STATUS.FAILURE); // an unknown handle
    });

    test('open handles are bounded per session', async () => {
      const handles: Buffer[] = [];
      for (let i = 0; i < 64; i++) handles.push(await call<Buffer>((cb) => sftp.opendir('/', cb)));
      const r = await refusal(call<Buffer>((cb) => sftp.opendir('/', cb)));
      assert.equal(r.code, STATUS.FAILURE);
      assert.match(r.message, /too many open files/);
      for (const h of handles) await close(sftp, h);
      await close(sftp, await call<Buffer>((cb) => sftp.opendir('/', cb)));
    });

    test("another firm's files are never visible, and no backend call carries another firm's id", async () => {
      const beta = await session(main.port, 'beta', BETA_PASSWORD);
      await upload(beta.sftp, '/Import/beta-upload.csv', Buffer.from('b\n'));
      assert.deepEqual(await list(beta.sftp, '/Results'), ['beta-result.csv']);
      assert.ok(!(await list(sftp, '/Import')).includes('beta-upload.csv'));
      assert.ok(!(await list(sftp, '/Export')).includes('beta-export.csv'));
      const r = await refusal(call((cb) => sftp.stat('/../beta/Import/beta-upload.csv', cb)));
      assert.equal(r.code, STATUS.NO_SUCH_FILE);
      beta.client.end();
      assert.deepEqual(receivedNames('beta'), ['beta-upload.csv']);
      const firms = new Set(calls.filter((c) => c.method !== 'checkPassword').map((c) => c.firmId));
      assert.deepEqual([...firms].sort(), ['acme', 'beta']);
    });
  });

  test('downloads are read from the stored file, never copied; at most 16 open per connection', async () => {
    const b = fx.backend;
    let opened = 0;
    let closed = 0;
    const counting: SiteBackend = {
      ...b,
      async openDownload(firmId, folder, name) {
        const d = await b.openDownload(firmId, folder, name);
        if (!d) return undefined;
        opened++;
        return {
          size: d.size,
          modifiedAt: d.modifiedAt,
          readAt: (offset, length) => d.readAt(offset, length),
          close: async () => {
            closed++;
            await d.close();
          },
        };
      },
    };
    const server = await startServer('downloads', {}, { backend: counting });
    const data = randomBytes(300 * 1024 + 3);
    await fx.putFile('acme', 'Results', 'large-result.csv', data);
    const { client, sftp } = await session(server.port);
    const second = await sftpOf(client); // another session of the same connection
    const openResult = (s: SFTPWrapper) => open(s, '/Results/large-result.csv', 'r');
    const handles: Buffer[] = [];
    for (let i = 0; i < 10; i++) handles.push(await openResult(sftp));
    for (let i = 0; i < 6; i++) await openResult(second);
    assert.deepEqual(uploadsLeft('downloads'), []); // 16 open, nothing copied
    const r = await refusal(openResult(second));
    assert.equal(r.code, STATUS.FAILURE);
    assert.match(r.message, /too many files open for download: at most 16 at once/);
    const other = await session(server.port); // another connection has its own 16
    await close(other.sftp, await openResult(other.sftp));
    other.client.end();
    // Reads at any offset, out of order and at once; one READ answers at most 64 KiB.
    const h = handles[0];
    const readAt = (at: number, len: number) =>
      call<Buffer>((cb) => sftp.read(h, Buffer.alloc(len), 0, len, at, (err, _n, buf) => cb(err, buf)));
    const offsets = [250_000, 7, 0, 100_000, data.length - 5];
    const parts = await Promise.all(offsets.map((at) => readAt(at, 1000)));
    assert.deepEqual(
      parts,
      offsets.map((at) => data.subarray(at, at + 1000)),
    );
    (sftp as unknown as { _maxReadLen: number })._maxReadLen = 200 * 1024;
    assert.equal((await readAt(0, 200 * 1024)).length, 64 * 1024);
    assert.equal((await readAt(data.length, 10)).length, 0); // EOF
    const st = await call<ssh2.Stats>((cb) => sftp.fstat(h, cb));
    assert.equal(st.size, data.length);
    // CLOSE closes the stored file and frees its place; a session's end closes those it left open.
    await close(sftp, h);
    assert.equal(closed, 2); // with the other connection's
    await close(second, await openResult(second));
    second.end();
    await eventually(() => closed === 9, "the second session's downloads closed");
    for (let i = 0; i < 7; i++) await openResult(sftp);
    client.end();
    await eventually(() => closed === opened, 'every download closed');
    assert.equal(opened, 25);
    assert.deepEqual(uploadsLeft('downloads'), []);
  });

  test('parallel logins from one address: no more are checked than could fail; the rest refused unchecked', async () => {
    const b = fx.backend;
    let checks = 0;
    let checking = 0;
    let mostAtOnce = 0;
    let held = new Promise<void>((r) => setTimeout(r, 200));
    const slow: SiteBackend = {
      ...b,
      // This node's throttle alone: the failures of the earlier tests, kept in the store for every node,
      // would refuse these logins (sftp-throttle-shared.test.ts tests the shared count).
      loginAttempts: undefined,
      async checkPassword(firmId, password) {
        checks++;
        mostAtOnce = Math.max(mostAtOnce, ++checking);
        try {
          await held;
          return await b.checkPassword(firmId, password);
        } finally {
          checking--;
        }
      },
    };
    const limits = { maxFailedLogins: 3, failWindowMs: 60_000 };
    const server = await startServer('parallel-logins', limits, { backend: slow });
    const attempt = (password: string) =>
      connect(server.port, 'acme', password).then(
        (c) => {
          c.end();
          return 'logged in';
        },
        () => 'refused',
      );
    // Good logins sent at once (a firm's parallel transfers) wait their turn: all get in, 3 checked at a time.
    const good = await Promise.all(Array.from({ length: 8 }, () => attempt(ACME_PASSWORD)));
    assert.deepEqual(good, Array(8).fill('logged in'));
    assert.equal(mostAtOnce, 3);
    checks = 0;
    let release = () => {};
    held = new Promise<void>((r) => {
      release = r;
    });
    const wrong = Array.from({ length: 50 }, (_, i) => attempt(`wrong-${i}`));
    await eventually(() => checks === 3, 'three checks under way', 10_000);
    const right = attempt(ACME_PASSWORD); // the right password, past the limit
    await new Promise((r) => setTimeout(r, 500)); // the others reach the server meanwhile
    assert.equal(checks, 3);
    release();
    assert.deepEqual(new Set(await Promise.all(wrong)), new Set(['refused']));
    assert.equal(await right, 'refused');
    assert.equal(checks, 3);
  });

  test('a failing backend answers FAILURE and the session goes on; garbage instead of SSH is dropped', async () => {
    const b = fx.backend;
    let downloadsClosed = 0;
    const faulty: SiteBackend = {
      ...b,
      checkPassword: (f, p) => b.checkPassword(f, p),
      publicKeys: (f) => b.publicKeys(f),
      hostKey: () => b.hostKey(),
      async list() {
        throw new Error('database is down');
      },
      async openDownload() {
        return {
          size: 100,
          modifiedAt: new Date(),
          readAt: async () => {
            throw new Error('disk read error');
          },
          close: async () => {
            downloadsClosed++;
          },
        };
      },
    };
    const server = await startServer('faulty', {}, { backend: faulty, loginTimeoutMs: 500 });
    const garbage = net.connect(server.port, '127.0.0.1');
    garbage.on('error', () => {}).resume();
    garbage.write(randomBytes(4096));
    await new Promise<void>((r) => garbage.once('close', () => r()));
    const { client, sftp } = await session(server.port);
    let r = await refusal(list(sftp, '/Results'));
    assert.equal(r.code, STATUS.FAILURE);
    assert.match(r.message, /internal error/);
    const h = await open(sftp, '/Results/any.csv', 'r');
    r = await refusal(call<number>((cb) => sftp.read(h, Buffer.alloc(10), 0, 10, 0, cb)));
    assert.equal(r.code, STATUS.FAILURE);
    assert.equal(await call<string>((cb) => sftp.realpath('.', cb)), '/');
    client.end(); // the download never closed is closed with the session
    assert.ok(
      logs.some((l) => l.event === 'sftp.bug' && String(l.detail.error).includes('database is down')),
    );
    assert.ok(
      logs.some((l) => l.event === 'sftp.bug' && String(l.detail.error).includes('disk read error')),
      'the read error logged',
    );
    await eventually(() => downloadsClosed === 1, 'the download closed');
    assert.deepEqual(uploadsLeft('faulty'), []);
  });

  test('requests and bytes being written at once are bounded per session', async () => {
    // A disk that holds every write until released.
    let release = () => {};
    let gate = Promise.resolve();
    const hold = () => {
      gate = new Promise<void>((r) => {
        release = r;
      });
    };
    const slowDisk: TempFiles = {
      async create(d) {
        const f = await diskTempFiles.create(d);
        return {
          path: f.path,
          close: () => f.close(),
          write: (data, at) => gate.then(() => f.write(data, at)),
        };
      },
      reopen: (p) => diskTempFiles.reopen(p),
    };
    const server = await startServer('slow', { maxFileBytes: 64 * 1024 ** 2 }, { tempFiles: slowDisk });
    const { client, sftp } = await session(server.port);
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: Error) => e.message,
      );
    const h1 = await open(sftp, '/Import/many.csv', 'w');
    const h2 = await open(sftp, '/Import/fast.csv', 'w');
    // 513 one-byte writes while the disk holds them: the one past 512 requests is refused, and with it
    // the upload (else it would be received with a hole where that byte should be).
    hold();
    const many = Array.from({ length: 513 }, (_, i) => settle(write(sftp, h1, Buffer.from('x'), i)));
    assert.equal(await many[512], 'too many requests at once; the upload was discarded');
    release();
    assert.deepEqual(new Set(await Promise.all(many.slice(0, 512))), new Set(['ok']));
    assert.match((await refusal(close(sftp, h1))).message, /too many requests at once/);
    assert.ok(!receivedNames().includes('many.csv'), 'many.csv received with a hole');
    assert.ok(
      logs.some((l) => l.event === 'sftp.upload_refused' && l.detail.name === 'many.csv'),
      'logged',
    );
    // 200 KiB writes (OpenSSH may send 256 KiB): the one past 32 MiB under way is refused.
    hold();
    (sftp as unknown as { _maxWriteLen: number })._maxWriteLen = 200 * 1024;
    const chunk = Buffer.alloc(200 * 1024, 'y');
    const fast: Array<Promise<string>> = [];
    for (let i = 0; i * chunk.length <= 32 * 1024 ** 2; i++) {
      fast.push(settle(write(sftp, h2, chunk, i * chunk.length)));
    }
    assert.equal(await fast[fast.length - 1], 'too many writes at once; the upload was discarded');
    release();
    await Promise.all(fast);
    assert.equal((await refusal(close(sftp, h2))).code, STATUS.FAILURE);
    client.end();
    assert.ok(!receivedNames().includes('fast.csv'));
    await eventually(() => uploadsLeft('slow').length === 0, 'no temp files left');
  });

  test('a write error (disk full) is a FAILURE: the upload is discarded, never received', async () => {
    const fullAt = 64 * 1024;
    const fullDisk: TempFiles = {
      async create(d) {
        const f = await diskTempFiles.create(d);
        return {
          path: f.path,
          close: () => f.close(),
          async write(data, at) {
            if (at + data.length > fullAt) {
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            }
            await f.write(data, at);
          },
        };
      },
      reopen: (p) => diskTempFiles.reopen(p),
    };
    const server = await startServer('full', {}, { tempFiles: fullDisk });
    const { client, sftp } = await session(server.port);
    const r = await refusal(upload(sftp, '/Import/full.csv', randomBytes(200 * 1024)));
    assert.equal(r.code, STATUS.FAILURE);
    assert.match(r.message, /ENOSPC/);
    client.end();
    assert.ok(!receivedNames().includes('full.csv'));
    await eventually(() => uploadsLeft('full').length === 0, 'the temp file removed');
  });
});
