// What happens around a run when things fail: the database fails mid-batch, a connection is killed, a
// process loses its lease, several processes wait for a firm, a new store is opened by several at once,
// leftovers of killed processes, Ctrl-C. Each as the second review found it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { importFile } from '../src/ingest/index.js';
import { acquireLease, importLeaseName } from '../src/ledger/leases.js';
import { firmFolders, spoolFolder } from '../src/paths.js';
import { addFirm, openStore, updateFirm } from '../src/store/index.js';
import { manyRows, templateNamed } from './fixtures.js';
import { ENGINES, PG_ADMIN_URL, storeWithFirm, type TestStore, tempDir } from './helpers.js';

const companies = templateNamed('company_Details_import');
const people = templateNamed('fn_Details_Data_import');
const passports = templateNamed('fn_Passport_Details_import');
const BIN = path.resolve('bin/caseport.js');

async function withClients(store: TestStore, n: number) {
  const dir = tempDir();
  await importFile(store.engine, {
    firmId: 'acme',
    file: manyRows(dir, 'company_Details_import_20261101.csv', companies, 1, () => ({})),
    resultDir: dir,
  });
  const r = await importFile(store.engine, {
    firmId: 'acme',
    file: manyRows(dir, 'fn_Details_Data_import_20261102.csv', people, n, (i) => ({ EmployeeID: `C${i}` })),
    resultDir: dir,
  });
  assert.equal(r.rows.created, n);
}

