// Which rows an export carries, on both engines: all, --since an instant, or the delta since the task's
// last successful export (the mark moves only when the file is published), including changes of the
// records an export shows (supervisor link, petition, case manager); file names within one minute;
// DaysToExpiry; and cells a spreadsheet would run, neutralised in a real file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import { type ExportOptions, exportFile } from '../src/export/index.js';
import { readMark } from '../src/export/marks.js';
import { importFile } from '../src/ingest/index.js';
import { createRun, finishRun } from '../src/ledger/runs.js';
import {
  caseManagersList,
  FIRM_LIST_TEMPLATES,
  type ImportTemplate,
  petitionsList,
} from '../src/templates/index.js';
import { isoWithOffset } from '../src/time/zones.js';
import { header, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir, writeCsv } from './helpers.js';

const EXAMPLES = path.resolve('examples');
const tick = () => new Promise((r) => setTimeout(r, 15));

function table(file: string): Array<Record<string, string>> {
  const [head, ...rows] = Papa.parse<string[]>(readFileSync(file, 'utf8').replace(/\r\n$/, ''), {
    newline: '\r\n',
    delimiter: ',',
  }).data;
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

for (const kind of ENGINES) {
  describe(`${kind}: export scope and marks`, () => {
    let store: TestStore;
    const out = tempDir();
    let seq = 0;

    /** Imports rows as a file of the named template (per-firm lists by template). */
    async function load(name: string, rows: string[][], template?: ImportTemplate) {
      const dir = tempDir();
      seq++;
      const file = writeCsv(dir, template ? `${name}.csv` : `${name}_20261123_${seq}.csv`, rows);
      const r = await importFile(store.engine, { firmId: 'acme', file, template, resultDir: dir });
      assert.equal(r.rows.rejected, 0, JSON.stringify(r.errors));
      await tick();
      return r;
    }

    const run = (template: string, o: Partial<ExportOptions> = {}) =>
      exportFile(store.engine, { firmId: 'acme', template, outDir: out, ...o });
    const mark = (task: string) => readMark(store.engine.db, 'acme', task);

    before(async () => {
      store = await storeWithFirm(kind);
      const dir = tempDir();
      for (const t of FIRM_LIST_TEMPLATES.filter((x) => x.name !== 'custom-fields')) {
        const file = path.join(EXAMPLES, 'kb', `${t.name}.csv`);
        await importFile(store.engine, { firmId: 'acme', file, template: t, resultDir: dir });
      }
      for (const n of [
        'company_Details_import',
        'company_Additional_Contact_import',
        'fn_Details_Data_import',
      ].concat(['fn_Passport_Details_import', 'case_Details_Data_import'])) {
        const r = await importFile(store.engine, {
          firmId: 'acme',
          file: path.join(EXAMPLES, 'import', `${n}_20261120.csv`),
          resultDir: dir,
        });
        assert.ok(r.rows.created > 0, n);
      }
      await tick();
    });
    after(() => store.cleanup());

    test('all rows; the export is recorded as a completed export run with its file', async () => {
      const r = await run('corporation_details_export');
      assert.equal(r.status, 'completed');
      assert.equal(r.rows, 2);
      assert.equal(r.since, null);
      const row = await store.engine.db
        .selectFrom('runs')
        .selectAll()
        .where('id', '=', r.runId)
        .executeTakeFirstOrThrow();
      assert.equal(row.kind, 'export');
      assert.equal(row.status, 'completed');
      assert.equal(row.template, 'corporation_details_export');
      assert.equal(row.rows_total, 2);
      assert.equal(row.file_name, path.basename(r.file!));
      assert.equal(row.file_path, r.file);
      assert.ok(row.finished_at);
      assert.equal(await mark('corporation_details_export'), undefined, 'a full export moves no mark');
      await tick();
      const delta = await run('corporation_details_export', { scope: { kind: 'delta' } });
      assert.equal(
        delta.rows,
        2,
        "the delta's first file still has every row: the full export was another question",
      );
      const after = await run('corporation_details_export', { scope: { kind: 'delta' } });
      assert.equal(after.rows, 0, 'the delta after a delta is empty');
    });

    test('delta: first every row, then header-only when nothing changed, then only what changed', async () => {
      const task = 'nightly-employers';
      const template = 'corporation_details_export';
      const before1 = new Date().toISOString();
      const first = await run(template, { scope: { kind: 'delta' }, task });
      assert.equal(first.rows, 2, 'a task without a mark gets every row');
      assert.equal(first.since, null);
      const m1 = await mark(task);
      assert.ok(m1 && m1 >= before1 && m1 <= new Date().toISOString(), 'the mark is the start of the export');
      await tick();

      const empty = await run(template, { scope: { kind: 'delta' }, task });
      assert.equal(empty.status, 'completed');
      assert.equal(empty.rows, 0);
      assert.equal(empty.since, m1);
      const text = readFileSync(empty.file!, 'utf8');
      assert.equal(text.split('\r\n')[0].split(',')[0], 'CaseportEmployerID');
      assert.equal(text.split('\r\n').filter(Boolean).length, 1, 'header only');

      await load('company_Details_import', [
        header(templateNamed('company_Details_import')),
        ['GLOBEX', 'Globex Corporation', '', '98-7654321', 'Corporation', '2005', '1200', '310000000']
          .concat(['22000000', '541511', '1 Globex Way', '', 'Round Rock', 'TX', '78701', 'USA'])
          .concat(['+1 512 555 0142', 'people@globex.example', 'https://globex.example', 'Active']),
      ]);
      const changed = await run(template, { scope: { kind: 'delta' }, task });
      const rows = table(changed.file!);
      assert.deepEqual(
        rows.map((r) => [r.EmployerID, r.City]),
        [['GLOBEX', 'Round Rock']],
      );
      assert.ok((await mark(task))! > m1, 'the mark moved');
    });

    test('--since: rows changed at or after the instant, in any ISO form; the mark does not move', async () => {
      const task = 'corporation_details_export';
      const t = new Date();
      await tick();
      await load('company_Details_import', [
        header(templateNamed('company_Details_import')),
        ['ACME', 'Acme Robotics Inc.', 'Acme', '12-3456789', 'Corporation', '1998', '5500', '1200000000']
          .concat(['95000000', '333318', '100 Market Street', 'Suite 400', 'San Francisco', 'CA', '94105'])
          .concat(['United States', '+1 415 555 0199', 'hr@acme.example', 'https://acme.example', 'Active']),
      ]);
      const m = await mark(task);
      for (const since of [t.toISOString(), t.toISOString().replace('Z', '+00:00'), t]) {
        const r = await run(task, { scope: { kind: 'since', since } });
        assert.equal(r.since, t.toISOString());
        assert.deepEqual(
          table(r.file!).map((x) => [x.EmployerID, x.NumberOfEmployees]),
          [['ACME', '5500']],
        );
      }
      const all = await run(task, { scope: { kind: 'since', since: '2000-01-01' } });
      assert.equal(all.rows, 2);
      assert.equal(await mark(task), m, '--since leaves the mark where it was');
      await assert.rejects(
        run(task, { scope: { kind: 'since', since: 'last tuesday' } }),
        /not an ISO 8601 instant/,
      );
    });

    test('an interrupted export publishes nothing and keeps the mark; the next delta still has the rows', async () => {
      const task = 'fn_passport_details_export';
      const dir = tempDir();
      const first = await run(task, { scope: { kind: 'delta' }, outDir: dir });
      assert.equal(first.rows, 3, 'the three sample passports');
      const m = await mark(task);
      await tick();
      await load('fn_Passport_Details_import', [
        header(templateNamed('fn_Passport_Details_import')),
        ['ACME', 'E1001', 'Z1234567', 'India', '2019-02-10', '2029-02-09', 'New Delhi', 'Y'],
        ['ACME', 'E1002', '18AB12345', 'France', '2018-07-01', '2028-06-30', 'Paris', 'Y'],
      ]);
      const failed = await run(task, {
        scope: { kind: 'delta' },
        outDir: dir,
        chunkSize: 1,
        afterChunk: (rows) => {
          if (rows >= 1) throw new Error('disk full (injected)');
        },
      });
      assert.equal(failed.status, 'interrupted');
      assert.equal(failed.file, null);
      assert.match(failed.message!, /disk full \(injected\)/);
      assert.deepEqual(readdirSync(dir), [path.basename(first.file!)], 'no new file, no temporary file left');
      assert.equal(await mark(task), m, 'the mark did not move');
      const runRow = await store.engine.db
        .selectFrom('runs')
        .selectAll()
        .where('id', '=', failed.runId)
        .executeTakeFirstOrThrow();
      assert.equal(runRow.status, 'interrupted');
      assert.equal(runRow.kind, 'export');
      assert.match(runRow.message!, /no file was published/);

      const again = await run(task, { scope: { kind: 'delta' }, outDir: dir, chunkSize: 1 });
      assert.equal(again.status, 'completed');
      assert.deepEqual(
        table(again.file!).map((r) => [r.EmployeeID, r.PlaceOfIssue]),
        [
          ['E1001', 'New Delhi'],
          ['E1002', 'Paris'],
        ],
      );
    });

    test('a new or changed supervisor link brings its client into the client_details_export delta', async () => {
      const task = 'client_details_export';
      assert.equal((await run(task, { scope: { kind: 'delta' } })).rows, 3, 'the three sample clients');
      await tick();
      const head = ['EmployerID', 'EmployeeID', 'SupervisorContactID', 'EffectiveDate'];
      await load('fn_Supervisor_Details_import', [head, ['ACME', 'E1001', 'S-200', '2021-06-01']]);
      const r = await run(task, { scope: { kind: 'delta' } });
      const rows = table(r.file!);
      assert.deepEqual(
        rows.map((x) => [x.EmployeeID, x.SupervisorContactID]),
        [['E1001', 'S-200']],
      );
      const link = await store.engine.db
        .selectFrom('supervisor_links')
        .select('updated_at')
        .executeTakeFirstOrThrow();
      assert.equal(rows[0].LastModified, isoWithOffset(new Date(link.updated_at), 'America/Los_Angeles'));

      await load('fn_Supervisor_Details_import', [head, ['ACME', 'E1001', 'S-200', '2022-01-01']]);
      const changed = await run(task, { scope: { kind: 'delta' } });
      assert.deepEqual(
        table(changed.file!).map((x) => x.EmployeeID),
        ['E1001'],
      );
      assert.equal((await run(task, { scope: { kind: 'delta' } })).rows, 0);
    });

    test('a petition rename brings its cases into the fn_case_details_export delta', async () => {
      const task = 'fn_case_details_export';
      assert.equal((await run(task, { scope: { kind: 'delta' } })).rows, 2);
      await tick();
      const pets = Papa.parse<string[]>(
        readFileSync(path.join(EXAMPLES, 'kb', 'petitions.csv'), 'utf8').trim(),
      ).data;
      const renamed = pets.map((r) =>
        r[0] === 'H1B-EXT' ? [r[0], 'H-1B Extension of Stay', ...r.slice(2)] : r,
      );
      const lr = await load('petitions', renamed, petitionsList);
      assert.equal(lr.rows.updated, 1);
      const r = await run(task, { scope: { kind: 'delta' } });
      assert.deepEqual(
        table(r.file!).map((x) => [x.CaseReference, x.PetitionName, x.FormType]),
        [['WD-CASE-0001', 'H-1B Extension of Stay', 'I-129']],
      );
      const petitions = await run('petition_details_export', { scope: { kind: 'since', since: r.since! } });
      assert.deepEqual(
        table(petitions.file!).map((x) => x.PetID),
        ['H1B-EXT'],
      );
    });

    test("a case manager's rename or email change brings their cases into the delta", async () => {
      const task = 'fn_case_details_export';
      assert.equal((await run(task, { scope: { kind: 'delta' } })).rows, 0);
      const head = ['CaseManagerID', 'FirstName', 'LastName', 'Email', 'Phone', 'Role', 'Active'];
      const maria = [
        'CM001',
        'Maria',
        'Lopez',
        'maria.lopez@demo-immigration.example',
        '+1 415 555 0100',
      ].concat(['Senior Paralegal', 'Y']);
      const james = [
        'CM002',
        'James',
        'Chen-Li',
        'james.chen@demo-immigration.example',
        '+1 415 555 0101',
      ].concat(['Attorney', 'Y']);
      await load('case-managers', [head, maria, james], caseManagersList);
      const renamed = await run(task, { scope: { kind: 'delta' } });
      assert.deepEqual(
        table(renamed.file!).map((x) => [x.CaseReference, x.CaseManagerName]),
        [['WD-CASE-0002', 'James Chen-Li']],
      );

      const moved = [...maria.slice(0, 3), 'maria@elsewhere.example', ...maria.slice(4)];
      await load('case-managers', [head, moved, james], caseManagersList);
      const lost = await run(task, { scope: { kind: 'delta' } });
      assert.deepEqual(
        table(lost.file!).map((x) => [x.CaseReference, x.CaseManagerEmail, x.CaseManagerName]),
        [['WD-CASE-0001', 'maria.lopez@demo-immigration.example', '']],
        'the case no longer shows a manager: that is a change of the row',
      );
    });

    test('two exports in the same minute get distinct names and neither is overwritten', async () => {
      const dir = tempDir();
      const now = new Date('2026-11-25T09:02:10Z');
      const names: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await run('case_manager_details_export', {
          outDir: dir,
          now: new Date(now.getTime() + i * 1000),
        });
        names.push(path.basename(r.file!));
        assert.equal(table(r.file!).length, 2);
      }
      assert.deepEqual(names, [
        'case_manager_details_export_202611250102.csv',
        'case_manager_details_export_202611250102_2.csv',
        'case_manager_details_export_202611250102_3.csv',
      ]);
      assert.deepEqual(readdirSync(dir).sort(), [...names].sort());
    });

    test('DaysToExpiry counts whole days from today in the firm time zone', async () => {
      await load('fn_expiry_dates_import', [
        header(templateNamed('fn_expiry_dates_import')),
        ['ACME', 'E1001', 'I-94', '', '', '2026-11-25', ''],
        ['ACME', 'E1002', 'EAD', '', '', '11/20/2026', ''],
      ]);
      // 07:30 UTC on Nov 25 is 23:30 on Nov 24 in Los Angeles
      const r = await run('fn_immig_doc_details_export', {
        now: new Date('2026-11-25T07:30:00Z'),
        outDir: tempDir(),
      });
      assert.deepEqual(
        table(r.file!).map((x) => [x.EmployeeID, x.ExpirationDate, x.DaysToExpiry]),
        [
          ['E1001', '11/25/2026', '1'],
          ['E1002', '11/20/2026', '-4'],
        ],
      );
    });

    test('cells a spreadsheet would run are neutralised in the file; phones and negative numbers are kept', async () => {
      await load('company_Details_import', [
        header(templateNamed('company_Details_import')),
        [
          'EVIL',
          'Evil Corp',
          '@SUM(1)',
          '',
          '',
          '',
          '',
          '-3.5',
          '-42',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '+1 555 0100',
        ].concat(['', '', '']),
      ]);
      // Cells with a pipe are set directly: the importer guesses the delimiter and takes | for it (reported).
      // Tab- and CR-led values cannot come through an import at all (cells are trimmed).
      await store.engine.db
        .updateTable('employers')
        .set({
          employer_name: "=cmd|' /C calc'!A0",
          business_type: '+cmd|x',
          address_line1: '-2+3+cmd|x',
          city: '\t=1+1',
          state: '\r=2+2',
        })
        .where('employer_code', '=', 'EVIL')
        .execute();
      const r = await run('corporation_details_export', { outDir: tempDir() });
      const evil = table(r.file!).find((x) => x.EmployerID === 'EVIL')!;
      assert.equal(evil.EmployerName, "'=cmd|' /C calc'!A0");
      assert.equal(evil.DBAName, "'@SUM(1)");
      assert.equal(evil.BusinessType, "'+cmd|x");
      assert.equal(evil.AddressLine1, "'-2+3+cmd|x");
      assert.equal(evil.City, "'\t=1+1");
      assert.equal(evil.State, "'\r=2+2");
      assert.equal(evil.Phone, '+1 555 0100');
      assert.equal(evil.NetAnnualIncome, '-42');
      assert.equal(evil.GrossAnnualIncome, '-3.5');
    });

    test('an import still running holds the next mark back to its start (its rows may not be visible yet)', async () => {
      const runId = await createRun(store.engine.db, {
        firmId: 'acme',
        kind: 'import',
        template: 'company_Details_import',
        fileName: 'company_Details_import_20261125.csv',
        status: 'running',
      });
      const started = await store.engine.db
        .selectFrom('runs')
        .select('started_at')
        .where('id', '=', runId)
        .executeTakeFirstOrThrow();
      await tick();
      await run('corporation_details_export', { scope: { kind: 'delta' }, task: 'held', outDir: tempDir() });
      assert.equal(await mark('held'), started.started_at);
      await finishRun(store.engine.db, runId, { status: 'interrupted', message: 'test' });
      await tick();
      await run('corporation_details_export', { scope: { kind: 'delta' }, task: 'held', outDir: tempDir() });
      assert.ok((await mark('held'))! > started.started_at);
    });
  });
}
