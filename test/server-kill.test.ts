// kill -9 of a worker at random moments mid-file, 20 times, on both engines. After a worker is started
// again, every file reaches one final status, each has one run (resumed, never started over), each row
// is billed once, and the store equals a clean run's.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { receiveFile } from '../src/ledger/files.js';
import { openFileStore } from '../src/store/file-store.js';
import { addFirm } from '../src/store/index.js';
import { manyRows, templateNamed } from './fixtures.js';
import { ENGINES, openTestStore, type TestStore, tempDir } from './helpers.js';
import { caseport, type ServerProcess, startProcess, waitFor } from './server-processes.js';

const employers = templateNamed('company_Details_import');
const FIRMS = ['k1', 'k2'];
// Enough work for many kills: each worker is killed shortly after its first committed batch.
const ROWS = 15_000;
const KILLS = 20;

function files(dir: string, firm: string): string[] {
  mkdirSync(dir, { recursive: true });
  return [1, 2, 3].map((n) =>
    manyRows(dir, `company_Details_import_2026112${n}.csv`, employers, ROWS, (i) => ({
      EmployerID: `EMP${i}`,
      EmployerName: `${firm} employer ${i}`,
      NumberOfEmployees: String(n * 100_000 + i),
      // every third file leaves some rows as they were: unchanged rows count too
      City: n === 3 && i % 2 === 0 ? 'Kept' : `City ${n}`,
    })),
  );
}

async function employersOf(s: TestStore, firm: string) {
  const rows = await s.engine.db
    .selectFrom('employers')
    .select(['employer_code', 'employer_name', 'number_of_employees', 'city'])
    .where('firm_id', '=', firm)
    .orderBy('employer_code')
    .execute();
  return rows.map((r) => [r.employer_code, r.employer_name, Number(r.number_of_employees), r.city]);
}

