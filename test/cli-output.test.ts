// What the caseport command writes, as a user meets it: a reader that closes the pipe early, control
// characters in data on the way to a terminal, and --out values that cannot be written (one line, the
// right exit code, never a stack trace, never a hang).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { safeJson, terminalSafe } from '../src/cli/output.js';
import { makeFolder } from '../src/folders.js';
import { tempDir } from './helpers.js';

const BIN = path.resolve('bin/caseport.js');
const ENV = { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '', CASEPORT_DEBUG: '' };
// A child still running after this is hung: it is killed and the test fails on its missing exit code.
const HANG_MS = 20_000;
const TEMPLATE = 'corporation_details_export';

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function cli(dataDir: string, args: string[], cwd?: string): Ran {
  const r = spawnSync(process.execPath, [BIN, '--data', dataDir, ...args], {
    encoding: 'utf8',
    env: ENV,
    cwd,
    timeout: HANG_MS,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

/** Runs the CLI with a reader that closes its end of stdout: at once, or on the first bytes it gets. */
function cliWithClosingReader(dataDir: string, args: string[], when: 'at-once' | 'first-bytes') {
  return new Promise<Ran>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--data', dataDir, ...args], {
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    if (when === 'at-once') child.stdout.destroy();
    else child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: '', err });
    });
  });
}

function noStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+|internal error|EPIPE|Unhandled/, `not quiet: ${text}`);
}

/** One line on stderr, nothing on stdout: how every refused command ends. */
function oneLine(r: Ran) {
  assert.equal(r.signal, null, `killed (hung?): ${r.err}`);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.equal(r.out, '');
  noStack(r.err);
}

