// The ledger as a queue, on both engines: files received wait for their firm's due import (or go at
// once with an on-arrival task), are applied one at a time in template order, end in one final status
// with their result file stored; a worker that dies is taken over from its checkpoint; a file that keeps
// failing stops Interrupted; two schedulers make a due job once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { importFile } from '../src/ingest/index.js';
import { claimFile, listFolder, receiveFile } from '../src/ledger/files.js';
import { importLeaseName, tryLease } from '../src/ledger/leases.js';
import { purgeBefore, retentionCutoff } from '../src/ledger/retention.js';
import { fileReports } from '../src/ledger/views.js';
import { createDueJobs } from '../src/schedule/due.js';
import { addTask } from '../src/schedule/tasks.js';
import { openFileStore } from '../src/store/file-store.js';
import { Worker } from '../src/worker/worker.js';
import { header, manyRows, rowOf, templateNamed } from './fixtures.js';
import { ENGINES, readAll, storeWithFirm, type TestStore, tempDir, writeCsv } from './helpers.js';

const log = pino({ level: 'silent' });
const employers = templateNamed('company_Details_import');
const clients = templateNamed('fn_Details_Data_import');

for (const kind of ENGINES) {
  describe(`ledger queue (${kind})`, () => {
    let s: TestStore;
    let dir: string;
    before(async () => {
      s = await storeWithFirm(kind);
      dir = tempDir();
    });
    after(() => s.cleanup());

    const worker = () =>
      new Worker({
        ctx: { engine: s.engine, store: openFileStore(s.engine, s.dataDir), dataDir: s.dataDir },
        log,
      });
    const fileRow = (id: number) =>
      s.engine.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const receive = (name: string, rows: string[][], t = employers) =>
      receiveFile(s.engine, openFileStore(s.engine, s.dataDir), {
        firmId: 'acme',
        name,
        localPath: writeCsv(dir, name, [header(t), ...rows]),
      });

    test('received files wait for the due import, then run in template order', async () => {
      // The clients file arrives first but needs the employer the employers file creates.
      const c = await receive(
        'fn_Details_Data_import_20261120.csv',
        [rowOf(clients, { EmployerID: 'NEWCO' })],
        clients,
      );
      const e = await receive('company_Details_import_20261120.csv', [
        rowOf(employers, { EmployerID: 'NEWCO' }),
      ]);
      assert.equal(c.status, 'received');
      const listed = await listFolder(s.engine, 'acme', 'Import');
      assert.deepEqual(listed.map((f) => f.name).sort(), [c.name, e.name].sort());
      await worker().drain();
      const rows = await s.engine.db
        .selectFrom('files')
        .select('status')
        .where('id', 'in', [c.id, e.id])
        .execute();
      assert.deepEqual(
        rows.map((r) => r.status),
        ['received', 'received'],
        'nothing runs before the task is due',
      );

      // The default task: 02:00 America/Los_Angeles. Due at 10:00Z on 2026-12-01 (PST).
      const made = (await createDueJobs(s.engine, new Date('2026-12-01T10:00:30Z'))).filter(
        (j) => j.kind === 'import',
      );
      assert.equal(made.length, 1);
      assert.equal(made[0].files, 2);
      await worker().drain();
      const ran = await s.engine.db
        .selectFrom('files')
        .select(['id', 'status', 'run_id'])
        .where('id', 'in', [c.id, e.id])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        ran.map((r) => r.status),
        ['completed', 'completed'],
      );
      assert.ok(ran[1].run_id! < ran[0].run_id!, 'the employers file ran first');
      assert.equal((await listFolder(s.engine, 'acme', 'Import')).length, 0);
      const job = await s.engine.db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', made[0].jobId)
        .executeTakeFirstOrThrow();
      assert.equal(job.status, 'done');
      assert.ok(job.started_at && job.finished_at);
    });

    test('on arrival: queued at once; rejected rows give a result file in Results', async () => {
      await addTask(s.engine, 'acme', { kind: 'import', onArrival: true });
      const f = await receive('company_Details_import_20261121.csv', [
        rowOf(employers, { EmployerID: 'OK1' }),
        rowOf(employers, { EmployerID: 'BAD1', FEIN: 'not-a-fein' }),
      ]);
      assert.equal(f.status, 'queued');
      await worker().drain();
      const done = await s.engine.db
        .selectFrom('files')
        .selectAll()
        .where('id', '=', f.id)
        .executeTakeFirstOrThrow();
      assert.equal(done.status, 'incomplete');
      const results = await listFolder(s.engine, 'acme', 'Results');
      assert.deepEqual(
        results.map((r) => r.name),
        ['company_Details_import_20261121_result.csv'],
      );
      const text = (await readAll(openFileStore(s.engine, s.dataDir).read(results[0].content_key!))).toString(
        'utf8',
      );
      assert.match(text, /BAD1/);
      assert.doesNotMatch(text, /OK1/);
    });

    test('an unrecognised name ends Interrupted, with its reason in Results', async () => {
      const f = await receive('payroll.csv', [rowOf(employers)]);
      await worker().drain();
      const done = await s.engine.db
        .selectFrom('files')
        .selectAll()
        .where('id', '=', f.id)
        .executeTakeFirstOrThrow();
      assert.equal(done.status, 'interrupted');
      assert.match(done.message ?? '', /template/);
      const results = await listFolder(s.engine, 'acme', 'Results');
      assert.ok(results.some((r) => r.name === 'payroll_result.csv'));
    });

    test('a worker that dies mid-file is taken over, resuming from its checkpoint with no second effect', async () => {
      const store = openFileStore(s.engine, s.dataDir);
      const name = 'company_Details_import_20261122.csv';
      const file = manyRows(dir, name, employers, 5000, (i) => ({ EmployerID: `K${i}` }));
      const f = await receiveFile(s.engine, store, { firmId: 'acme', name, localPath: file });
      // A worker claims it and dies after two batches: its run stops part-way, the file stays running.
      const lease = (await tryLease(s.engine, importLeaseName('acme')))!;
      const claimed = (await claimFile(s.engine, 'acme', lease))!;
      assert.equal(claimed.id, f.id);
      const local = path.join(dir, 'copy.csv');
      await store.copyTo(claimed.content_key!, local);
      await assert.rejects(
        importFile(s.engine, {
          firmId: 'acme',
          file: local,
          fileName: name,
          fileId: f.id,
          resultDir: dir,
          lease,
          batchSize: 1000,
          afterBatch: (n) => {
            if (n >= 2000) throw new Error('killed');
          },
        }),
      );
      await lease.release(); // its lease is gone (expired)
      assert.equal((await fileRow(f.id)).status, 'running');
      await worker().drain();
      const done = await fileRow(f.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.attempts, 2);
      const runs = await s.engine.db.selectFrom('runs').selectAll().where('file_id', '=', f.id).execute();
      assert.equal(runs.length, 1, 'one run, resumed');
      assert.equal(runs[0].rows_total, 5000);
      assert.equal(runs[0].rows_created, 5000);
    });

    test('the same content sent again resumes the run of a file stopped part-way; the earlier file leaves need-attention', async () => {
      const store = openFileStore(s.engine, s.dataDir);
      const name = 'company_Details_import_20261127.csv';
      const local = manyRows(dir, name, employers, 3000, (i) => ({ EmployerID: `RS${i}` }));
      await s.engine.db.updateTable('tasks').set({ paused: 1 }).where('on_arrival', '=', 1).execute();
      try {
        const a = await receiveFile(s.engine, store, { firmId: 'acme', name, localPath: local });
        await s.engine.db.updateTable('files').set({ status: 'queued' }).where('id', '=', a.id).execute();
        const lease = (await tryLease(s.engine, importLeaseName('acme')))!;
        const claimed = (await claimFile(s.engine, 'acme', lease))!;
        assert.equal(claimed.id, a.id);
        // Stopped part-way (Ctrl-C on the command line ends it Interrupted, resumable).
        const { runImportStage } = await import('../src/worker/import-stage.js');
        const stop = new AbortController();
        const out = await runImportStage(
          {
            engine: s.engine,
            store,
            dataDir: s.dataDir,
            batchSize: 500,
            signal: stop.signal,
            cli: { resultDir: dir },
            afterBatch: (_f, rows) => {
              if (rows >= 1000) stop.abort();
            },
          },
          claimed,
          lease,
        );
        await lease.release();
        assert.equal(out.kind, 'final');
        assert.equal((await fileRow(a.id)).status, 'interrupted');
        const b = await receiveFile(s.engine, store, { firmId: 'acme', name, localPath: local });
        await s.engine.db.updateTable('files').set({ status: 'queued' }).where('id', '=', b.id).execute();
        await worker().drain();
        assert.equal((await fileRow(b.id)).status, 'completed');
        assert.equal((await fileRow(a.id)).status, 'superseded');
        assert.equal((await fileRow(b.id)).run_id, (await fileRow(a.id)).run_id, 'one run, resumed');
        const attention = await fileReports(s.engine, 'acme', 'need-attention');
        assert.ok(!attention.some((r) => r.fileId === a.id || r.fileId === b.id));
      } finally {
        await s.engine.db.updateTable('tasks').set({ paused: 0 }).where('on_arrival', '=', 1).execute();
      }
    });

    test('a file that keeps failing stops Interrupted after its attempts, with the reason', async () => {
      process.env.CASEPORT_MAX_ATTEMPTS = '2';
      try {
        const store = openFileStore(s.engine, s.dataDir);
        const f = await receive('company_Details_import_20261123.csv', [
          rowOf(employers, { EmployerID: 'R1' }),
        ]);
        // Its content is gone from the store: every attempt fails to read it.
        await store.remove(s.engine.db, [f.content_key!]);
        await worker().drain();
        let row = await fileRow(f.id);
        assert.equal(row.status, 'queued', 'queued again after a back-off');
        assert.match(row.message ?? '', /attempt 1 failed: the file could not be read/);
        await s.engine.db.updateTable('files').set({ not_before: null }).where('id', '=', f.id).execute();
        await worker().drain();
        row = await fileRow(f.id);
        assert.equal(row.status, 'interrupted');
        assert.match(row.message ?? '', /stopped after 2 attempts/);
      } finally {
        delete process.env.CASEPORT_MAX_ATTEMPTS;
      }
    });

    test('the daily purge: run details and stored files older than 90 days go, waiting files and records stay', async () => {
      const store = openFileStore(s.engine, s.dataDir);
      const old = await receive('company_Details_import_20260101.csv', [
        rowOf(employers, { EmployerID: 'OLD1' }),
      ]);
      const waiting = await receive('company_Details_import_20260102.csv', [
        rowOf(employers, { EmployerID: 'OLD2' }),
      ]);
      await worker().drain(); // the on-arrival task of an earlier test runs both
      const ran = await fileRow(old.id);
      assert.equal(ran.status, 'completed');
      const longAgo = '2026-01-01T00:00:00.000Z';
      await s.engine.db.updateTable('files').set({ received_at: longAgo }).where('id', '=', old.id).execute();
      await s.engine.db
        .updateTable('runs')
        .set({ started_at: longAgo })
        .where('id', '=', ran.run_id!)
        .execute();
      // one that is still waiting is never purged, however old
      await s.engine.db
        .updateTable('files')
        .set({ status: 'received', received_at: longAgo })
        .where('id', '=', waiting.id)
        .execute();
      const purged = await purgeBefore(s.engine, store, retentionCutoff(new Date('2026-06-01T00:00:00Z')));
      assert.ok(purged.files >= 1 && purged.runs >= 1);
      assert.equal(
        await s.engine.db.selectFrom('files').select('id').where('id', '=', old.id).executeTakeFirst(),
        undefined,
      );
      assert.equal(
        await s.engine.db.selectFrom('runs').select('id').where('id', '=', ran.run_id!).executeTakeFirst(),
        undefined,
      );
      await assert.rejects(readAll(store.read(old.content_key!)), 'its stored content is gone');
      assert.ok(await fileRow(waiting.id));
      const rec = await s.engine.db
        .selectFrom('employers')
        .select('id')
        .where('employer_code', '=', 'OLD1')
        .executeTakeFirst();
      assert.ok(rec, 'records are the firm data: kept');
    });

    test('the same name uploaded on several nodes at the same moment: one waits, the others are superseded', async () => {
      const name = 'company_Details_import_20261125.csv';
      const engines = [s.engine, ...(await Promise.all([1, 2, 3, 4].map(() => s.reopen())))];
      await s.engine.db.updateTable('tasks').set({ paused: 1 }).where('on_arrival', '=', 1).execute();
      try {
        const local = writeCsv(dir, name, [header(employers), rowOf(employers, { EmployerID: 'SAME' })]);
        await Promise.all(
          engines.flatMap((e) =>
            [1, 2].map(() =>
              receiveFile(e, openFileStore(e, s.dataDir), { firmId: 'acme', name, localPath: local }),
            ),
          ),
        );
        const rows = await s.engine.db
          .selectFrom('files')
          .select('status')
          .where('name', '=', name)
          .execute();
        assert.equal(rows.length, 10);
        assert.deepEqual(
          rows.map((r) => r.status).filter((x) => x !== 'superseded'),
          ['received'],
        );
      } finally {
        await s.engine.db.updateTable('tasks').set({ paused: 0 }).where('on_arrival', '=', 1).execute();
        await s.engine.db
          .updateTable('files')
          .set({ status: 'superseded' })
          .where('name', '=', name)
          .execute();
      }
    });

    test('a full or failing disk on the worker is an outage: the file is tried again, not finished Interrupted', async () => {
      const store = openFileStore(s.engine, s.dataDir);
      const data = tempDir();
      // The worker's spool cannot be made: a file stands where its folder would be.
      writeFileSync(path.join(data, 'spool'), 'not a folder');
      const f = await receive('company_Details_import_20261126.csv', [
        rowOf(employers, { EmployerID: 'DISK1' }),
      ]);
      const w = new Worker({ ctx: { engine: s.engine, store, dataDir: data }, log });
      await w.drain();
      let row = await fileRow(f.id);
      assert.equal(row.status, 'queued');
      assert.match(row.message ?? '', /attempt 1 failed: .*spool/);
      rmSync(path.join(data, 'spool'));
      await s.engine.db.updateTable('files').set({ not_before: null }).where('id', '=', f.id).execute();
      await w.drain();
      row = await fileRow(f.id);
      assert.equal(row.status, 'completed');
      const runs = await s.engine.db.selectFrom('runs').selectAll().where('file_id', '=', f.id).execute();
      assert.equal(runs.length, 1, "the failed attempt's run is not the file's outcome");
      assert.equal(runs[0].status, 'completed');
    });

    test('the file store: content read whole and at any offset, across its 1 MiB rows', async () => {
      const store = openFileStore(s.engine, s.dataDir);
      const bytes = randomBytes(2 * 1024 * 1024 + 12345);
      const local = path.join(dir, 'random.bin');
      writeFileSync(local, bytes);
      const c = await s.engine.db.transaction().execute((trx) => store.put(trx, local));
      assert.equal(c.size, bytes.length);
      assert.deepEqual(Buffer.from(await readAll(store.read(c.key))), bytes);
      const r = await store.openAt(c.key, c.size);
      try {
        for (const [at, len] of [
          [0, 10],
          [1024 * 1024 - 5, 10],
          [2 * 1024 * 1024 - 1, 65536],
          [bytes.length - 3, 100],
          [bytes.length, 10],
        ]) {
          assert.deepEqual(
            await r.readAt(at, len),
            bytes.subarray(at, Math.min(bytes.length, at + len)),
            `at ${at}`,
          );
        }
      } finally {
        await r.close();
      }
      const empty = path.join(dir, 'empty.bin');
      writeFileSync(empty, '');
      const e = await s.engine.db.transaction().execute((trx) => store.put(trx, empty));
      assert.equal((await readAll(store.read(e.key))).length, 0, 'an empty file reads back empty');
    });

    test('two schedulers racing make each due job once; after downtime a missed run happens once', async () => {
      const a = s.engine;
      const b = await s.reopen();
      const at = new Date('2026-12-02T10:00:05Z');
      const imports = (js: Awaited<ReturnType<typeof createDueJobs>>) =>
        js.filter((j) => j.kind === 'import');
      const [x, y] = (await Promise.all([createDueJobs(a, at), createDueJobs(b, at)])).map(imports);
      assert.equal(x.length + y.length, 1);
      // Down for three days: one job for the latest due time, not three.
      const later = imports(await createDueJobs(a, new Date('2026-12-05T11:00:00Z')));
      assert.equal(later.length, 1);
      assert.equal(later[0].dueAt, '2026-12-05T10:00:00.000Z');
      assert.equal((await createDueJobs(b, new Date('2026-12-05T11:00:00Z'))).length, 0);
      const jobs = await a.db
        .selectFrom('jobs')
        .select('due_at')
        .where('kind', '=', 'import')
        .where('trigger', '=', 'schedule')
        .execute();
      assert.equal(new Set(jobs.map((j) => j.due_at)).size, jobs.length, 'one job per due time');
    });
  });
}
