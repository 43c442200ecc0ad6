// `caseport export` as a user runs it, on both engines: JSON output, the firm's Export folder by
// default, --out, --delta, the run it records, and usage errors (exit 2, one line, no stack).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { importFile } from '../src/ingest/index.js';
import { firmFolders } from '../src/paths.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir } from './helpers.js';

const MAIN = pathToFileURL(path.resolve('src/cli/main.ts')).href;

/** Runs the CLI from its TypeScript source (no build needed), against the test store. */
function cli(store: TestStore, ...args: string[]) {
  const entry = `import(${JSON.stringify(MAIN)}).then((m) => m.main(['node', 'caseport', ...process.argv.slice(1)]))`;
  const db = store.dbUrl ? ['--db', store.dbUrl] : [];
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', entry, '--', '--data', store.dataDir, ...db, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

for (const kind of ENGINES) {
  describe(`${kind}: caseport export`, () => {
    let store: TestStore;
    before(async () => {
      store = await storeWithFirm(kind);
      const dir = tempDir();
      for (const n of ['company_Details_import', 'company_Additional_Contact_import']) {
        const file = path.resolve('examples', 'import', `${n}_20261120.csv`);
        await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
      }
    });
    after(() => store.cleanup());

    test('--json prints {file, template, rows, runId}; the file goes to the firm Export folder', () => {
      const r = cli(store, 'export', 'corporation_details_export', '--firm', 'acme', '--json');
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.equal(j.template, 'corporation_details_export');
      assert.equal(j.rows, 2);
      assert.equal(typeof j.runId, 'number');
      assert.equal(j.status, 'completed');
      assert.equal(path.dirname(j.file), firmFolders(store.dataDir, 'acme').export);
      assert.match(path.basename(j.file), /^corporation_details_export_\d{12}(_\d+)?\.csv$/);
      assert.equal(readFileSync(j.file, 'utf8').split('\r\n').filter(Boolean).length, 3);
    });

    test('--out and --delta: after a delta the next delta is header-only; text output names the file', async () => {
      const out = tempDir();
      const all = cli(
        store,
        'export',
        'corporation_details_export',
        '--firm',
        'acme',
        '--out',
        out,
        '--delta',
      );
      assert.equal(all.code, 0, all.err);
      assert.match(all.out, /· 2 rows/, 'a full export moved no mark: the first delta has every row');
      const first = cli(
        store,
        'export',
        'CORPORATION_DETAILS_EXPORT',
        '--firm',
        'acme',
        '--out',
        out,
        '--delta',
      );
      assert.equal(first.code, 0, first.err);
      assert.match(first.out, /corporation_details_export: COMPLETED · run \d+ · 0 rows \(changed since /);
      const file = first.out.split('\n')[1].trim();
      assert.equal(path.dirname(file), out, 'the file is in --out');
      assert.equal(readFileSync(file, 'utf8').split('\r\n').filter(Boolean).length, 1, 'header only');
      const runs = await store.engine.db
        .selectFrom('runs')
        .select(['kind', 'status', 'template'])
        .where('kind', '=', 'export')
        .execute();
      assert.equal(runs.length, 3);
      assert.ok(runs.every((x) => x.status === 'completed' && x.template === 'corporation_details_export'));
    });

    test('--since and --delta together, an unknown template or a bad --since: exit 2 and one line', () => {
      const both = cli(
        store,
        'export',
        'corporation_details_export',
        '--firm',
        'acme',
        '--since',
        '2026-01-01',
        '--delta',
      );
      assert.equal(both.code, 2);
      assert.equal(
        both.err.trim(),
        'caseport: --since and --delta cannot be used together: --delta starts at the last successful export',
      );
      const unknown = cli(store, 'export', 'passports', '--firm', 'acme');
      assert.equal(unknown.code, 2);
      assert.match(unknown.err, /unknown template "passports"; templates: corporation_details_export, /);
      const badSince = cli(
        store,
        'export',
        'corporation_details_export',
        '--firm',
        'acme',
        '--since',
        'yesterday',
      );
      assert.equal(badSince.code, 2);
      assert.match(badSince.err, /--since "yesterday" is not an ISO 8601 instant/);
      const noFirm = cli(store, 'export', 'corporation_details_export', '--firm', 'ghost');
      assert.equal(noFirm.code, 2);
      for (const r of [both, unknown, badSince, noFirm]) {
        assert.equal(r.err.trim().split('\n').length, 1, r.err);
        assert.equal(r.out, '');
      }
    });
  });
}
