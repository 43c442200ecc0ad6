// The SFTP server's pure parts: paths read against the virtual home, temporary names, the login
// throttle, the limits from the environment, staged uploads expiring, the byte ranges of an upload,
// downloads' reads and their bound per connection.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ByteRanges, MAX_RANGES } from '../src/sftp/byte-ranges.js';
import { DownloadSlots, MAX_READ_BYTES } from '../src/sftp/download.js';
import { IdleTimer } from '../src/sftp/idle-timer.js';
import { defaultSiteLimits } from '../src/sftp/limits.js';
import { LoginThrottle } from '../src/sftp/login-throttle.js';
import type { SiteDownload } from '../src/sftp/site.js';
import {
  isTemporaryName,
  resolveSitePath,
  sitePathText,
  whyNameRefused,
  whyUploadNameRefused,
} from '../src/sftp/site-path.js';
import { StagedUploads } from '../src/sftp/staged-uploads.js';
import { Upload } from '../src/sftp/upload.js';

describe('site paths', () => {
  test('normalised against the home: relative, dots, repeated slashes, never above /', () => {
    const cases: Array<[string, string]> = [
      ['', '/'],
      ['.', '/'],
      ['..', '/'],
      ['/../../..', '/'],
      ['Import', '/Import'],
      ['//Import///./a.csv', '/Import/a.csv'],
      ['Results/../Import/a.csv', '/Import/a.csv'],
      ['/Import/../../other-firm/Import/x.csv', '/other-firm/Import/x.csv'],
      ['/etc/passwd', '/etc/passwd'],
    ];
    for (const [raw, want] of cases) assert.equal(sitePathText(resolveSitePath(raw)), want, raw);
  });

  test('only the three folders and the files directly in them are places', () => {
    assert.deepEqual(resolveSitePath('/'), { kind: 'root' });
    assert.deepEqual(resolveSitePath('/Export'), { kind: 'folder', folder: 'Export' });
    assert.deepEqual(resolveSitePath('/Results/r.csv'), { kind: 'file', folder: 'Results', name: 'r.csv' });
    assert.equal(resolveSitePath('/import/a.csv').kind, 'outside'); // names are exact
    assert.equal(resolveSitePath('/Import/sub/a.csv').kind, 'outside');
    assert.equal(resolveSitePath('/../other-firm/Import/x').kind, 'outside');
  });

  test('names refused: empty, dots, slashes, control characters, not UTF-8, over 255 bytes', () => {
    for (const bad of [
      '',
      '.',
      '..',
      'a\\b',
      'a/b',
      'nul\0.csv',
      'tab\t.csv',
      'del\u007f',
      'bad\ufffd.csv',
    ]) {
      assert.ok(whyNameRefused(bad), JSON.stringify(bad));
    }
    assert.equal(whyNameRefused('é'.repeat(127)), undefined); // 254 bytes
    assert.match(whyNameRefused('é'.repeat(128)) ?? '', /longer than 255 bytes/); // 256 bytes
    assert.equal(resolveSitePath('/Import/a\0b').kind, 'refused');
    assert.equal(resolveSitePath('/Import/x\0/../a.csv').kind, 'refused'); // not hidden by a '..'
    assert.equal(resolveSitePath(`/Import/${'a'.repeat(5000)}`).kind, 'refused');
    assert.equal(resolveSitePath('/Import/a\\b.csv').kind, 'refused');
  });

  test('names refused: invisible formatting characters and slash look-alikes', () => {
    const format = ['\u202E', '\u200B', '\u2066', '\u2067', '\u2068', '\u2069', '\uFEFF', '\u00AD', '\u200D'];
    for (const c of format) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      assert.equal(
        whyNameRefused(`a${c}b.csv`),
        `the name contains an invisible formatting character (${code})`,
      );
    }
    for (const c of ['\u2215', '\u2044', '\uFF0F', '\u29F8', '\uFF3C', '\u29F5']) {
      assert.match(whyNameRefused(`2026${c}a.csv`) ?? '', /looks like a slash/, c);
    }
    assert.equal(resolveSitePath('/Import/a\u202Eb.csv').kind, 'refused');
    assert.equal(whyNameRefused('Müller–Ørsted 日本.csv'), undefined);
  });

  test("upload names leave room for their result file's: 248 bytes at most", () => {
    const longest = `${'é'.repeat(122)}.csv`; // 248 bytes
    assert.equal(whyUploadNameRefused(longest), undefined);
    assert.equal(whyNameRefused(`${longest.slice(0, -4)}_result.csv`), undefined); // 255 bytes
    assert.match(whyUploadNameRefused(`x${longest}`) ?? '', /longer than 248 bytes/);
  });

  test("temporary names of common clients; another name starting with '.' is not one", () => {
    for (const t of ['x.csv.filepart', 'x.csv.part', 'x.csv.PARTIAL', 'x.tmp', '.in.x.csv', '.x.csv.part']) {
      assert.ok(isTemporaryName(t), t);
    }
    for (const f of ['x.csv', 'filepart.csv', 'x.part.csv', '.x.csv', '.in', '.inx.csv', '.IN.x.csv']) {
      assert.ok(!isTemporaryName(f), f);
    }
  });
});