async function runOf(store: TestStore, id: number | null) {
  return store.engine.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

for (const kind of ENGINES) {
  describe(`failures around a run on ${kind}`, () => {
    let store: TestStore;
    before(async () => {
      store = await storeWithFirm(kind);
      await withClients(store, 5_000);
    });
    after(() => store.cleanup());

    test('a process that lost its lease commits nothing more, finishes nothing, and starts no other file', async () => {
      const dir = tempDir();
      const file = manyRows(dir, 'fn_Passport_Details_import_20261110.csv', passports, 3_000, (i) => ({
        EmployeeID: `C${i}`,
        PassportNumber: `L${i}`,
        ExpirationDate: i === 2_500 ? 'never' : '2030-01-01',
      }));
      const steal = () =>
        store.engine.db
          .updateTable('leases')
          .set({ owner: 'another process', expires_at: Date.now() + 3_600_000 })
          .where('name', '=', importLeaseName('acme'))
          .execute();
      // Taken over after the first batch: the second batch is not committed.
      await assert.rejects(
        importFile(store.engine, { firmId: 'acme', file, resultDir: dir, afterBatch: () => void steal() }),
        (e: Error & { code?: string }) => e.code === 'LEASE_LOST',
      );
      const mid = await store.engine.db
        .selectFrom('runs')
        .selectAll()
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [mid.status, mid.checkpoint_row, mid.rows_total, mid.billed_rows],
        ['running', 2001, 2000, 2000],
      );
      await store.engine.db.deleteFrom('leases').execute();
      // Taken over after the last batch: no result file, the run is not finished from here.
      let batches = 0;
      await assert.rejects(
        importFile(store.engine, {
          firmId: 'acme',
          file,
          resultDir: dir,
          afterBatch: () => {
            if (++batches === 1) void steal();
          },
        }),
        (e: Error & { code?: string }) => e.code === 'LEASE_LOST',
      );
      assert.equal((await runOf(store, Number(mid.id))).status, 'running');
      assert.equal(existsSync(path.join(dir, 'fn_Passport_Details_import_20261110_result.csv')), false);
      // Once the lease is free again, the same file resumes and ends as one clean run.
      await store.engine.db.deleteFrom('leases').execute();
      const done = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
      assert.equal(done.runId, Number(mid.id));
      assert.deepEqual(done.rows, { total: 3_000, created: 2_999, updated: 0, unchanged: 0, rejected: 1 });
      assert.equal((await runOf(store, done.runId)).billed_rows, 3_000);
      // A lease known lost is not used for another file.
      const lease = await acquireLease(store.engine, importLeaseName('acme'));
      await steal();
      await assert.rejects(lease.confirm(store.engine.db), /lost its lease/);
      await assert.rejects(
        importFile(store.engine, { firmId: 'acme', file, resultDir: dir, lease }),
        /lost its lease/,
      );
      await store.engine.db.deleteFrom('leases').execute();
    });

    test('processes waiting for a firm are served in the order they came', async () => {
      const holder = await acquireLease(store.engine, 'order-test');
      const served: string[] = [];
      const wait = (who: string) =>
        acquireLease(store.engine, 'order-test').then(async (l) => {
          served.push(who);
          await new Promise((r) => setTimeout(r, 20));
          await l.release();
        });
      const waiting: Promise<void>[] = [];
      for (const who of ['first', 'second', 'third', 'fourth']) {
        waiting.push(wait(who));
        await new Promise((r) => setTimeout(r, 60));
      }
      await holder.release();
      await Promise.all(waiting);
      assert.deepEqual(served, ['first', 'second', 'third', 'fourth']);
    });

    test('a waiter whose place lapsed (it stalled) takes it back; waiters go by when their process started', async () => {
      const holder = await acquireLease(store.engine, 'lapse-test');
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.name);
      process.on('warning', onWarning);
      try {
        const stop = new AbortController();
        const served: string[] = [];
        const wait = (who: string, arrivedAt: number) =>
          acquireLease(store.engine, 'lapse-test', { arrivedAt, signal: stop.signal }).then(async (l) => {
            served.push(who);
            await l.release();
          });
        const t = Date.now();
        const late = wait('started third', t + 3);
        await new Promise((r) => setTimeout(r, 100));
        const early = wait('started first', t + 1);
        await new Promise((r) => setTimeout(r, 100));
        const middle = wait('started second', t + 2);
        await new Promise((r) => setTimeout(r, 100));
        // Another process's clean-up removed the first waiter's place while it was stalled.
        await store.engine.db
          .deleteFrom('lease_waiters')
          .where('arrived_at', '=', t + 1)
          .execute();
        await new Promise((r) => setTimeout(r, 1_500)); // long enough for many polls
        await holder.release();
        await Promise.all([late, early, middle]);
        assert.deepEqual(served, ['started first', 'started second', 'started third']);
      } finally {
        process.off('warning', onWarning);
      }
      assert.deepEqual(warnings, [], 'no listener piles up while waiting');
    });

    test('an expired lease whose holder renews within the grace period is not taken over', async () => {
      const holder = await acquireLease(store.engine, 'grace-test', { ttlMs: 2_000 });
      // The holder could not renew for a while (another process held the store's write lock).
      await store.engine.db
        .updateTable('leases')
        .set({ expires_at: Date.now() - 10 })
        .where('name', '=', 'grace-test')
        .execute();
      let got = false;
      const waiter = acquireLease(store.engine, 'grace-test', { ttlMs: 2_000 }).then((l) => {
        got = true;
        return l;
      });
      await new Promise((r) => setTimeout(r, 300));
      await holder.confirm(store.engine.db); // the holder gets the lock back and renews: still its lease
      await new Promise((r) => setTimeout(r, 1_200));
      assert.equal(got, false, 'the waiter did not take a lease its holder renewed');
      await holder.release();
      await (await waiter).release();
      assert.equal(got, true);
    });

    test('a process that loses its lease while it takes the snapshot reports the lease, not an internal error', async () => {
      const dir = tempDir();
      const file = manyRows(dir, 'fn_Passport_Details_import_20261115.csv', passports, 10, (i) => ({
        EmployeeID: `C${i}`,
        PassportNumber: `SN${i}`,
      }));
      await assert.rejects(
        importFile(store.engine, {
          firmId: 'acme',
          file,
          resultDir: dir,
          afterSnapshot: (snapshot) => {
            // Another process takes the firm over and sweeps the spool.
            void store.engine.db
              .updateTable('leases')
              .set({ owner: 'another process', expires_at: Date.now() + 3_600_000 })
              .where('name', '=', importLeaseName('acme'))
              .execute();
            rmSync(snapshot);
          },
        }),
        (e: Error & { code?: string }) => e.code === 'LEASE_LOST',
      );
      await store.engine.db.deleteFrom('leases').execute();
    });

    test('a dry run of a file stopped part-way checks the allowance as its resume would', async () => {
      const dir = tempDir();
      const file = manyRows(dir, 'fn_Passport_Details_import_20261116.csv', passports, 5_000, (i) => ({
        EmployeeID: `C${i}`,
        PassportNumber: `DR${i}`,
      }));
      const stopped = await importFile(store.engine, {
        firmId: 'acme',
        file,
        resultDir: dir,
        afterBatch: () => {
          throw Object.assign(new Error('EIO: i/o error (injected)'), { code: 'EIO' });
        },
      });
      assert.equal(stopped.status, 'interrupted');
      const used = await store.engine.db
        .selectFrom('runs')
        .select((eb) => eb.fn.sum<number>('billed_rows').as('n'))
        .where('firm_id', '=', 'acme')
        .executeTakeFirstOrThrow();
      await updateFirm(store.engine, 'acme', { recordLimit: Number(used.n) + 3_000 });
      try {
        const dry = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir, dryRun: true });
        assert.equal(dry.status, 'completed', dry.message ?? '');
        assert.equal(dry.resumedFromRow, 2_001);
        const real = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
        assert.equal(real.status, 'completed', real.message ?? '');
        assert.deepEqual(dry.rows, real.rows);
      } finally {
        await updateFirm(store.engine, 'acme', { recordLimit: null });
      }
    });

    test('leftovers of killed processes (spool copies, temporary result files) go at the next import', async () => {
      const dataDir = tempDir();
      const spool = path.join(spoolFolder(dataDir), 'acme');
      const results = firmFolders(dataDir, 'acme').results;
      mkdirSync(spool, { recursive: true });
      mkdirSync(results, { recursive: true });
      writeFileSync(path.join(spool, '12345-abcdef.snapshot'), 'EmployerID,...\nsomeone,s PII\n');
      writeFileSync(path.join(results, '.result-0123456789ab.tmp'), 'half a result file');
      // A clean file: nothing of its own goes to Results, the leftovers go all the same.
      const file = manyRows(tempDir(), 'fn_Passport_Details_import_20261111.csv', passports, 2, (i) => ({
        EmployeeID: `C${i}`,
        PassportNumber: `LO${i}`,
      }));
      const r = await importFile(store.engine, {
        firmId: 'acme',
        file,
        resultDir: results,
        spoolDir: spoolFolder(dataDir),
      });
      assert.equal(r.status, 'completed');
      assert.equal(existsSync(path.join(spool, '12345-abcdef.snapshot')), false);
      assert.equal(existsSync(path.join(results, '.result-0123456789ab.tmp')), false);
    });
  });
}

