// PostgreSQL stopped mid-run and started again. The test starts its own PostgreSQL instance (initdb and
// pg_ctl as the postgres user, on a free port), so the shared server is untouched. The worker retries
// with a back-off and the run completes: nothing lost, nothing half-applied, each row billed once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { receiveFile } from '../src/ledger/files.js';
import { openFileStore } from '../src/store/file-store.js';
import { addFirm, type Engine, openStore } from '../src/store/index.js';
import { manyRows, templateNamed } from './fixtures.js';
import { tempDir } from './helpers.js';
import { caseport, type ServerProcess, startProcess, waitFor } from './server-processes.js';

const ROWS = 20_000;
const bin = (name: string) =>
  path.join(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim(), name);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A PostgreSQL instance of the test's own, run as the postgres user (it refuses to run as root). */
class OwnPostgres {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'caseport-pg-'));
  port = 0;
  private asPostgres(cmd: string, args: string[]) {
    return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  }
  async init() {
    chownSync(this.dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
    this.port = await freePort();
    this.asPostgres(bin('initdb'), [
      '-D',
      path.join(this.dir, 'data'),
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    this.start();
  }
  start() {
    this.asPostgres(bin('pg_ctl'), [
      '-D',
      path.join(this.dir, 'data'),
      '-l',
      path.join(this.dir, 'log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      'start',
    ]);
  }
  stop(mode: 'fast' | 'immediate' = 'fast') {
    this.asPostgres(bin('pg_ctl'), ['-D', path.join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }
  url(db: string) {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }
  cleanup() {
    try {
      this.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('PostgreSQL stopped mid-run and started again', () => {
  const server = new OwnPostgres();
  let engine: Engine;
  let worker: ServerProcess | undefined;
  const dataDir = tempDir();
  before(async () => {
    await server.init();
    const admin = new pg.Client({ connectionString: server.url('postgres') });
    await admin.connect();
    await admin.query('create database caseport');
    await admin.end();
    engine = await openStore({ dataDir, dbUrl: server.url('caseport') });
  });
  after(async () => {
    await worker?.stop('SIGKILL');
    await engine?.close().catch(() => {});
    server.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the worker retries with a back-off and the run completes; nothing lost, nothing half-applied', async () => {
    const g = ['--data', dataDir, '--db', server.url('caseport')];
    await addFirm(engine, { id: 'acme', name: 'Acme' });
    const file = manyRows(
      tempDir(),
      'company_Details_import_20261126.csv',
      templateNamed('company_Details_import'),
      ROWS,
      (i) => ({
        EmployerID: `EMP${i}`,
      }),
    );
    const f = await receiveFile(engine, openFileStore(engine, dataDir), {
      firmId: 'acme',
      name: path.basename(file),
      localPath: file,
    });
    const tasks = JSON.parse(caseport(g, 'task', 'list', 'acme', '--json').out);
    assert.equal(caseport(g, 'task', 'run', 'acme', String(tasks[0].id)).code, 0);

    worker = await startProcess(g, ['worker'], { CASEPORT_BATCH_SIZE: '250', CASEPORT_LEASE_TTL_MS: '2000' });
    const checkpoint = async () =>
      Number(
        (
          await engine.db
            .selectFrom('runs')
            .select('checkpoint_row')
            .where('file_id', '=', f.id)
            .executeTakeFirst()
        )?.checkpoint_row ?? 0,
      );
    await waitFor('the run to be part-way', async () => (await checkpoint()) > 1000, 60_000);
    server.stop('fast');
    await new Promise((r) => setTimeout(r, 3000));
    server.start();
    await waitFor(
      'the file to finish',
      async () => {
        const row = await engine.db
          .selectFrom('files')
          .select('status')
          .where('id', '=', f.id)
          .executeTakeFirst()
          .catch(() => undefined);
        return row !== undefined && !['queued', 'running'].includes(row.status);
      },
      120_000,
    ).catch((e) => {
      throw new Error(`${e.message}; the worker's log:\n${worker?.lines.slice(-200).join('\n')}`);
    });
    const done = await engine.db
      .selectFrom('files')
      .selectAll()
      .where('id', '=', f.id)
      .executeTakeFirstOrThrow();
    assert.equal(done.status, 'completed', done.message ?? '');
    const runs = await engine.db.selectFrom('runs').selectAll().where('file_id', '=', f.id).execute();
    assert.equal(runs.length, 1, 'one run, resumed');
    assert.equal(runs[0].rows_total, ROWS);
    assert.equal(runs[0].rows_created, ROWS, 'every row applied once');
    assert.equal(runs[0].billed_rows, ROWS);
    const count = await engine.db
      .selectFrom('employers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('firm_id', '=', 'acme')
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), ROWS);
    assert.ok(
      worker.lines.some((l) => /store unavailable|will retry/.test(l)),
      'the worker saw the outage and retried',
    );
    assert.equal(await worker.stop(), 0);
  });
});
