// The SFTP server's pure parts: paths read against the virtual home, temporary names, the login
// throttle, the limits from the environment, staged uploads expiring.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { IdleTimer } from '../src/sftp/idle-timer.js';
import { defaultSiteLimits } from '../src/sftp/limits.js';
import { LoginThrottle } from '../src/sftp/login-throttle.js';
import { isTemporaryName, resolveSitePath, sitePathText, whyNameRefused } from '../src/sftp/site-path.js';
import { StagedUploads } from '../src/sftp/staged-uploads.js';

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

  test('temporary names of common clients', () => {
    for (const t of ['x.csv.filepart', 'x.csv.part', 'x.csv.PARTIAL', 'x.tmp', '.in.x.csv', '.x.csv']) {
      assert.ok(isTemporaryName(t), t);
    }
    for (const f of ['x.csv', 'filepart.csv', 'x.part.csv']) assert.ok(!isTemporaryName(f), f);
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