describe('failures of the database mid-file (PostgreSQL)', () => {
  let store: TestStore;
  before(async () => {
    store = await storeWithFirm('postgres');
    await withClients(store, 5_000);
  });
  after(() => store.cleanup());

  test('a batch the database fails is neither counted nor billed; the resume ends as one clean run', async () => {
    // The database cancels the second batch (as an operator's pg_cancel_backend would).
    await sql`create function cancel_once() returns trigger language plpgsql as $$
      begin if new.place_of_issue = 'CANCEL' then raise exception 'canceling statement due to user request'
      using errcode = '57014'; end if; return new; end $$`.execute(store.engine.db);
    await sql`create trigger cancel_once before insert on passports for each row execute function cancel_once()`.execute(
      store.engine.db,
    );
    const dir = tempDir();
    const file = manyRows(dir, 'fn_Passport_Details_import_20261112.csv', passports, 5_000, (i) => ({
      EmployeeID: `C${i}`,
      PassportNumber: `X${i}`,
      PlaceOfIssue: i === 2_500 ? 'CANCEL' : 'Mumbai',
    }));
    const stopped = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
    assert.equal(stopped.status, 'interrupted');
    assert.match(stopped.message ?? '', /stopped after row 2001: canceling statement/);
    assert.deepEqual(stopped.rows, { total: 2_000, created: 2_000, updated: 0, unchanged: 0, rejected: 0 });
    const mid = await runOf(store, stopped.runId);
    assert.deepEqual([mid.rows_total, mid.billed_rows, mid.checkpoint_row], [2_000, 2_000, 2_001]);
    await sql`drop trigger cancel_once on passports`.execute(store.engine.db);
    const resumed = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
    assert.equal(resumed.runId, stopped.runId);
    assert.deepEqual(resumed.rows, { total: 5_000, created: 5_000, updated: 0, unchanged: 0, rejected: 0 });
    assert.equal((await runOf(store, resumed.runId)).billed_rows, 5_000);
  });

  test('a connection killed in the middle of a batch: Interrupted and resumable, never a crash', async () => {
    await sql`create function slow_row() returns trigger language plpgsql as $$
      begin if new.place_of_issue = 'SLOW' then perform pg_sleep(1); end if; return new; end $$`.execute(
      store.engine.db,
    );
    await sql`create trigger slow_row before insert on passports for each row execute function slow_row()`.execute(
      store.engine.db,
    );
    const dir = tempDir();
    const file = manyRows(dir, 'fn_Passport_Details_import_20261113.csv', passports, 5_000, (i) => ({
      EmployeeID: `C${i}`,
      PassportNumber: `K${i}`,
      PlaceOfIssue: i === 2_500 ? 'SLOW' : 'Mumbai',
    }));
    const db = new URL(store.dbUrl!).pathname.slice(1);
    let killed = false;
    const stopped = await importFile(store.engine, {
      firmId: 'acme',
      file,
      resultDir: dir,
      afterBatch: () => {
        if (killed) return;
        killed = true;
        setTimeout(async () => {
          const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
          await admin.connect();
          await admin.query(
            `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and state = 'active' and pid <> pg_backend_pid()`,
            [db],
          );
          await admin.end();
        }, 300);
      },
    });
    assert.equal(stopped.status, 'interrupted');
    // The server's "terminating connection", or the socket's reset when a COPY was being sent.
    assert.match(stopped.message ?? '', /stopped after row 2001: .*(terminat|ECONNRESET)/i);
    await sql`drop trigger slow_row on passports`.execute(store.engine.db);
    const resumed = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
    assert.equal(resumed.runId, stopped.runId);
    assert.equal(resumed.rows.created, 5_000);
  });
});