for (const kind of ENGINES) {
  describe(`kill -9 of a worker mid-file (${kind})`, () => {
    let s: TestStore;
    const procs: ServerProcess[] = [];
    after(async () => {
      for (const p of procs) await p.stop('SIGKILL');
      await s?.cleanup();
    });

    test(`${KILLS} kills at random moments, then a clean finish: each file once, the store as a clean run's`, async () => {
      s = await openTestStore(kind);
      const g = ['--data', s.dataDir, ...(s.dbUrl ? ['--db', s.dbUrl] : [])];
      const dir = tempDir();
      const store = openFileStore(s.engine, s.dataDir);
      const byFirm = new Map<string, string[]>();
      for (const firm of FIRMS) {
        await addFirm(s.engine, { id: firm, name: firm });
        byFirm.set(firm, files(path.join(dir, firm), firm));
        for (const f of byFirm.get(firm)!) {
          await receiveFile(s.engine, store, { firmId: firm, name: path.basename(f), localPath: f });
        }
        const tasks = JSON.parse(caseport(g, 'task', 'list', firm, '--json').out);
        assert.equal(caseport(g, 'task', 'run', firm, String(tasks[0].id)).code, 0);
      }
      const env = { CASEPORT_LEASE_TTL_MS: '600', CASEPORT_BATCH_SIZE: '500', CASEPORT_MAX_ATTEMPTS: '1000' };
      const pending = () =>
        s.engine.db
          .selectFrom('files')
          .select('id')
          .where('folder', '=', 'Import')
          .where('status', 'in', ['queued', 'running'])
          .execute();
      // Rows committed so far, over every run: each worker is killed at a random moment shortly after it
      // has committed a batch, so every kill lands mid-work however fast the machine imports.
      const progress = async () =>
        Number(
          (
            await s.engine.db
              .selectFrom('runs')
              .select((e) => e.fn.sum<number>('checkpoint_row').as('n'))
              .executeTakeFirst()
          )?.n ?? 0,
        );
      let kills = 0;
      for (; kills < KILLS && (await pending()).length > 0; kills++) {
        const before = await progress();
        const w = await startProcess(g, ['worker'], env);
        procs.push(w);
        await waitFor(
          'the worker to commit a batch',
          async () => (await progress()) > before || (await pending()).length === 0,
          60_000,
        );
        await new Promise((r) => setTimeout(r, Math.random() * 100));
        await w.stop('SIGKILL');
      }
      const last = await startProcess(g, ['worker'], env);
      procs.push(last);
      await waitFor('every file to finish', async () => (await pending()).length === 0, 180_000);
      assert.equal(await last.stop(), 0);

      const fileRows = await s.engine.db
        .selectFrom('files')
        .selectAll()
        .where('folder', '=', 'Import')
        .execute();
      assert.deepEqual(
        fileRows.map((f) => f.status),
        fileRows.map(() => 'completed'),
      );
      assert.ok(kills >= 5, `the workers were killed mid-work (${kills} kills)`);
      assert.ok(
        fileRows.some((f) => f.attempts > 1),
        'some file was taken over after a kill',
      );
      const runs = await s.engine.db.selectFrom('runs').selectAll().where('kind', '=', 'import').execute();
      assert.equal(runs.length, fileRows.length, 'one run per file, resumed rather than started again');
      for (const r of runs) {
        assert.equal(r.status, 'completed');
        assert.equal(r.rows_total, ROWS);
        assert.equal(r.billed_rows, ROWS, 'each row billed once');
        assert.equal(r.rows_created + r.rows_updated + r.rows_unchanged, ROWS);
      }

      // The clean run: the same files imported by one command on a fresh store.
      const clean = await openTestStore('sqlite');
      try {
        for (const [firm, list] of byFirm) {
          await addFirm(clean.engine, { id: firm, name: firm });
          const r = caseport(['--data', clean.dataDir], 'import', ...list, '--firm', firm);
          assert.equal(r.code, 0, r.err);
          assert.deepEqual(await employersOf(s, firm), await employersOf(clean, firm), `firm ${firm}`);
          const counts = async (t: TestStore) =>
            (
              await t.engine.db
                .selectFrom('runs')
                .select(['rows_created', 'rows_updated', 'rows_unchanged'])
                .where('firm_id', '=', firm)
                .where('kind', '=', 'import')
                .orderBy('file_name')
                .execute()
            ).map((x) => [x.rows_created, x.rows_updated, x.rows_unchanged]);
          assert.deepEqual(await counts(s), await counts(clean), 'the same counts as a clean run');
        }
      } finally {
        await clean.cleanup();
      }
    });
  });

  describe(`SIGTERM of a worker mid-file (${kind})`, () => {
    let s: TestStore;
    const procs: ServerProcess[] = [];
    after(async () => {
      for (const p of procs) await p.stop('SIGKILL');
      await s?.cleanup();
    });

    test('it gives the file back after its current batch and exits 0; the next worker resumes it', async () => {
      s = await openTestStore(kind);
      const g = ['--data', s.dataDir, ...(s.dbUrl ? ['--db', s.dbUrl] : [])];
      await addFirm(s.engine, { id: 't1', name: 't1' });
      const [file] = files(tempDir(), 't1');
      const f = await receiveFile(s.engine, openFileStore(s.engine, s.dataDir), {
        firmId: 't1',
        name: path.basename(file),
        localPath: file,
      });
      const tasks = JSON.parse(caseport(g, 'task', 'list', 't1', '--json').out);
      assert.equal(caseport(g, 'task', 'run', 't1', String(tasks[0].id)).code, 0);
      const env = { CASEPORT_BATCH_SIZE: '100' };
      const checkpoint = async () =>
        Number(
          (
            await s.engine.db
              .selectFrom('runs')
              .select('checkpoint_row')
              .where('file_id', '=', f.id)
              .executeTakeFirst()
          )?.checkpoint_row ?? 0,
        );
      const first = await startProcess(g, ['worker'], env);
      procs.push(first);
      await waitFor('the run to be part-way', async () => (await checkpoint()) > 500, 60_000);
      const started = Date.now();
      assert.equal(await first.stop('SIGTERM'), 0);
      assert.ok(Date.now() - started < 10_000, 'it stopped after its batch, not at the end of the file');
      const row = await s.engine.db
        .selectFrom('files')
        .selectAll()
        .where('id', '=', f.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'queued', 'given back');
      const stoppedAt = await checkpoint();
      assert.ok(stoppedAt < ROWS + 1, 'stopped part-way');

      const second = await startProcess(g, ['worker'], env);
      procs.push(second);
      await waitFor(
        'the file to finish',
        async () =>
          (
            await s.engine.db
              .selectFrom('files')
              .select('status')
              .where('id', '=', f.id)
              .executeTakeFirstOrThrow()
          ).status === 'completed',
        120_000,
      );
      assert.equal(await second.stop(), 0);
      const runs = await s.engine.db.selectFrom('runs').selectAll().where('file_id', '=', f.id).execute();
      assert.equal(runs.length, 1);
      assert.equal(runs[0].rows_total, ROWS);
      assert.equal(runs[0].rows_created, ROWS);
      assert.equal(runs[0].billed_rows, ROWS);
      assert.equal(
        (
          await s.engine.db
            .selectFrom('files')
            .select('attempts')
            .where('id', '=', f.id)
            .executeTakeFirstOrThrow()
        ).attempts,
        1,
        'a stop is not a failed attempt',
      );
    });
  });
}
