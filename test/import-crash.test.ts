// kill -9 in the middle of a file, then run it again: the end state equals one clean run, no row is
// applied twice, the run resumes after its checkpoint and the rejected rows are reported once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { importFile } from '../src/ingest/index.js';
import { header, rowOf, seedFirm, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir, writeCsv } from './helpers.js';

const people = templateNamed('fn_Details_Data_import');

function fileOf(dir: string): string {
  const rows = [header(people)];
  for (let i = 0; i < 200; i++) {
    rows.push(
      rowOf(people, {
        EmployeeID: `K${i}`,
        JobTitle: `Title ${i}`,
        SSN: i % 40 === 7 ? 'bad' : '123-45-6789',
      }),
    );
  }
  rows.push(rowOf(people, { EmployeeID: 'K5', JobTitle: 'Changed later in the file' }));
  return writeCsv(dir, 'fn_Details_Data_import_20261121.csv', rows);
}

async function snapshot(store: TestStore) {
  const clients = await store.engine.db
    .selectFrom('clients')
    .select(['employee_id', 'job_title', 'ssn'])
    .orderBy('employee_id')
    .execute();
  const audit = await store.engine.db
    .selectFrom('audit')
    .select(['field', 'old_value', 'new_value'])
    .orderBy('id')
    .execute();
  return { clients, audit };
}

for (const kind of ENGINES) {
  describe(`crash and resume on ${kind}`, () => {
    let crashed: TestStore;
    let clean: TestStore;
    before(async () => {
      crashed = await storeWithFirm(kind);
      clean = await storeWithFirm(kind);
      await seedFirm(crashed.engine);
      await seedFirm(clean.engine);
    });
    after(async () => {
      await crashed.cleanup();
      await clean.cleanup();
    });

    test('kill -9 after 3 committed batches, run again: same end state as one clean run', async () => {
      const dir = tempDir();
      const file = fileOf(dir);
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'test/crash-child.ts', crashed.dataDir, crashed.dbUrl ?? '', file, '3'],
        { encoding: 'utf8' },
      );
      assert.equal(child.signal, 'SIGKILL', child.stderr);
      const mid = await crashed.engine.db
        .selectFrom('runs')
        .selectAll()
        .where('status', '=', 'running')
        .execute();
      assert.equal(mid.length, 1, 'the killed run is left running with its checkpoint');
      assert.equal(mid[0].checkpoint_row, 76, '3 batches of 25 rows after the header');

      const resumed = await importFile(crashed.engine, {
        firmId: 'acme',
        file,
        resultDir: dir,
        batchSize: 25,
      });
      assert.equal(resumed.runId, Number(mid[0].id));
      assert.equal(resumed.resumedFromRow, 76);
      const once = await importFile(clean.engine, { firmId: 'acme', file, resultDir: tempDir() });

      assert.equal(resumed.status, 'incomplete');
      assert.deepEqual(resumed.rows, once.rows);
      assert.deepEqual(resumed.rows, { total: 201, created: 195, updated: 1, unchanged: 0, rejected: 5 });
      assert.deepEqual(resumed.errors, once.errors);
      assert.deepEqual(await snapshot(crashed), await snapshot(clean));
      const billed = await crashed.engine.db
        .selectFrom('runs')
        .select('billed_rows')
        .where('id', '=', resumed.runId!)
        .executeTakeFirstOrThrow();
      assert.equal(billed.billed_rows, 201, 'billed once');
    });

    test('an error part-way: Interrupted, and the same file again resumes after the last committed batch', async () => {
      const dir = tempDir();
      const file = fileOf(dir);
      await crashed.engine.db.deleteFrom('audit').execute();
      let batches = 0;
      const failed = await importFile(crashed.engine, {
        firmId: 'acme',
        file,
        resultDir: dir,
        batchSize: 25,
        afterBatch() {
          if (++batches === 2) {
            throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
          }
        },
      });
      assert.equal(failed.status, 'interrupted');
      assert.match(
        failed.message ?? '',
        /stopped after row 51: ENOSPC: no space left on device \(injected\); importing the same file again resumes after row 51/,
      );
      const again = await importFile(crashed.engine, { firmId: 'acme', file, resultDir: dir, batchSize: 25 });
      assert.equal(again.runId, failed.runId);
      assert.equal(again.resumedFromRow, 51);
      assert.equal(again.status, 'incomplete');
      assert.equal(again.rows.total, 201);
    });
  });
}
