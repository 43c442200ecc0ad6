// Imports at the size of a real HR feed, on both engines: files past the batch size (2,000), every bulk
// statement chunk (500 rows on SQLite, 5,000 on PostgreSQL) and the run's parent cache (20,000), and
// values at the edge of what each engine's columns hold.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { importFile } from '../src/ingest/index.js';
import { header, manyRows, rowOf, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir, writeCsv } from './helpers.js';

const companies = templateNamed('company_Details_import');
const people = templateNamed('fn_Details_Data_import');
const passports = templateNamed('fn_Passport_Details_import');

for (const kind of ENGINES) {
  describe(`production size on ${kind}`, () => {
    let store: TestStore;
    const dir = tempDir();
    const run = (file: string, o: { batchSize?: number } = {}) =>
      importFile(store.engine, { firmId: 'acme', file, resultDir: dir, ...o });

    before(async () => {
      store = await storeWithFirm(kind);
      const c = await run(
        writeCsv(dir, 'company_Details_import_20261101.csv', [header(companies), rowOf(companies)]),
      );
      assert.equal(c.status, 'completed', JSON.stringify(c.errors));
    });
    after(() => store.cleanup());

    test('21,000 clients, then 23,000 passports whose last 2,000 name early clients: every row applied', async () => {
      const clients = await run(
        manyRows(dir, 'fn_Details_Data_import_20261102.csv', people, 21_000, (i) => ({
          EmployeeID: `P${i}`,
        })),
      );
      assert.deepEqual(clients.rows, {
        total: 21_000,
        created: 21_000,
        updated: 0,
        unchanged: 0,
        rejected: 0,
      });
      // Rows past the cache limit, naming clients the run met first (cached, then the cache was emptied).
      const file = manyRows(dir, 'fn_Passport_Details_import_20261103.csv', passports, 23_000, (i) => ({
        EmployeeID: `P${i < 21_000 ? i : i - 21_000}`,
        PassportNumber: `N${i}`,
      }));
      const r = await run(file);
      assert.equal(r.problemCount, 0, JSON.stringify(r.errors.slice(0, 3)));
      assert.deepEqual(r.rows, { total: 23_000, created: 23_000, updated: 0, unchanged: 0, rejected: 0 });

      // A full update: every expiration changes, one audit row each, across every statement chunk.
      const update = manyRows(dir, 'fn_Passport_Details_import_20261104.csv', passports, 23_000, (i) => ({
        EmployeeID: `P${i < 21_000 ? i : i - 21_000}`,
        PassportNumber: `N${i}`,
        ExpirationDate: '2031-01-31',
      }));
      const u = await run(update, { batchSize: 7_000 });
      assert.deepEqual(u.rows, { total: 23_000, created: 0, updated: 23_000, unchanged: 0, rejected: 0 });
      const audit = await store.engine.db
        .selectFrom('audit')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('run_id', '=', u.runId)
        .executeTakeFirstOrThrow();
      assert.equal(Number(audit.n), 23_000);
      const late = await store.engine.db
        .selectFrom('passports')
        .innerJoin('clients', 'clients.id', 'passports.client_id')
        .select(['clients.employee_id', 'passports.expiration_date'])
        .where('passports.passport_number', '=', 'N22999')
        .executeTakeFirstOrThrow();
      assert.deepEqual(late, { employee_id: 'P1999', expiration_date: '2031-01-31' });
    });

    test('25,000 rows with a rejected row in every batch: every problem reported, in row order', async () => {
      const file = manyRows(dir, 'fn_Passport_Details_import_20261105.csv', passports, 25_000, (i) => ({
        EmployeeID: `P${i % 21_000}`,
        PassportNumber: `R${i}`,
        ExpirationDate: i % 1_000 === 999 ? '02/30/2030' : '2030-01-01',
      }));
      const seen: number[] = [];
      const r = await importFile(store.engine, {
        firmId: 'acme',
        file,
        resultDir: dir,
        onProblem: (p) => seen.push(p.row),
      });
      assert.equal(r.rows.rejected, 25);
      assert.equal(r.rows.created, 24_975);
      assert.deepEqual(
        seen,
        Array.from({ length: 25 }, (_, k) => 1_000 * k + 1_001),
      );
      assert.equal(r.problemCount, 25);
    });

    test('values at the edge of the columns: 15-digit whole numbers, 100-character keys', async () => {
      const r = await run(
        writeCsv(dir, 'company_Details_import_20261106.csv', [
          header(companies),
          rowOf(companies, { EmployerID: 'BIG', NumberOfEmployees: '3000000000' }),
          rowOf(companies, { EmployerID: 'BIGGEST', NumberOfEmployees: '-999999999999999' }),
          rowOf(companies, { EmployerID: 'TOO-BIG', NumberOfEmployees: '1000000000000000' }),
          rowOf(companies, { EmployerID: 'K'.repeat(100) }),
          rowOf(companies, { EmployerID: 'K'.repeat(101) }),
          rowOf(companies, { EmployerID: 'L'.repeat(10_000) }),
        ]),
      );
      assert.deepEqual(
        r.errors.map((e) => [e.row, e.column]),
        [
          [4, 'NumberOfEmployees'],
          [6, 'EmployerID'],
          [7, 'EmployerID'],
        ],
      );
      assert.match(r.errors[1].message, /at most 100 characters \(this one has 101\)/);
      const stored = await store.engine.db
        .selectFrom('employers')
        .select(['employer_code', 'number_of_employees'])
        .where('employer_code', 'in', ['BIG', 'BIGGEST'])
        .orderBy('employer_code')
        .execute();
      assert.deepEqual(stored, [
        { employer_code: 'BIG', number_of_employees: 3_000_000_000 },
        { employer_code: 'BIGGEST', number_of_employees: -999_999_999_999_999 },
      ]);
    });

    test('a row the database refuses is found and rejected with its reason; the rest of its batch is applied', async () => {
      // A value the checks let through but this store refuses (as an engine limit would): a constraint
      // added for the test, hit by one row in the middle of a 5,000-row batch.
      if (kind === 'postgres') {
        await sql`alter table passports add constraint no_boom check (place_of_issue <> 'BOOM')`.execute(
          store.engine.db,
        );
      } else {
        await sql`create trigger no_boom before insert on passports when new.place_of_issue = 'BOOM'
          begin select raise(abort, 'place of issue BOOM is refused'); end`.execute(store.engine.db);
      }
      const file = manyRows(dir, 'fn_Passport_Details_import_20261107.csv', passports, 5_000, (i) => ({
        EmployeeID: `P${i}`,
        PassportNumber: `B${i}`,
        PlaceOfIssue: i === 3_210 ? 'BOOM' : 'Mumbai',
      }));
      const r = await run(file, { batchSize: 5_000 });
      assert.deepEqual(r.rows, { total: 5_000, created: 4_999, updated: 0, unchanged: 0, rejected: 1 });
      assert.equal(r.errors[0].row, 3_212);
      assert.match(r.errors[0].message, /the database refused this row: .*(no_boom|BOOM)/);
      const again = await run(file, { batchSize: 5_000 });
      assert.equal(again.rows.unchanged, 4_999, 'a second run is not blocked by the row either');
    });
  });
}