describe('login throttle', () => {
  test('blocks an address after maxFailedLogins within the window, until the oldest leaves it', () => {
    let now = 0;
    const t = new LoginThrottle({ maxFailedLogins: 3, failWindowMs: 1000, now: () => now });
    t.recordFailure('a');
    now = 400;
    t.recordFailure('a');
    assert.ok(!t.isBlocked('a'));
    now = 500;
    t.recordFailure('a');
    assert.ok(t.isBlocked('a'));
    assert.ok(!t.isBlocked('b'));
    now = 1001; // the first failure has left the window
    assert.ok(!t.isBlocked('a'));
    t.recordFailure('a');
    assert.ok(t.isBlocked('a'));
  });

  test('attempts being checked count: no more than could fail are checked at once, the rest wait', async () => {
    const t = new LoginThrottle({ maxFailedLogins: 3, failWindowMs: 60_000 });
    assert.deepEqual(await Promise.all([t.begin('a'), t.begin('a'), t.begin('a')]), [true, true, true]);
    const waiting = [t.begin('a'), t.begin('a')];
    let settled = 0;
    for (const w of waiting) w.then(() => settled++);
    assert.equal(await t.begin('b'), true); // another address is not held up
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, 0);
    t.end('a', false); // a login that succeeded: its place is free again
    assert.equal(await waiting[0], true);
    t.end('a', true);
    t.end('a', true);
    t.end('a', true); // three failures: the one still waiting is refused unchecked
    assert.equal(await waiting[1], false);
    assert.equal(await t.begin('a'), false);
    assert.ok(t.isBlocked('a'));
  });

  test('the table is bounded: the least recently failed address is forgotten', () => {
    const t = new LoginThrottle({ maxFailedLogins: 1, failWindowMs: 60_000, maxAddresses: 3 });
    for (const a of ['a', 'b', 'c']) t.recordFailure(a);
    t.recordFailure('a'); // a is now the most recent
    t.recordFailure('d'); // one past the bound
    assert.equal(t.size, 3);
    assert.ok(!t.isBlocked('b'));
    for (const a of ['a', 'c', 'd']) assert.ok(t.isBlocked(a), a);
  });
});

describe('limits', () => {
  test('defaults, overrides from the environment, and a bad value refused', () => {
    assert.deepEqual(defaultSiteLimits({}), {
      maxFileBytes: 2 * 1024 ** 3,
      idleTimeoutMs: 600_000,
      maxFailedLogins: 5,
      failWindowMs: 900_000,
    });
    const l = defaultSiteLimits({
      CASEPORT_SFTP_MAX_FILE_BYTES: '1048576',
      CASEPORT_SFTP_IDLE_TIMEOUT_MS: ' 5000 ',
    });
    assert.equal(l.maxFileBytes, 1048576);
    assert.equal(l.idleTimeoutMs, 5000);
    assert.throws(
      () => defaultSiteLimits({ CASEPORT_SFTP_MAX_FAILED_LOGINS: 'ten' }),
      /CASEPORT_SFTP_MAX_FAILED/,
    );
    assert.throws(
      () => defaultSiteLimits({ CASEPORT_SFTP_FAIL_WINDOW_MS: '0' }),
      /not a positive whole number/,
    );
  });
});