describe('the end of a run on PostgreSQL', () => {
  // A store whose tables belong to a role that is not a superuser, so that a row-level security policy
  // can slow its reads down (superusers bypass policies).
  let store: TestStore;
  const role = 'caseport_test_reader';
  const name = `caseport_test_${process.pid}_rls`;
  before(async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(
      `do $$ begin if not exists (select from pg_roles where rolname = '${role}') then create role ${role} login; end if; end $$`,
    );
    await admin.query(`create database ${name} owner ${role}`);
    await admin.end();
    const u = new URL(PG_ADMIN_URL);
    u.username = role;
    u.pathname = `/${name}`;
    const dataDir = tempDir();
    const engine = await openStore({ dataDir, dbUrl: u.toString() });
    await addFirm(engine, { id: 'acme', name: 'Acme' });
    store = {
      engine,
      dataDir,
      dbUrl: u.toString(),
      reopen: () => openStore({ dataDir, dbUrl: u.toString() }),
      async cleanup() {
        await engine.close();
        const a = new pg.Client({ connectionString: PG_ADMIN_URL });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
    await withClients(store, 5_000);
  });
  after(() => store.cleanup());

  test('a connection killed while the rejected rows are read back: Interrupted, never a hang', {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir();
    const file = manyRows(dir, 'fn_Passport_Details_import_20261117.csv', passports, 20_000, (i) => ({
      EmployeeID: `C${i % 5_000}`,
      PassportNumber: `RB${i}`,
      ExpirationDate: 'bad',
    }));
    // Reading back is slowed (2 ms a row, once the last batch is in) so that the killer finds the reading
    // query at work.
    await sql`create function slow_ok() returns boolean language sql as 'select true from pg_sleep(0.002)'`.execute(
      store.engine.db,
    );
    await sql`create policy slow_read on rejected_rows for select using (slow_ok())`.execute(store.engine.db);
    const db = new URL(store.dbUrl!).pathname.slice(1);
    let hunting: Promise<void> | undefined;
    let found = false;
    const hunt = async () => {
      const asAdmin = new URL(PG_ADMIN_URL);
      asAdmin.pathname = `/${name}`;
      const admin = new pg.Client({ connectionString: asAdmin.toString() });
      await admin.connect();
      await admin.query('alter table rejected_rows enable row level security');
      await admin.query('alter table rejected_rows force row level security');
      for (let i = 0; i < 400 && !found; i++) {
        const r = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and state = 'active' and query like '%from "rejected_rows"%' and pid <> pg_backend_pid()`,
          [db],
        );
        found = r.rows.length > 0;
        await new Promise((res) => setTimeout(res, 5));
      }
      await admin.end();
    };
    const stopped = await importFile(store.engine, {
      firmId: 'acme',
      file,
      resultDir: dir,
      afterBatch: (row) => {
        if (row === 20_001) hunting = hunt();
      },
    });
    await hunting;
    assert.ok(found, 'the reading connection was killed');
    assert.equal(
      stopped.status,
      'interrupted',
      JSON.stringify({ ...stopped, errors: stopped.errors.length }),
    );
    await sql`alter table rejected_rows disable row level security`.execute(store.engine.db);
    const again = await importFile(store.engine, { firmId: 'acme', file, resultDir: dir });
    assert.equal(again.runId, stopped.runId);
    assert.equal(again.status, 'incomplete');
    assert.equal(again.problemCount, 20_000);
  });
});

describe('processes at the edges (SQLite)', () => {
  test('several processes opening a new store at once all succeed', async () => {
    for (let round = 0; round < 2; round++) {
      const dataDir = tempDir();
      const done = await Promise.all(
        [1, 2, 3, 4, 5].map(
          (i) =>
            new Promise<{ code: number | null; err: string }>((resolve) => {
              const child = spawn(
                process.execPath,
                [BIN, '--data', dataDir, 'firm', 'add', `f${i}`, '--name', `F${i}`],
                {
                  env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
                },
              );
              let err = '';
              child.stderr.on('data', (d) => {
                err += d;
              });
              child.on('close', (code) => resolve({ code, err }));
            }),
        ),
      );
      for (const d of done) assert.equal(d.code, 0, d.err);
    }
  });

  test('Ctrl-C while waiting for the firm: exit 4, and --json still prints one JSON object', async () => {
    const store = await storeWithFirm('sqlite');
    try {
      const lease = await acquireLease(store.engine, importLeaseName('acme'), { holder: 'a long import' });
      const file = manyRows(tempDir(), 'company_Details_import_20261118.csv', companies, 1, () => ({}));
      const child = spawn(
        process.execPath,
        [BIN, '--data', store.dataDir, 'import', file, '--firm', 'acme', '--json'],
        {
          env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const waiting = new Promise<void>((resolve) =>
        child.stderr.on('data', (d) => {
          err += d;
          if (/waiting: another import of firm acme is running \(a long import\)/.test(err)) resolve();
        }),
      );
      await waiting;
      child.kill('SIGINT');
      const code = await new Promise((r) => child.on('close', r));
      await lease.release();
      assert.equal(code, 4, err);
      const result = JSON.parse(out);
      assert.equal(result.status, 'interrupted');
      assert.match(result.message, /stopped waiting/);
    } finally {
      await store.cleanup();
    }
  });

  test('Ctrl-C stops after the current batch: the run is Interrupted and resumable, the firm free at once', async () => {
    const store = await storeWithFirm('sqlite');
    try {
      await withClients(store, 5_000);
      const dir = tempDir();
      const file = manyRows(dir, 'fn_Passport_Details_import_20261114.csv', passports, 60_000, (i) => ({
        EmployeeID: `C${i % 5_000}`,
        PassportNumber: `I${i}`,
      }));
      const child = spawn(
        process.execPath,
        [BIN, '--data', store.dataDir, 'import', file, '--firm', 'acme', '--batch-size', '500'],
        {
          env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
        },
      );
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      // Interrupt once the run has committed a batch.
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        const run = await store.engine.db
          .selectFrom('runs')
          .select('checkpoint_row')
          .where('template', '=', 'fn_Passport_Details_import')
          .executeTakeFirst();
        if (run && run.checkpoint_row > 0) break;
      }
      child.kill('SIGINT');
      const code = await new Promise((r) => child.on('close', r));
      assert.equal(code, 4, err);
      assert.match(err, /stopping after the current batch/);
      const run = await store.engine.db
        .selectFrom('runs')
        .selectAll()
        .where('template', '=', 'fn_Passport_Details_import')
        .executeTakeFirstOrThrow();
      assert.equal(run.status, 'interrupted');
      assert.match(run.message ?? '', /stopped by the user/);
      const leases = await store.engine.db.selectFrom('leases').selectAll().execute();
      assert.deepEqual(leases, [], 'the lease is released, not left to expire');
      const resumed = spawnSync(
        process.execPath,
        [BIN, '--data', store.dataDir, 'import', file, '--firm', 'acme', '--json'],
        {
          encoding: 'utf8',
          env: { ...process.env, DATABASE_URL: '', CASEPORT_DATA: '' },
        },
      );
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.doesNotMatch(resumed.stderr, /waiting/);
      const out = JSON.parse(resumed.stdout);
      assert.equal(out.runId, Number(run.id));
      assert.equal(out.rows.total, 60_000);
    } finally {
      await store.cleanup();
    }
  });
});