// Characters a terminal acts on; the line feed that ends each line is the only one allowed through.
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('caseport output', () => {
  const data = tempDir();
  before(() => {
    const init = cli(data, ['firm', 'add', 'acme', '--name', 'Acme']);
    assert.equal(init.code, 0, init.err);
  });

  test('a reader that closes stdout early ends the output quietly', { timeout: 4 * HANG_MS }, async () => {
    for (const args of [
      ['kb', 'list', 'countries'],
      ['kb', 'list', 'countries', '--json'],
      ['firm', 'list', '--json'],
    ]) {
      for (const when of ['at-once', 'first-bytes'] as const) {
        const r = await cliWithClosingReader(data, args, when);
        assert.equal(r.signal, null, `${args.join(' ')} (${when}) hung`);
        assert.equal(r.code, 0, `${args.join(' ')} (${when}): ${r.err}`);
        assert.equal(r.err, '', `${args.join(' ')} (${when}) wrote to stderr`);
      }
    }
    // The work itself still finishes: the export is published though no one reads its summary.
    const out = tempDir();
    const r = await cliWithClosingReader(
      data,
      ['export', TEMPLATE, '--firm', 'acme', '--out', out, '--json'],
      'at-once',
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(readdirSync(out).filter((n) => n.endsWith('.csv')).length, 1);
  });

  test('terminalSafe and safeJson: control characters become visible escapes; JSON round-trips', () => {
    assert.equal(terminalSafe('\u001b[31mRED\u001b[0m'), '\\x1b[31mRED\\x1b[0m');
    assert.equal(
      terminalSafe('a\rb\bc\td\u0000\u007f\u009b2J\u0085'),
      'a\\x0db\\x08c\\x09d\\x00\\x7f\\u009b2J\\u0085',
    );
    assert.equal(
      terminalSafe('line one\nline two · ok é'),
      'line one\nline two · ok é',
      'line feeds and text kept',
    );
    const value = { name: 'E\u001b[31mvil\u007f\u0080\u009b\u009f\u00a0é', n: 1, list: ['\r\n'] };
    const json = safeJson(value);
    assert.doesNotMatch(json.replace(/\n/g, ''), RAW_CONTROLS);
    assert.match(json, /\\u001b\[31mvil\\u007f\\u0080\\u009b\\u009f\u00a0é/);
    assert.deepEqual(JSON.parse(json), value);
  });

  test('data with escape sequences reaches stdout and stderr as visible text; --json round-trips', () => {
    const name = 'Evil\u001b[31mRED\u001b]0;pwned\u0007\u009b2J\rX\u007f';
    const added = cli(data, ['firm', 'add', 'evil', '--name', name]);
    assert.equal(added.code, 0, added.err);
    const listed = cli(data, ['firm', 'list']);
    for (const r of [added, listed]) {
      assert.doesNotMatch(r.out.replace(/\n/g, ''), RAW_CONTROLS, JSON.stringify(r.out));
      assert.ok(r.out.includes('Evil\\x1b[31mRED\\x1b]0;pwned\\x07\\u009b2J\\x0dX\\x7f'), r.out);
    }
    const json = cli(data, ['firm', 'list', '--json']);
    assert.equal(json.code, 0, json.err);
    assert.doesNotMatch(json.out.replace(/\n/g, ''), RAW_CONTROLS);
    assert.equal(JSON.parse(json.out).find((f: { id: string }) => f.id === 'evil').name, name);

    // Errors quote what the user typed: a bad firm id, an unknown list.
    const badId = cli(data, ['firm', 'add', 'bad\u001b[2Jid', '--name', 'X']);
    const badList = cli(data, ['kb', 'list', 'planets\u009b31m\u001b[1A']);
    for (const r of [badId, badList]) {
      assert.equal(r.code, 2, r.err);
      oneLine(r);
      assert.doesNotMatch(r.err.trim(), RAW_CONTROLS, JSON.stringify(r.err));
    }
    assert.match(badId.err, /firm id "bad\\x1b\[2Jid"/);
    assert.match(badList.err, /"planets\\u009b31m\\x1b\[1A"/);
  });

  test('export --out "": a usage error (exit 2); nothing is written to the current folder', () => {
    const cwd = tempDir();
    const r = cli(data, ['export', TEMPLATE, '--firm', 'acme', '--out', ''], cwd);
    assert.equal(r.code, 2, r.err);
    oneLine(r);
    assert.equal(r.err.trim(), 'caseport: --out "": the value is empty; give the folder to write to');
    assert.deepEqual(readdirSync(cwd), []);
  });

  test('export --out a folder that cannot be made or is not one: exit 1, one line, no hang', {
    timeout: 4 * HANG_MS,
  }, () => {
    const dir = tempDir();
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const dangling = path.join(dir, 'dangling');
    symlinkSync(path.join(dir, 'nowhere'), dangling);
    const cases: Array<[string, RegExp]> = [
      [file, /: not a folder$/],
      [
        path.join(file, 'sub'),
        /: the folder cannot be created: a part of the path is not a folder \(ENOTDIR\)$/,
      ],
      [path.join(dangling, 'out'), /: the folder cannot be created: .*dangling is not a folder/],
    ];
    if (existsSync('/proc/self')) {
      // procfs answers ENOENT for a new folder: Node's recursive mkdir spun on it forever
      cases.push(['/proc/x', /: the folder cannot be created: \/proc does not take new folders \(ENOENT\)$/]);
      cases.push(['/proc', /: not writable: the file system refuses new files there \(ENOENT\)$/]);
    }
    for (const [out, why] of cases) {
      const r = cli(data, ['export', TEMPLATE, '--firm', 'acme', '--out', out]);
      assert.equal(r.code, 1, `${out}: ${r.signal ?? ''} ${r.err}`);
      oneLine(r);
      assert.ok(r.err.startsWith(`caseport: --out "${out}": `), r.err);
      assert.match(r.err.trim(), why);
    }
  });

  test('makeFolder: creates missing parents; ends with an error where mkdir -p spun', async () => {
    const dir = path.join(tempDir(), 'a', 'b', 'c');
    await makeFolder(dir);
    await makeFolder(dir); // already there: fine
    assert.ok(existsSync(dir));
    if (!existsSync('/proc/self')) return;
    // In a child with a kill timeout: a spinning mkdir would keep this test process alive for ever.
    const folder = pathToFileURL(path.resolve('src/folders.ts')).href;
    const code = `import(${JSON.stringify(folder)}).then((m) => m.makeFolder('/proc/x/y')).then(() => console.log('made'), (e) => console.log(e.message))`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
      encoding: 'utf8',
      timeout: HANG_MS,
      killSignal: 'SIGKILL',
    });
    assert.equal(r.signal, null, 'makeFolder(/proc/x/y) hung');
    assert.equal(r.stdout.trim(), '/proc does not take new folders (ENOENT)');
  });

  test('kb export countries --out "" (exit 2), a folder or a missing folder (exit 1): one line', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'sub'));
    const empty = cli(data, ['kb', 'export', 'countries', '--out', '']);
    assert.equal(empty.code, 2, empty.err);
    oneLine(empty);
    assert.match(empty.err, /^caseport: --out "": the value is empty; give the file to write/);
    const cases: Array<[string, string]> = [
      [dir, `is a folder; give a file name, e.g. ${path.join(dir, 'countries.xlsx')}`],
      [
        path.join(dir, 'sub') + path.sep,
        `is a folder; give a file name, e.g. ${path.join(dir, 'sub', 'countries.xlsx')}`,
      ],
      [path.join(dir, 'missing', 'c.csv'), `its folder ${path.join(dir, 'missing')} does not exist`],
    ];
    for (const [out, why] of cases) {
      for (const format of ['xlsx', 'csv']) {
        const r = cli(data, ['kb', 'export', 'countries', '--format', format, '--out', out]);
        assert.equal(r.code, 1, `${out}: ${r.err}`);
        oneLine(r);
        assert.equal(r.err.trim(), `caseport: --out "${path.resolve(out)}": ${why}`);
      }
    }
    const ok = cli(data, ['kb', 'export', 'countries', '--format', 'csv', '--out', path.join(dir, 'c.csv')]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out.trim(), `256 countries written to ${path.join(dir, 'c.csv')}`);
  });
});
