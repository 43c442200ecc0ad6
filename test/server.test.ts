// The integration server as a firm uses it, on both engines: `caseport serve` as a real process, files
// uploaded over SFTP and processed on arrival, the outcome in `caseport runs`, the result file and an
// export downloaded from the site, /health and /metrics, and a clean stop on SIGTERM.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { header, rowOf, templateNamed } from './fixtures.js';
import { ENGINES, openTestStore, type TestStore, tempDir, writeCsv } from './helpers.js';
import {
  caseport,
  download,
  list,
  type ServerProcess,
  type SftpSession,
  sftpLogin,
  startProcess,
  upload,
  waitFor,
} from './server-processes.js';

const employers = templateNamed('company_Details_import');

for (const kind of ENGINES) {
  describe(`caseport serve (${kind})`, () => {
    let s: TestStore;
    let g: string[];
    let server: ServerProcess;
    let site: SftpSession;
    const dir = tempDir();
    before(async () => {
      s = await openTestStore(kind);
      g = ['--data', s.dataDir, ...(s.dbUrl ? ['--db', s.dbUrl] : [])];
      assert.equal(
        caseport(g, 'firm', 'add', 'acme', '--name', 'Acme', '--sftp-password', 'pw-acme').code,
        0,
      );
      assert.equal(caseport(g, 'task', 'add', 'acme', '--kind', 'import', '--on-arrival').code, 0);
      server = await startProcess(
        g,
        ['serve', '--sftp-port', '0', '--http-port', '0', '--host', '127.0.0.1'],
        {
          CASEPORT_SCHEDULER_INTERVAL_MS: '200',
        },
      );
      site = await sftpLogin(server.sftpPort!, 'acme', 'pw-acme');
    });
    after(async () => {
      site?.end();
      await server?.stop();
      await s.cleanup();
    });

    const runs = (...args: string[]) => {
      const r = caseport(g, 'runs', '--firm', 'acme', '--json', ...args);
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out) as Array<Record<string, unknown> & { status: string; file: string }>;
    };

    test('an upload is processed on arrival; the outcome is in runs and the result file in Results', async () => {
      const name = 'company_Details_import_20261120.csv';
      const local = writeCsv(dir, name, [
        header(employers),
        rowOf(employers, { EmployerID: 'E1' }),
        rowOf(employers, { EmployerID: 'E2', FEIN: 'bad' }),
      ]);
      await upload(site, local, `/Import/${name}`);
      await waitFor('the file to finish', () =>
        runs().some(
          (r) =>
            r.file === name && r.status !== 'queued' && r.status !== 'running' && r.status !== 'received',
        ),
      );
      const [r] = runs('--view', 'need-attention');
      assert.equal(r.file, name);
      assert.equal(r.status, 'incomplete');
      assert.equal(r.template, 'company_Details_import');
      assert.deepEqual(r.rows, { total: 2, created: 1, updated: 0, unchanged: 0, rejected: 1 });
      assert.equal(r.attempts, 1);
      for (const k of ['runId', 'receivedAt', 'startedAt', 'finishedAt']) assert.ok(r[k], k);
      assert.deepEqual(await list(site, '/Import'), [], 'picked up: no longer listed');
      assert.deepEqual(await list(site, '/Results'), ['company_Details_import_20261120_result.csv']);
      const text = await download(site, '/Results/company_Details_import_20261120_result.csv');
      assert.match(text, /^EmployerID,/);
      assert.match(text, /E2/);
      assert.doesNotMatch(text, /E1,/);
    });

    test('the same name sent again, corrected: Completed, and the old result file leaves Results', async () => {
      const name = 'company_Details_import_20261120.csv';
      const local = writeCsv(dir, `fixed-${name}`, [
        header(employers),
        rowOf(employers, { EmployerID: 'E2' }),
      ]);
      await upload(site, local, `/Import/${name}`);
      await waitFor('the file to complete', () => runs('--view', 'completed').some((r) => r.file === name));
      assert.deepEqual(await list(site, '/Results'), []);
    });

    test('an export task run now: its file is in Export, downloaded and deleted', async () => {
      const add = caseport(
        g,
        'task',
        'add',
        'acme',
        '--kind',
        'export',
        '--template',
        'corporation_details_export',
        '--cron',
        '0 3 * * *',
        '--json',
      );
      assert.equal(add.code, 0, add.err);
      const task = JSON.parse(add.out);
      // Run twice in the same minute: the second file takes _2, the first is not replaced.
      assert.equal(caseport(g, 'task', 'run', 'acme', String(task.id)).code, 0);
      let files: string[] = [];
      await waitFor('the export file', async () => {
        files = await list(site, '/Export');
        return files.length === 1;
      });
      assert.match(files[0], /^corporation_details_export_\d{12}\.csv$/);
      assert.equal(caseport(g, 'task', 'run', 'acme', String(task.id)).code, 0);
      await waitFor('the second export file', async () => (await list(site, '/Export')).length === 2);
      const both = await list(site, '/Export');
      if (both[0].slice(0, 39) === both[1].slice(0, 39)) {
        assert.deepEqual(both, [files[0], files[0].replace(/\.csv$/, '_2.csv')]);
      }
      await new Promise<void>((resolve, reject) =>
        site.sftp.unlink(`/Export/${both[1]}`, (e) => (e ? reject(e) : resolve())),
      );
      const text = await download(site, `/Export/${files[0]}`);
      assert.equal(text.trim().split(/\r?\n/).length, 3, 'header and two employers');
      await new Promise<void>((resolve, reject) =>
        site.sftp.unlink(`/Export/${files[0]}`, (e) => (e ? reject(e) : resolve())),
      );
      assert.deepEqual(await list(site, '/Export'), []);
      const upcoming = JSON.parse(caseport(g, 'runs', '--firm', 'acme', '--view', 'upcoming', '--json').out);
      assert.ok(
        upcoming.some((u: { task: number; dueUtc: string }) => u.task === task.id && u.dueUtc.endsWith('Z')),
      );
    });

    test('/health and /metrics', async () => {
      const health = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
      assert.equal(health.status, 200);
      const h = await health.json();
      assert.equal(h.status, 'ok');
      assert.equal(h.store, kind);
      assert.ok(h.freeBytes > 0, 'the free space of the data folder');
      const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
      assert.match(metrics, /caseport_files_total\{status="incomplete"\} 1/);
      assert.match(metrics, /caseport_files_total\{status="completed"\} 1/);
      assert.match(metrics, /caseport_rows_total\{outcome="rejected"\} 1/);
      assert.match(metrics, /caseport_queue_depth\{queue="files"\} 0/);
      assert.match(metrics, /caseport_file_duration_seconds_bucket/);
      assert.match(metrics, /caseport_lease_expiries_total 0/);
    });

    test('SIGTERM: the server stops and exits 0', async () => {
      site.end();
      const code = await server.stop('SIGTERM');
      assert.equal(code, 0);
      assert.ok(server.lines.some((l) => l.includes('serve: stopped')));
    });
  });
}

