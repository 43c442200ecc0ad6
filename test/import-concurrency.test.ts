// Several imports at once, as a scheduler and an operator (or two schedulers) would start them: separate
// processes on one store, on both engines. Any two imports end as if run one after the other: nothing
// is locked out, no change goes unaudited, no record is counted as created twice, and a second process
// never takes over a run that is still alive.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importFile } from '../src/ingest/index.js';
import { addFirm } from '../src/store/index.js';
import { manyRows, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir } from './helpers.js';

const BIN = path.resolve('bin/caseport.js');
const companies = templateNamed('company_Details_import');
const people = templateNamed('fn_Details_Data_import');
const passports = templateNamed('fn_Passport_Details_import');
const CLIENTS = 20_000;

interface Done {
  code: number | null;
  out: string;
  err: string;
}

/** `caseport import` in its own process, as a user or a scheduler starts it. */
function importing(store: TestStore, firm: string, file: string): Promise<Done> {
  const args = [BIN, '--data', store.dataDir, ...(store.dbUrl ? ['--db', store.dbUrl] : [])];
  const child = spawn(process.execPath, [...args, 'import', file, '--firm', firm, '--json'], {
    env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

for (const kind of ENGINES) {
  describe(`imports at once on ${kind}`, () => {
    let store: TestStore;
    const dir = tempDir();

    before(async () => {
      store = await storeWithFirm(kind);
      await addFirm(store.engine, { id: 'beta', name: 'Beta' });
      const run = (firmId: string, file: string) =>
        importFile(store.engine, { firmId, file, resultDir: dir });
      for (const firm of ['acme', 'beta']) {
        const c = await run(
          firm,
          manyRows(dir, `company_Details_import_20261101.csv`, companies, 1, () => ({})),
        );
        assert.equal(c.status, 'completed');
      }
      const p = await run(
        'acme',
        manyRows(dir, 'fn_Details_Data_import_20261102.csv', people, CLIENTS, (i) => ({
          EmployeeID: `C${i}`,
        })),
      );
      assert.equal(p.rows.created, CLIENTS);
    });
    after(() => store.cleanup());

    test('two files with the same keys at once, and another firm meanwhile: as if one ran after the other', async () => {
      const a = manyRows(dir, 'fn_Passport_Details_import_20261110.csv', passports, CLIENTS, (i) => ({
        EmployeeID: `C${i}`,
        ExpirationDate: '2030-01-01',
      }));
      const b = manyRows(dir, 'fn_Passport_Details_import_20261111.csv', passports, CLIENTS, (i) => ({
        EmployeeID: `C${i}`,
        ExpirationDate: '2031-12-31',
      }));
      const other = manyRows(dir, 'fn_Details_Data_import_20261112.csv', people, 5_000, (i) => ({
        EmployeeID: `B${i}`,
      }));
      const done = await Promise.all([
        importing(store, 'acme', a),
        importing(store, 'acme', b),
        importing(store, 'beta', other),
      ]);
      for (const d of done) {
        assert.equal(d.code, 0, d.err);
        assert.doesNotMatch(d.err, /locked|busy/i);
      }
      const [ra, rb, rother] = done.map((d) => JSON.parse(d.out));
      assert.deepEqual(rother.rows, { total: 5_000, created: 5_000, updated: 0, unchanged: 0, rejected: 0 });
      // One created every passport, the other updated every one: never both creating.
      const [first, second] = ra.runId < rb.runId ? [ra, rb] : [rb, ra];
      assert.deepEqual(first.rows, {
        total: CLIENTS,
        created: CLIENTS,
        updated: 0,
        unchanged: 0,
        rejected: 0,
      });
      assert.deepEqual(second.rows, {
        total: CLIENTS,
        created: 0,
        updated: CLIENTS,
        unchanged: 0,
        rejected: 0,
      });
      const audit = await store.engine.db
        .selectFrom('audit')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('table_name', '=', 'passports')
        .executeTakeFirstOrThrow();
      assert.equal(Number(audit.n), CLIENTS, 'every change audited once');
      const dates = await store.engine.db
        .selectFrom('passports')
        .select('expiration_date')
        .distinct()
        .execute();
      const last = second === ra ? '2030-01-01' : '2031-12-31';
      assert.deepEqual(dates, [{ expiration_date: last }], 'the end state is the later run');
    });

    test('the same file twice at once: one applies it, the other is a repeat; neither takes over the live run', async () => {
      const file = manyRows(dir, 'fn_Passport_Details_import_20261113.csv', passports, 5_000, (i) => ({
        EmployeeID: `C${i}`,
        PassportNumber: `S${i}`,
      }));
      const done = await Promise.all([importing(store, 'acme', file), importing(store, 'acme', file)]);
      for (const d of done) assert.equal(d.code, 0, d.err);
      const results = done.map((d) => JSON.parse(d.out)).sort((x, y) => x.runId - y.runId);
      assert.notEqual(results[0].runId, results[1].runId);
      assert.equal(results[0].rows.created, 5_000);
      assert.equal(results[1].rows.unchanged, 5_000);
      assert.equal(results[1].repeatOf, results[0].runId);
      assert.equal(results[1].resumedFromRow, null);
    });
  });
}
