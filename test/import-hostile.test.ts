// Files a careless or hostile sender makes, and the failures around a run: each defect found in review,
// with the behaviour the contract asks for. Engine-specific risks run on both engines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import { importFile } from '../src/ingest/index.js';
import { updateFirm } from '../src/store/index.js';
import { caseManagersList, listEntriesTemplate, petitionsList } from '../src/templates/index.js';
import { header, importRows, rowOf, seedFirm, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir, writeCsv, writeRaw } from './helpers.js';

const people = templateNamed('fn_Details_Data_import');
const passports = templateNamed('fn_Passport_Details_import');
const supervisors = templateNamed('fn_Supervisor_Details_import');
const cases = templateNamed('case_Details_Data_import');
const H = header(people).join(',');
const line = (t: typeof people, patch: Record<string, string>) => rowOf(t, patch).join(',');

for (const kind of ENGINES) {
  describe(`hostile cells on ${kind}`, () => {
    let store: TestStore;
    before(async () => {
      store = await storeWithFirm(kind, { zoomNoUpdate: true });
      await seedFirm(store.engine);
    });
    after(() => store.cleanup());

    test('a control character in a key rejects the row: keys with U+0001 cannot land on another record', async () => {
      const dir = tempDir();
      const file = writeCsv(dir, 'fn_Passport_Details_import_20261120.csv', [
        header(passports),
        rowOf(passports, { EmployeeID: 'E1\u0001Z', PassportNumber: 'CTRL1' }),
        rowOf(passports, { PassportNumber: 'OK1' }),
      ]);
      const r = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
      assert.deepEqual(r.rows, { total: 2, created: 1, updated: 0, unchanged: 0, rejected: 1 });
      assert.deepEqual(
        r.errors.map((e) => [e.row, e.column, e.message]),
        [[2, 'EmployeeID', 'the cell holds the control character U+0001']],
      );
      const stored = await store.engine.db.selectFrom('passports').select('passport_number').execute();
      assert.ok(!stored.some((p) => p.passport_number === 'CTRL1'));
    });

    test('a NUL in a cell rejects that row only; the ledger keeps its problem (PostgreSQL text has no NUL)', async () => {
      const dir = tempDir();
      const file = writeRaw(
        dir,
        'fn_Details_Data_import_20261120_7.csv',
        `${H}\n${line(people, { EmployeeID: 'NUL1', JobTitle: 'Eng\u0000ineer' })}\n${line(people, { EmployeeID: 'NUL2' })}\n`,
      );
      const r = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
      assert.equal(r.status, 'incomplete');
      assert.deepEqual(r.rows, { total: 2, created: 1, updated: 0, unchanged: 0, rejected: 1 });
      assert.equal(r.errors[0].column, 'JobTitle');
      assert.match(r.errors[0].message, /U\+0000/);
      assert.ok(
        r.resultFile && readFileSync(r.resultFile, 'utf8').includes('Eng\u0000ineer'),
        'the row as sent',
      );
    });

    test('kb import of a shipped list goes through the pipeline: a dry run writes nothing; NUL and quotes are checked', async () => {
      const dir = tempDir();
      const file = writeRaw(dir, 'visas.csv', 'Value\nZ-9\n"Q-\u00001"\n"open\nY-7\n');
      const run = (dryRun: boolean) =>
        importFile(store.engine, {
          firmId: 'acme',
          file,
          template: listEntriesTemplate('visa-types'), // what `caseport kb import visa-types` uses
          resultDir: dir,
          dryRun,
        });
      const dry = await run(true);
      assert.deepEqual(dry.rows, { total: 4, created: 2, updated: 0, unchanged: 0, rejected: 2 });
      const none = await store.engine.db
        .selectFrom('kb_entries')
        .selectAll()
        .where('value', '=', 'Z-9')
        .execute();
      assert.equal(none.length, 0, 'the dry run wrote nothing');
      const real = await run(false);
      assert.deepEqual(real.rows, dry.rows);
      assert.deepEqual(
        real.errors.map((e) => e.row),
        [3, 4],
      );
      const values = await store.engine.db
        .selectFrom('kb_entries')
        .select('value')
        .where('list_name', '=', 'visa-types')
        .orderBy('value')
        .execute();
      assert.deepEqual(
        values.map((v) => v.value),
        ['Y-7', 'Z-9'],
      );
      const billed = await store.engine.db
        .selectFrom('runs')
        .select('billed_rows')
        .where('id', '=', real.runId)
        .executeTakeFirstOrThrow();
      assert.equal(billed.billed_rows, 0, 'list loads are not billed');
    });
  });
}