describe('/health when the data folder is nearly full', () => {
  test('503, saying so', async () => {
    const s = await openTestStore('sqlite');
    const server = await startProcess(
      ['--data', s.dataDir],
      ['serve', '--sftp-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--workers', '0'],
      { CASEPORT_MIN_FREE_BYTES: String(Number.MAX_SAFE_INTEGER) },
    );
    try {
      const r = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
      assert.equal(r.status, 503);
      assert.match((await r.json()).error, /nearly full/);
    } finally {
      await server.stop();
      await s.cleanup();
    }
  });
});

describe('caseport worker --http-port; work left by a killed process', () => {
  test('a worker process serves its own /metrics; work folders of processes that are gone are swept at start', async () => {
    const s = await openTestStore('sqlite');
    const work = path.join(s.dataDir, 'work');
    mkdirSync(path.join(work, 'p999999999-file-1-ab12'), { recursive: true });
    writeFileSync(path.join(work, 'p999999999-file-1-ab12', 'upload.csv'), 'left by a killed worker');
    mkdirSync(path.join(work, `p${process.pid}-file-2-cd34`));
    const w = await startProcess(
      ['--data', s.dataDir],
      ['worker', '--http-port', '0', '--host', '127.0.0.1'],
    );
    try {
      const metrics = await (await fetch(`http://127.0.0.1:${w.httpPort}/metrics`)).text();
      assert.match(metrics, /caseport_queue_depth/);
      assert.match(metrics, /caseport_lease_expiries_total/);
      assert.deepEqual(readdirSync(work), [`p${process.pid}-file-2-cd34`], "a live process's folder is kept");
    } finally {
      assert.equal(await w.stop(), 0);
      await s.cleanup();
    }
  });
});
