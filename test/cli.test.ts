// The caseport command as a user runs it: exit codes, JSON output, one-line errors, --help everywhere.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { header, rowOf, templateNamed } from './fixtures.js';
import { tempDir, writeCsv } from './helpers.js';

const BIN = path.resolve('bin/caseport.js');

function cli(dataDir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--data', dataDir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function noStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `stack trace in: ${text}`);
}

describe('caseport CLI', () => {
  const data = tempDir();

  test('init is idempotent; firm add; kb list countries prints 256 entries', () => {
    assert.equal(cli(data, 'init').code, 0);
    assert.equal(cli(data, 'init').code, 0);
    assert.equal(cli(data, 'firm', 'add', 'acme', '--name', 'Acme').code, 0);
    const list = cli(data, 'kb', 'list', 'countries', '--json');
    assert.equal(list.code, 0);
    assert.equal(JSON.parse(list.out).length, 256);
    const firms = JSON.parse(cli(data, 'firm', 'list', '--json').out);
    assert.deepEqual(
      firms.map((f: { id: string }) => f.id),
      ['acme'],
    );
  });

  test('errors are one line and a non-zero exit, never a stack trace', () => {
    const again = cli(data, 'firm', 'add', 'acme', '--name', 'Acme');
    assert.equal(again.code, 2);
    assert.equal(again.err.trim(), 'caseport: firm "acme" already exists');
    const unknownList = cli(data, 'kb', 'list', 'planets');
    assert.equal(unknownList.code, 2);
    assert.match(unknownList.err, /unknown knowledge-base list "planets"/);
    const noFirm = cli(data, 'import', 'x.csv', '--firm', 'ghost');
    assert.equal(noFirm.code, 2);
    assert.match(noFirm.err, /firm "ghost" does not exist/);
    const badDb = cli(data, '--db', 'mysql://x', 'init');
    assert.equal(badDb.code, 2);
    assert.match(badDb.err, /not supported/);
    const badOpt = cli(data, 'firm', 'add', 'x', '--name', 'X', '--record-limit', 'lots');
    assert.equal(badOpt.code, 2);
    for (const r of [again, unknownList, noFirm, badDb, badOpt]) noStack(r.err);
  });

  test('--help on every command', () => {
    for (const args of [
      [],
      ['init'],
      ['start'],
      ['firm'],
      ['firm', 'add'],
      ['firm', 'list'],
      ['firm', 'set'],
      ['kb'],
      ['kb', 'list'],
      ['kb', 'import'],
      ['kb', 'export'],
      ['import'],
    ]) {
      const r = cli(data, ...args, '--help');
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out, /Usage: caseport/);
    }
  });

  test('import: exit 0 completed, 3 incomplete, 4 interrupted; JSON per file', () => {
    const dir = tempDir();
    const t = templateNamed('company_Details_import');
    const good = writeCsv(dir, 'company_Details_import_20261120.csv', [header(t), rowOf(t)]);
    const r0 = cli(data, 'import', good, '--firm', 'acme', '--json');
    assert.equal(r0.code, 0, r0.err);
    const j = JSON.parse(r0.out);
    assert.equal(j.status, 'completed');
    assert.equal(j.template, 'company_Details_import');
    assert.deepEqual(j.rows, { total: 1, created: 1, updated: 0, unchanged: 0, rejected: 0 });
    assert.equal(typeof j.runId, 'number');
    const partial = writeCsv(dir, 'company_Details_import_20261121.csv', [
      header(t),
      rowOf(t, { EmployerID: 'B' }),
      rowOf(t, { FEIN: 'x' }),
    ]);
    const r3 = cli(data, 'import', partial, '--firm', 'acme', '--json');
    assert.equal(r3.code, 3);
    const j3 = JSON.parse(r3.out);
    assert.deepEqual(j3.errors, [
      { row: 3, column: 'FEIN', value: 'x', message: '"x" is not of the form NN-NNNNNNN' },
    ]);
    assert.ok(path.isAbsolute(j3.resultFile) && existsSync(j3.resultFile));
    const wrong = writeCsv(dir, 'nonsense_20261120.csv', [['a']]);
    const r4 = cli(data, 'import', wrong, good, '--firm', 'acme', '--json');
    assert.equal(r4.code, 4);
    assert.equal(JSON.parse(r4.out).length, 2);
    const text = cli(data, 'import', partial, '--firm', 'acme', '--dry-run');
    assert.equal(text.code, 3);
    assert.match(text.out, /INCOMPLETE \(dry run, nothing written\)/);
    assert.match(text.out, /row 3, FEIN: "x" is not of the form NN-NNNNNNN/);
    assert.equal(cli(data, 'import', '--firm', 'acme').code, 2, 'no file is a usage error');
  });

  test('a dry run of several files sees the earlier files, as the real run would, and keeps nothing', () => {
    const dir = tempDir();
    assert.equal(cli(data, 'firm', 'add', 'dry', '--name', 'Dry').code, 0);
    const company = templateNamed('company_Details_import');
    const contacts = templateNamed('company_Additional_Contact_import');
    const a = writeCsv(dir, 'company_Details_import_20261120.csv', [
      header(company),
      rowOf(company, { EmployerID: 'NEWCO' }),
    ]);
    const b = writeCsv(dir, 'company_Additional_Contact_import_20261120.csv', [
      header(contacts),
      rowOf(contacts, { EmployerID: 'NEWCO' }),
    ]);
    const dry = cli(data, 'import', b, a, '--firm', 'dry', '--dry-run', '--json');
    assert.equal(dry.code, 0, dry.out);
    const out = JSON.parse(dry.out);
    assert.deepEqual(
      out.map((r: { template: string; status: string }) => [r.template, r.status]),
      [
        ['company_Details_import', 'completed'],
        ['company_Additional_Contact_import', 'completed'],
      ],
    );
    const real = cli(data, 'import', b, '--firm', 'dry', '--json');
    assert.equal(real.code, 3, 'the employer was not kept by the dry run');
    assert.match(JSON.parse(real.out).errors[0].message, /employer "NEWCO" does not exist/);
  });

  test('kb import of a per-firm list and of a firm entry; bad rows reported by row and column', () => {
    const dir = tempDir();
    const pets = writeCsv(dir, 'pets.csv', [
      ['PetID', 'PetitionName', 'FormType', 'VisaCategory', 'Description', 'Active'],
      ['H1B', 'H-1B', 'I-129', 'H-1B', '', 'Y'],
      ['', 'No id', '', '', '', 'Y'],
    ]);
    const r = cli(data, 'kb', 'import', 'petitions', pets, '--firm', 'acme', '--json');
    assert.equal(r.code, 3);
    assert.deepEqual(
      JSON.parse(r.out).errors.map((e: { row: number; column: string }) => [e.row, e.column]),
      [[3, 'PetID']],
    );
    const listed = JSON.parse(cli(data, 'kb', 'list', 'petitions', '--firm', 'acme', '--json').out);
    assert.deepEqual(
      listed.map((p: { PetID: string }) => p.PetID),
      ['H1B'],
    );
    const extra = writeCsv(dir, 'visas.csv', [['Value'], ['H-1B'], ['X-1'], ['A', 'B']]);
    const e = cli(data, 'kb', 'import', 'visa-types', extra, '--firm', 'acme', '--json');
    assert.equal(e.code, 3);
    const out = JSON.parse(e.out);
    assert.deepEqual(out.rows, { total: 3, created: 1, updated: 0, unchanged: 1, rejected: 1 });
    assert.deepEqual(
      out.errors.map((x: { row: number; message: string }) => [x.row, x.message]),
      [[4, 'the row has 2 cells but the header has 1 columns']],
    );
    const visas = JSON.parse(cli(data, 'kb', 'list', 'visa-types', '--firm', 'acme', '--json').out);
    assert.ok(visas.some((v: { value: string; source: string }) => v.value === 'X-1' && v.source === 'firm'));
    assert.ok(
      visas.some((v: { value: string }) => v.value === 'H-1B'),
      'shipped entries stay',
    );
  });

  test('kb export countries writes a real .xlsx and a .csv', async () => {
    const dir = tempDir();
    const xlsx = path.join(dir, 'Country List.xlsx');
    assert.equal(cli(data, 'kb', 'export', 'countries', '--format', 'xlsx', '--out', xlsx).code, 0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ws = wb.getWorksheet('Country List')!;
    assert.equal(ws.rowCount, 257);
    assert.deepEqual((ws.getRow(1).values as string[]).slice(1), ['Name', 'ISO2', 'ISO3', 'Historical']);
    const csv = path.join(dir, 'countries.csv');
    assert.equal(cli(data, 'kb', 'export', 'countries', '--format', 'csv', '--out', csv).code, 0);
  });

  test('start: the demo firm with its credentials, the sample files imported', () => {
    const fresh = tempDir();
    const r = cli(fresh, 'start', '--no-serve');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /user: demo {3}password: \S{12,}/);
    assert.match(r.out, /company_Details_import_20261120\.csv: COMPLETED/);
    assert.match(r.out, /case_Details_Data_import_20261120\.csv: COMPLETED/);
    const again = cli(fresh, 'start', '--no-serve');
    assert.equal(again.code, 0);
    assert.doesNotMatch(again.out, /password/, 'credentials are shown once');
    const importDir = path.join(fresh, 'firms', 'demo', 'Import');
    const refused = writeCsv(importDir, 'company_Details_import_20260230.csv', [['EmployerID']]);
    const third = cli(fresh, 'start', '--no-serve');
    assert.equal(third.code, 4);
    assert.match(third.out, /not a calendar date[\s\S]*kept in .*Import to be retried/);
    assert.ok(existsSync(refused), 'an interrupted file stays in Import');
    assert.ok(
      existsSync(path.join(fresh, 'firms', 'demo', 'Archive', 'company_Details_import_20261120.csv')),
    );
  });
});
