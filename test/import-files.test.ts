// Malformed and unusual files: each gets a clear outcome naming what is wrong, never a crash, and the
// valid rows around a broken one are kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { importFile } from '../src/ingest/index.js';
import { header, rowOf, seedFirm, templateNamed } from './fixtures.js';
import { storeWithFirm, type TestStore, tempDir, writeCsv, writeRaw } from './helpers.js';

const people = templateNamed('fn_Details_Data_import');
const docs = templateNamed('fn_expiry_dates_import');
const csvLine = (cells: string[]) =>
  cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');
const H = csvLine(header(people));
const row = (id: string, patch: Record<string, string> = {}) =>
  csvLine(rowOf(people, { EmployeeID: id, ...patch }));

describe('malformed and unusual files (SQLite)', () => {
  let store: TestStore;
  let dir: string;
  let n = 0;
  const name = () => `fn_Details_Data_import_20261120_${++n}.csv`;
  const run = (content: string | Buffer, fileName = name()) =>
    importFile(store.engine, { firmId: 'acme', file: writeRaw(dir, fileName, content), resultDir: dir });
  const stored = async (id: string) =>
    store.engine.db.selectFrom('clients').selectAll().where('employee_id', '=', id).executeTakeFirst();

  before(async () => {
    store = await storeWithFirm('sqlite');
    await seedFirm(store.engine);
    dir = tempDir();
  });
  after(() => store.cleanup());

  test('unbalanced quote: that row is rejected, the rows after it are still applied', async () => {
    const r = await run(
      [H, row('U1'), `ACME,U2,"Broken,${rowOf(people).slice(3).join(',')}`, row('U3'), row('U4'), ''].join(
        '\n',
      ),
    );
    assert.equal(r.status, 'incomplete');
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].row, 3);
    assert.match(r.errors[0].message, /never closed/);
    assert.ok(await stored('U1'));
    assert.ok(await stored('U3'), 'row after the broken quote kept');
    assert.ok(await stored('U4'));
    assert.equal(r.rows.created, 3);
  });

  test('stray quote inside an unquoted cell is kept as a character; after a closing quote it rejects the row', async () => {
    const r = await run(
      [H, row('Q1', { JobTitle: 'Lead "Bot" Eng' }), '']
        .join('\n')
        .replace('"Lead ""Bot"" Eng"', 'Lead "Bot" Eng'),
    );
    assert.equal(r.status, 'completed', JSON.stringify(r.errors));
    assert.equal((await stored('Q1'))?.job_title, 'Lead "Bot" Eng');
    const bad = row('Q2').replace('Engineer', '"Engi"neer');
    const r2 = await run([H, bad, row('Q3'), ''].join('\n'));
    assert.equal(r2.status, 'incomplete');
    assert.equal(r2.errors[0].row, 2);
    assert.ok(await stored('Q3'), 'the next row is kept');
  });

  test('UTF-8 with BOM, CRLF and CR-only line ends', async () => {
    const bom = await run(`\uFEFF${[H, row('B1'), ''].join('\r\n')}`);
    assert.equal(bom.status, 'completed', JSON.stringify([bom.message, bom.errors]));
    const cr = await run([H, row('C1'), row('C2', { SSN: 'bad' }), ''].join('\r'));
    assert.equal(cr.status, 'incomplete');
    assert.equal(cr.errors[0].row, 3);
    assert.ok(await stored('C1'));
  });

  test('Windows-1252 (Latin-1 accents) is read with a warning', async () => {
    const text = [H, row('W1', { FirstName: 'José', CityOfBirth: 'São Paulo' }), ''].join('\r\n');
    const r = await run(Buffer.from(text, 'latin1'));
    assert.equal(r.status, 'completed', JSON.stringify(r.errors));
    assert.ok(r.warnings.some((w) => /Windows-1252/.test(w)));
    const c = await stored('W1');
    assert.deepEqual([c?.first_name, c?.city_of_birth], ['José', 'São Paulo']);
  });

  test('UTF-16, empty, binary garbage and a zip named .csv are refused whole', async () => {
    const utf16 = await run(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from([H, row('X1')].join('\n'), 'utf16le')]),
    );
    assert.equal(utf16.status, 'interrupted');
    assert.match(utf16.message!, /UTF-16/);
    const empty = await run('');
    assert.match(empty.message!, /empty/);
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
    const g = await run(garbage);
    assert.equal(g.status, 'interrupted');
    assert.match(g.message!, /binary data/);
    const zip = await run(
      Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('[Content_Types].xml')]),
    );
    assert.match(zip.message!, /ZIP archive/);
    const runs = await store.engine.db
      .selectFrom('runs')
      .select(['status', 'message'])
      .where('status', '=', 'interrupted')
      .execute();
    assert.ok(runs.length >= 4, 'interrupted files are in the ledger with their message');
  });

  test('header only is a completed run of no rows; whitespace only has no header', async () => {
    const r = await run(`${H}\n`);
    assert.equal(r.status, 'completed');
    assert.equal(r.rows.total, 0);
    const blank = await run('\n\n  \n');
    assert.equal(blank.status, 'interrupted');
  });

  test('extra, missing and reordered columns refuse the file, listing expected and found headers', async () => {
    const cols = header(people);
    for (const h of [[...cols, 'Extra'], cols.slice(0, -1), [cols[1], cols[0], ...cols.slice(2)]]) {
      const r = await run([csvLine(h), row('H1'), ''].join('\n'));
      assert.equal(r.status, 'interrupted');
      assert.match(r.message!, /expected: EmployerID,EmployeeID,FirstName.*; found: /);
    }
    const relaxed = await run([csvLine(cols.map((c) => ` ${c.toUpperCase()} `)), row('H2'), ''].join('\n'));
    assert.equal(relaxed.status, 'completed', 'names compare case-insensitively, trimmed');
  });

  test('file names: unknown template and impossible dates are refused', async () => {
    const a = await run(`${H}\n`, 'fn_Unknown_import_20261120.csv');
    assert.match(a.message!, /not an import template/);
    const b = await run(`${H}\n`, 'fn_Details_Data_import_20240230.csv');
    assert.match(b.message!, /not a calendar date/);
    const c = await run(`${H}\n`, 'clients.csv');
    assert.match(c.message!, /expected <template>_YYYYMMDD.csv/);
    const d = await run(`${H}\n`, 'FN_DETAILS_DATA_IMPORT_20240229_2.CSV');
    assert.equal(d.status, 'completed', 'prefix case-insensitive, leap day, sequence suffix');
  });

  test('a 5 MB cell and a row of 100,000 cells get clear outcomes', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const f = writeCsv(dir, 'fn_expiry_dates_import_20261120.csv', [
      header(docs),
      rowOf(docs, { Notes: big }),
    ]);
    const r = await importFile(store.engine, { firmId: 'acme', file: f, resultDir: dir });
    assert.equal(r.status, 'incomplete');
    assert.match(r.errors[0].message, /longer than 1,048,576 characters/);
    const wide = await run([H, new Array(100000).fill('a').join(','), row('V1'), ''].join('\n'));
    assert.equal(wide.status, 'incomplete');
    assert.match(wide.errors[0].message, /the row has 100,000 cells; a row may have at most 1,000/);
    assert.ok(await stored('V1'));
  });

  test('row numbers are spreadsheet rows: a quoted line break does not start a new row', async () => {
    const r = await run(
      [H, row('N1', { OtherNames: 'line one\nline two' }), row('N2', { SSN: 'bad' }), ''].join('\n'),
    );
    assert.equal(r.errors[0].row, 3);
    assert.equal((await stored('N1'))?.other_names, 'line one\nline two');
  });

  test('the same content again is a repeat and changes nothing', async () => {
    const content = [H, row('R1'), ''].join('\n');
    const first = await run(content);
    const again = await run(content);
    assert.equal(again.repeatOf, first.runId);
    assert.deepEqual(again.rows, { total: 1, created: 0, updated: 0, unchanged: 1, rejected: 0 });
  });
});