describe('hostile files and failures around a run (SQLite)', () => {
  let store: TestStore;
  before(async () => {
    store = await storeWithFirm('sqlite', { zoomNoUpdate: true });
    await seedFirm(store.engine);
  });
  after(() => store.cleanup());
  const run = (file: string, o: { dryRun?: boolean; resultDir?: string; batchSize?: number } = {}) =>
    importFile(store.engine, { firmId: 'acme', file, resultDir: o.resultDir ?? path.dirname(file), ...o });

  test('every problem of a row, including what only the store can tell', async () => {
    const p = await importRows(store.engine, people, [{ EmployerID: 'NOPE', SSN: 'bad' }]);
    assert.deepEqual(p.errors.map((e) => e.column).sort(), ['EmployerID', 'SSN']);
    const q = await importRows(store.engine, passports, [
      { EmployeeID: 'GHOST', ExpirationDate: '13/45/2030' },
    ]);
    assert.deepEqual(q.errors.map((e) => e.column).sort(), ['EmployeeID', 'ExpirationDate']);
    const s = await importRows(store.engine, supervisors, [
      { SupervisorContactID: 'C1', EffectiveDate: 'soon' },
    ]);
    assert.deepEqual(s.errors.map((e) => e.column).sort(), ['EffectiveDate', 'SupervisorContactID']);
    assert.match(
      s.errors.find((e) => e.column === 'SupervisorContactID')!.message,
      /not a Supervisor contact/,
    );
    const c = await importRows(store.engine, cases, [
      { CaseReference: 'NEW-1', PetID: 'Zoom No Update', ReceiptNumber: '12' },
    ]);
    assert.deepEqual(c.errors.map((e) => e.column).sort(), ['PetID', 'ReceiptNumber']);
    assert.match(c.errors.find((e) => e.column === 'PetID')!.message, /this record is new/);
  });

  test('numbers are never changed: "5,4" and "15,20" reject the row', async () => {
    const t = templateNamed('company_Details_import');
    const r = await importRows(store.engine, t, [
      { EmployerID: 'N1', NumberOfEmployees: '5,4' },
      { EmployerID: 'N2', GrossAnnualIncome: '15,20' },
      { EmployerID: 'N3', NumberOfEmployees: '123456789012345', YearEstablished: 'est. 1998' },
    ]);
    assert.deepEqual(
      r.errors.map((e) => [e.row, e.column]),
      [
        [2, 'NumberOfEmployees'],
        [3, 'GrossAnnualIncome'],
      ],
    );
    const n3 = await store.engine.db
      .selectFrom('employers')
      .select(['number_of_employees', 'year_established'])
      .where('employer_code', '=', 'N3')
      .executeTakeFirstOrThrow();
    assert.deepEqual(n3, { number_of_employees: 123456789012345, year_established: 'est. 1998' });
  });

  test('billing counts the rows the import reads: a stray quote cannot slip a file past the allowance', async () => {
    const dir = tempDir();
    await updateFirm(store.engine, 'acme', { recordLimit: 10 });
    try {
      const rows = [H, `ACME,Q0,"Stray,Quote,${','.repeat(25)}`];
      for (let i = 1; i < 1_000; i++) rows.push(line(people, { EmployeeID: `Q${i}` }));
      const file = writeRaw(dir, 'fn_Details_Data_import_20261120_1.csv', `${rows.join('\n')}\n`);
      for (const dryRun of [true, false]) {
        const r = await run(file, { dryRun });
        assert.equal(r.status, 'interrupted');
        assert.match(r.message ?? '', /the file has 1000 rows but only \d+ are left/);
        assert.equal(r.rows.total, 0, 'nothing applied');
      }
      // Lines of spaces are no rows; a quoted line break does not make one.
      await updateFirm(store.engine, 'acme', { recordLimit: 5 + (await usedNow()) });
      const spaced = [H];
      for (let i = 0; i < 5; i++) {
        spaced.push(line(people, { EmployeeID: `SP${i}`, OtherNames: '"two\nlines"' }));
        spaced.push('    ', '');
      }
      const ok = await run(writeRaw(dir, 'fn_Details_Data_import_20261120_2.csv', `${spaced.join('\n')}\n`));
      assert.equal(ok.status, 'completed', ok.message ?? JSON.stringify(ok.errors));
      assert.equal(ok.rows.total, 5);
      assert.equal(await billedFor(ok.runId!), 5);
    } finally {
      await updateFirm(store.engine, 'acme', { recordLimit: null });
    }
    async function usedNow() {
      const r = await store.engine.db
        .selectFrom('runs')
        .select((eb) => eb.fn.sum<number>('billed_rows').as('n'))
        .where('firm_id', '=', 'acme')
        .executeTakeFirstOrThrow();
      return Number(r.n);
    }
  });

  async function billedFor(runId: number) {
    const r = await store.engine.db
      .selectFrom('runs')
      .select('billed_rows')
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    return r.billed_rows;
  }

  test('an unclosed quote costs its own row: the 16,000 rows after it are applied, batch by batch', async () => {
    const dir = tempDir();
    const rows = [H, `ACME,U0,"never closed,${','.repeat(25)}`];
    for (let i = 1; i <= 16_000; i++) rows.push(line(people, { EmployeeID: `U${i}` }));
    const file = writeRaw(dir, 'fn_Details_Data_import_20261120_3.csv', `${rows.join('\n')}\n`);
    let batches = 0;
    const r = await importFile(store.engine, {
      firmId: 'acme',
      file,
      resultDir: dir,
      afterBatch: () => {
        batches++;
      },
    });
    assert.deepEqual(r.rows, { total: 16_001, created: 16_000, updated: 0, unchanged: 0, rejected: 1 });
    assert.equal(r.errors[0].row, 2);
    assert.equal(batches, 9, '2,000 rows a batch, not the rest of the file as one');
  });

  test('a file changed while it is read: the run applies and bills the file as it was when it started', async () => {
    const dir = tempDir();
    const before = [H];
    for (let i = 0; i < 300; i++) before.push(line(people, { EmployeeID: `W${i}`, JobTitle: 'Before' }));
    const file = writeRaw(dir, 'fn_Details_Data_import_20261120_4.csv', `${before.join('\n')}\n`);
    const original = readFileSync(file);
    let changed = false;
    const r = await importFile(store.engine, {
      firmId: 'acme',
      file,
      resultDir: dir,
      batchSize: 100,
      afterBatch: () => {
        if (changed) return;
        changed = true;
        const after = [H];
        for (let i = 0; i < 900; i++) after.push(line(people, { EmployeeID: `W${i}`, JobTitle: 'After' }));
        writeFileSync(file, `${after.join('\n')}\n`);
      },
    });
    assert.ok(changed);
    assert.deepEqual(r.rows, { total: 300, created: 300, updated: 0, unchanged: 0, rejected: 0 });
    const titles = await store.engine.db
      .selectFrom('clients')
      .select('job_title')
      .where('employee_id', 'like', 'W%')
      .distinct()
      .execute();
    assert.deepEqual(titles, [{ job_title: 'Before' }]);
    const run = await store.engine.db
      .selectFrom('runs')
      .select(['file_sha256', 'billed_rows'])
      .where('id', '=', r.runId)
      .executeTakeFirstOrThrow();
    const { createHash } = await import('node:crypto');
    assert.equal(run.file_sha256, createHash('sha256').update(original).digest('hex'));
    assert.equal(run.billed_rows, 300);
  });

  test('result files: neutralised cells, a long name, a Results path that is a file; the run always ends', async () => {
    const dir = tempDir();
    const bad = (id: string) =>
      rowOf(people, { EmployeeID: id, SSN: 'bad', JobTitle: '=HYPERLINK("http://x")' });
    // The longest name a file system takes (255 bytes): its result name is longer than that.
    const long = `fn_Details_Data_import_20261120_${'9'.repeat(255 - 'fn_Details_Data_import_20261120_.csv'.length)}.csv`;
    const r1 = await run(writeCsv(dir, long, [header(people), bad('L1')]), {
      resultDir: path.join(dir, 'Results'),
    });
    assert.equal(r1.status, 'incomplete');
    assert.equal(r1.resultFile, null);
    assert.match(r1.warnings.join(' '), /the result file could not be written/);
    // A name that fits leaves room for the temporary name too.
    const fits = `fn_Details_Data_import_20261120_${'8'.repeat(235 - 'fn_Details_Data_import_20261120_.csv'.length)}.csv`;
    const r2 = await run(writeCsv(dir, fits, [header(people), bad('L2')]), {
      resultDir: path.join(dir, 'Results'),
    });
    assert.ok(r2.resultFile && existsSync(r2.resultFile), JSON.stringify(r2.warnings));
    const cells = Papa.parse<string[]>(readFileSync(r2.resultFile, 'utf8').trim(), { delimiter: ',' }).data;
    assert.equal(cells[1][header(people).indexOf('JobTitle')], '\'=HYPERLINK("http://x")');
    // Results is a file: the run still ends Incomplete, with the reason.
    const blocked = path.join(dir, 'blocked');
    writeFileSync(blocked, 'not a folder');
    const r3 = await run(
      writeCsv(dir, 'fn_Details_Data_import_20261120_5.csv', [header(people), bad('L3')]),
      {
        resultDir: blocked,
      },
    );
    assert.equal(r3.status, 'incomplete');
    assert.match(r3.warnings.join(' '), /could not be written in .*blocked/);
    for (const id of [r1.runId, r3.runId]) {
      const row = await store.engine.db
        .selectFrom('runs')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'incomplete', 'never left running');
    }
  });

  test('a corrected file of the same name that completes removes the stale result file', async () => {
    const dir = tempDir();
    const results = path.join(dir, 'Results');
    mkdirSync(results);
    const name = 'fn_Details_Data_import_20261120_6.csv';
    const first = await run(
      writeCsv(dir, name, [header(people), rowOf(people, { EmployeeID: 'F1', SSN: 'bad' })]),
      {
        resultDir: results,
      },
    );
    assert.ok(first.resultFile && existsSync(first.resultFile));
    const fixed = await run(writeCsv(dir, name, [header(people), rowOf(people, { EmployeeID: 'F1' })]), {
      resultDir: results,
    });
    assert.equal(fixed.status, 'completed');
    assert.equal(existsSync(first.resultFile), false);
  });

  test('a result file that cannot be written takes the stale one of the same name with it', async () => {
    const dir = tempDir();
    const results = path.join(dir, 'Results');
    const name = 'fn_Details_Data_import_20261120_12.csv';
    const bad = (id: string) => rowOf(people, { EmployeeID: id, SSN: 'bad' });
    const first = await run(writeCsv(dir, name, [header(people), bad('ST1')]), { resultDir: results });
    assert.ok(first.resultFile && existsSync(first.resultFile));
    // The disk is full when the next file of the same name is done.
    const fsp = await import('node:fs/promises');
    const { syncBuiltinESMExports } = await import('node:module');
    const open = fsp.default.open;
    fsp.default.open = (async (file: Parameters<typeof open>[0], ...rest: unknown[]) => {
      if (String(file).includes('.result-')) {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }
      return (open as (...a: unknown[]) => unknown)(file, ...rest);
    }) as typeof open;
    syncBuiltinESMExports();
    try {
      const second = await run(writeCsv(dir, name, [header(people), bad('ST2'), bad('ST3')]), {
        resultDir: results,
      });
      assert.equal(second.status, 'incomplete');
      assert.equal(second.resultFile, null);
      assert.equal(existsSync(first.resultFile), false, 'no result file describing another file is left');
      assert.match(second.warnings.join(' '), /no longer describes this file/);
      assert.match(second.warnings.join(' '), /ENOSPC/);
    } finally {
      fsp.default.open = open;
      syncBuiltinESMExports();
    }
  });

  test('a row with more cells than columns keeps them all in its result file', async () => {
    const dir = tempDir();
    const cells = [...rowOf(people, { EmployeeID: 'WIDE1' }), 'extra1', '=x()', '"x,y"'];
    const r = await run(
      writeRaw(dir, 'fn_Details_Data_import_20261120_13.csv', `${H}\n${cells.join(',')}\n`),
    );
    assert.ok(r.resultFile);
    const row = Papa.parse<string[]>(readFileSync(r.resultFile, 'utf8').trim(), { delimiter: ',' }).data[1];
    assert.equal(row[27], '123-45-6789,extra1,=x(),"x,y"', 'the extra cells, in the last column, as sent');
    assert.equal(row.length, 28 + 3);
  });

  test('rows of long cells come in smaller batches: memory holds characters, not a count of rows', async () => {
    const dir = tempDir();
    const rows = [header(people)];
    for (let i = 0; i < 300; i++)
      rows.push(rowOf(people, { EmployeeID: `LONG${i}`, OtherNames: 'n'.repeat(30_000) }));
    let batches = 0;
    const r = await importFile(store.engine, {
      firmId: 'acme',
      file: writeCsv(dir, 'fn_Details_Data_import_20261120_14.csv', rows),
      resultDir: dir,
      afterBatch: () => {
        batches++;
      },
    });
    assert.equal(r.rows.created, 300);
    assert.ok(batches >= 3, `${batches} batches for 9 million characters`);
  });

  test('a FIFO is refused at once, not waited on; Zoom No Update with no-break spaces is the keyword', async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'fn_Details_Data_import_20261120_15.csv');
    spawnSync('mkfifo', [fifo]);
    const r = await run(fifo);
    assert.equal(r.message, 'the file cannot be read: it is not a regular file');
    const kept = await importRows(store.engine, people, [{ JobTitle: 'Zoom\u00a0No\u00a0Update' }]);
    assert.equal(kept.rows.rejected, 0);
    const c = await store.engine.db
      .selectFrom('clients')
      .select('job_title')
      .where('employee_id', '=', 'E1')
      .executeTakeFirstOrThrow();
    assert.notEqual(c.job_title, 'Zoom\u00a0No\u00a0Update');
  });

  test('an unreadable header says why; a spool that cannot hold the copy is named, not blamed on the file', async () => {
    const dir = tempDir();
    const wide = await run(
      writeRaw(dir, 'fn_Details_Data_import_20261120_16.csv', `${'h,'.repeat(5_000)}h\n`),
    );
    assert.match(
      wide.message ?? '',
      /the header row cannot be read: the row has 5,001 cells; a row may have at most 1,000/,
    );
    const spool = path.join(dir, 'spool');
    writeFileSync(spool, 'a file where the spool folder should be');
    const r = await importFile(store.engine, {
      firmId: 'acme',
      file: writeCsv(dir, 'fn_Details_Data_import_20261120_17.csv', [header(people), rowOf(people)]),
      resultDir: dir,
      spoolDir: spool,
    });
    assert.equal(r.status, 'interrupted');
    assert.match(
      r.message ?? '',
      /^the spool folder .*spool\/acme cannot hold a copy of the file: a part of the path is not a folder/,
    );
  });

  test('a bug part-way is an internal error, not a problem of the file; the run resumes later', async () => {
    const dir = tempDir();
    const rows = [header(people)];
    for (let i = 0; i < 60; i++) rows.push(rowOf(people, { EmployeeID: `BUG${i}` }));
    const file = writeCsv(dir, 'fn_Details_Data_import_20261120_8.csv', rows);
    await assert.rejects(
      importFile(store.engine, {
        firmId: 'acme',
        file,
        resultDir: dir,
        batchSize: 20,
        afterBatch: (n) => {
          if (n > 30) throw new TypeError("Cannot read properties of undefined (reading 'id')");
        },
      }),
      TypeError,
    );
    const left = await store.engine.db
      .selectFrom('runs')
      .select(['id', 'status', 'message'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(left.status, 'interrupted');
    assert.match(left.message ?? '', /stopped after row 41: internal error: Cannot read/);
    const again = await run(file);
    assert.equal(again.runId, Number(left.id));
    assert.equal(again.resumedFromRow, 41);
    assert.equal(again.rows.created, 60);
  });

  test('files that cannot be read say why; a BOM before Windows-1252 text is dropped', async () => {
    const dir = tempDir();
    const missing = await run(path.join(dir, 'fn_Details_Data_import_20261120_9.csv'));
    assert.equal(missing.message, 'the file cannot be read: no such file');
    const folder = path.join(dir, 'fn_Details_Data_import_20261120_10.csv');
    mkdirSync(folder);
    assert.equal((await run(folder)).message, 'the file cannot be read: it is not a regular file');
    const latin = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`${H}\n${line(people, { EmployeeID: 'BOM1', FirstName: 'Ren_' })}\n`, 'latin1'),
    ]);
    latin[latin.indexOf('Ren_') + 3] = 0xe9; // é in Windows-1252, invalid as UTF-8
    const r = await run(writeRaw(dir, 'fn_Details_Data_import_20261120_11.csv', latin));
    assert.equal(r.status, 'completed', r.message ?? '');
    assert.match(r.warnings[0], /read as Windows-1252/);
    const c = await store.engine.db
      .selectFrom('clients')
      .select('first_name')
      .where('employee_id', '=', 'BOM1')
      .executeTakeFirstOrThrow();
    assert.equal(c.first_name, 'René');
  });

  test('an inactive petition or case manager stays on the cases that name it; new cases cannot use it', async () => {
    const dir = tempDir();
    const lists = async (active: 'Y' | 'N') => {
      const p = await importFile(store.engine, {
        firmId: 'acme',
        template: petitionsList,
        file: writeCsv(dir, 'petitions.csv', [
          header(petitionsList),
          ['RETIRING', 'Old', 'I-129', 'H-1B', '', active],
        ]),
        resultDir: dir,
      });
      const m = await importFile(store.engine, {
        firmId: 'acme',
        template: caseManagersList,
        file: writeCsv(dir, 'managers.csv', [
          header(caseManagersList),
          ['CM9', 'Ola', 'Berg', 'ola@firm.example', '', '', active],
        ]),
        resultDir: dir,
      });
      assert.equal(p.rows.rejected + m.rows.rejected, 0);
    };
    await lists('Y');
    const open = { CaseReference: 'KEEP-1', PetID: 'RETIRING', CaseManagerEmail: 'ola@firm.example' };
    assert.equal((await importRows(store.engine, cases, [open])).rows.created, 1);
    await lists('N');
    const update = await importRows(store.engine, cases, [{ ...open, Notes: 'still open' }]);
    assert.deepEqual(update.rows, { total: 1, created: 0, updated: 1, unchanged: 0, rejected: 0 });
    const fresh = await importRows(store.engine, cases, [{ ...open, CaseReference: 'NEW-2' }]);
    assert.deepEqual(
      fresh.errors.map((e) => [e.column, e.message]),
      [
        ['PetID', '"RETIRING" is inactive: only a record that already names it can keep it'],
        [
          'CaseManagerEmail',
          '"ola@firm.example" is inactive: only a record that already names it can keep it',
        ],
      ],
    );
    const moved = await importRows(store.engine, cases, [{ CaseReference: 'WD-1', PetID: 'RETIRING' }]);
    assert.equal(moved.rows.rejected, 1, 'an existing case cannot move to an inactive petition');
  });

  test('the CLI names a refused file once, with the reason', () => {
    const dir = tempDir();
    const utf16 = writeRaw(
      dir,
      'fn_Details_Data_import_20261120.csv',
      Buffer.from(`\ufeff${H}\n`, 'utf16le'),
    );
    const r = spawnSync(
      process.execPath,
      [path.resolve('bin/caseport.js'), '--data', store.dataDir, 'import', utf16, '--firm', 'acme'],
      { encoding: 'utf8', env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' } },
    );
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stdout.split('fn_Details_Data_import_20261120.csv').length - 1, 1, r.stdout);
    assert.match(r.stdout, /the file is UTF-16 text/);
  });
});