describe('staged uploads and idleness', () => {
  test('a staged upload expires and its file is deleted; replacing one deletes the old file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'caseport-staged-'));
    try {
      const expired: string[] = [];
      const staged = new StagedUploads(100, 2, (firm, name) => expired.push(`${firm}:${name}`));
      const file = (n: string) => {
        const p = path.join(dir, n);
        writeFileSync(p, n);
        return { tempPath: p, size: n.length, stagedAt: new Date() };
      };
      const first = file('one');
      await staged.put('acme', 'a.part', first);
      await staged.put('acme', 'a.part', file('two'));
      assert.ok(!existsSync(first.tempPath));
      assert.equal(staged.count('acme'), 1);
      assert.equal(staged.count('beta'), 0);
      await new Promise((r) => setTimeout(r, 250));
      assert.deepEqual(expired, ['acme:a.part']);
      assert.ok(!existsSync(path.join(dir, 'two')));
      assert.equal(staged.get('acme', 'a.part'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a connection busy with a request is not idle', async () => {
    let idle = 0;
    const timer = new IdleTimer(100, () => idle++);
    timer.begin();
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(idle, 0);
    timer.end();
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(idle, 1);
    timer.stop();
  });
});

describe('upload byte ranges', () => {
  test('writes in order stay one range; out of order they merge once the gaps are filled', () => {
    const r = new ByteRanges();
    for (let at = 0; at < 100; at += 10) assert.ok(r.add(at, at + 10));
    assert.equal(r.count, 1);
    assert.equal(r.firstGap(100), undefined);
    assert.deepEqual(r.firstGap(101), [100, 101]);
    const o = new ByteRanges();
    o.add(30, 40);
    o.add(0, 10);
    o.add(15, 20);
    assert.equal(o.count, 3);
    assert.deepEqual(o.firstGap(40), [10, 15]);
    o.add(5, 35); // spans and joins all three
    assert.equal(o.count, 1);
    assert.equal(o.firstGap(40), undefined);
    assert.deepEqual(new ByteRanges().firstGap(0), undefined);
    const one = new ByteRanges();
    one.add(99, 100);
    assert.deepEqual(one.firstGap(100), [0, 99]);
  });

  test(`at most ${MAX_RANGES} separate ranges; an upload past it is discarded`, async () => {
    const r = new ByteRanges();
    for (let i = 0; i < MAX_RANGES; i++) assert.ok(r.add(2 * i, 2 * i + 1));
    assert.equal(r.add(2 * MAX_RANGES, 2 * MAX_RANGES + 1), false);
    assert.ok(r.add(1, 2)); // joining two is always possible
    assert.equal(r.count, MAX_RANGES - 1);

    const file = { path: '/nonexistent/upload', write: async () => {}, close: async () => {} };
    const upload = new Upload({ firmId: 'acme', name: 'x.csv' }, file, 1 << 20, false);
    for (let i = 0; i < MAX_RANGES; i++) await upload.write(2 * i, Buffer.from('x'));
    await assert.rejects(upload.write(2 * MAX_RANGES, Buffer.from('x')), /separate pieces/);
    await assert.rejects(upload.write(1, Buffer.from('x')), /separate pieces/); // failed for good
    await assert.rejects(upload.finish(), /separate pieces/);
  });
});

describe('downloads', () => {
  const fakeFile = (size: number, gate?: Promise<void>) => {
    const asked: number[] = [];
    const state = { closed: false, readingWhenClosed: 0, reading: 0 };
    const file: SiteDownload = {
      size,
      modifiedAt: new Date(0),
      async readAt(offset, length) {
        asked.push(length);
        state.reading++;
        await gate;
        state.reading--;
        return Buffer.alloc(Math.max(0, Math.min(length, size - offset)), 'z');
      },
      async close() {
        state.closed = true;
        state.readingWhenClosed = state.reading;
      },
    };
    return { file, asked, state };
  };

  test('a READ asks the backend for 64 KiB at most, nothing at or past the end; CLOSE waits for reads', async () => {
    const slots = new DownloadSlots(2);
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const f = fakeFile(200_000, gate);
    const d = (await slots.open(async () => f.file))!;
    const big = d.read(0, 1 << 20);
    const closing = d.close();
    release();
    assert.equal((await big)?.length, MAX_READ_BYTES);
    await closing;
    assert.deepEqual(f.state, { closed: true, readingWhenClosed: 0, reading: 0 });
    const g = fakeFile(100);
    const e = (await slots.open(async () => g.file))!;
    assert.equal((await e.read(90, 50))?.length, 10);
    assert.equal(await e.read(100, 50), undefined);
    assert.equal(await e.read(2 ** 60, 50), undefined);
    assert.deepEqual(g.asked, [10]);
  });

  test('open downloads are bounded: one past it is refused; a closed or missing one gives its place back', async () => {
    const slots = new DownloadSlots(2);
    const a = await slots.open(async () => fakeFile(1).file);
    const b = await slots.open(async () => fakeFile(1).file);
    await assert.rejects(
      slots.open(async () => fakeFile(1).file),
      /too many files open for download: at most 2/,
    );
    await b!.close();
    await b!.close(); // twice is once
    assert.equal(slots.inUse, 1);
    assert.equal(await slots.open(async () => undefined), undefined);
    await assert.rejects(
      slots.open(() => Promise.reject(new Error('store down'))),
      /store down/,
    );
    assert.equal(slots.inUse, 1);
    await a!.close();
    assert.equal(slots.inUse, 0);
  });
});
