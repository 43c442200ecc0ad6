// Several machines, simulated: `caseport serve --workers 0` in front and `caseport worker` processes,
// each with its own data folder, sharing nothing but the database. Files of several firms are uploaded
// over SFTP and run by a due import: every file is processed exactly once, and every firm ends as if its
// files had been imported one by one in run order (a reference store built by `caseport import`).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Engine } from '../src/store/index.js';
import { header, rowOf, templateNamed } from './fixtures.js';
import { openTestStore, type TestStore, tempDir, writeCsv } from './helpers.js';
import {
  caseport,
  type ServerProcess,
  sftpLogin,
  startProcess,
  upload,
  waitFor,
} from './server-processes.js';

const employers = templateNamed('company_Details_import');
const clients = templateNamed('fn_Details_Data_import');
const passports = templateNamed('fn_Passport_Details_import');

/**
 * A firm's files: each day's employers, clients and passports files set values that later days
 * overwrite, so the end state depends on the order they are applied in.
 */
export function firmFiles(dir: string, firm: string, days: number): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const d = (day: number) => `202611${String(day).padStart(2, '0')}`;
  for (let day = 1; day <= days; day++) {
    const rows = (n: number, f: (i: number) => string[]) => Array.from({ length: n }, (_, i) => f(i));
    files.push(
      writeCsv(dir, `company_Details_import_${d(day)}.csv`, [
        header(employers),
        ...rows(3, (i) =>
          rowOf(employers, { EmployerID: `EMP${i}`, NumberOfEmployees: String(day * 100 + i) }),
        ),
      ]),
      writeCsv(dir, `fn_Details_Data_import_${d(day)}.csv`, [
        header(clients),
        ...rows(8, (i) =>
          rowOf(clients, { EmployerID: `EMP${i % 3}`, EmployeeID: `C${i}`, JobTitle: `${firm}-t${day}` }),
        ),
      ]),
      writeCsv(dir, `fn_Passport_Details_import_${d(day)}.csv`, [
        header(passports),
        ...rows(8, (i) =>
          rowOf(passports, {
            EmployerID: `EMP${i % 3}`,
            EmployeeID: `C${i}`,
            PassportNumber: `P${i}`,
            PlaceOfIssue: `${firm}-p${day}`,
          }),
        ),
      ]),
    );
  }
  // A later file of the same date, by suffix.
  files.push(
    writeCsv(dir, `company_Details_import_${d(days)}_1.csv`, [
      header(employers),
      rowOf(employers, { EmployerID: 'EMP0', NumberOfEmployees: '999999' }),
    ]),
  );
  return files;
}

/** What a firm's records hold, without ids or times: the end state compared across stores. */
export async function firmState(engine: Engine, firm: string) {
  const e = await engine.db
    .selectFrom('employers')
    .select(['employer_code', 'number_of_employees'])
    .where('firm_id', '=', firm)
    .orderBy('employer_code')
    .execute();
  const c = await engine.db
    .selectFrom('clients')
    .select(['employee_id', 'job_title'])
    .where('firm_id', '=', firm)
    .orderBy('employee_id')
    .execute();
  const p = await engine.db
    .selectFrom('passports')
    .select(['passport_number', 'place_of_issue'])
    .where('firm_id', '=', firm)
    .orderBy('passport_number')
    .execute();
  return {
    employers: e.map((r) => [r.employer_code, Number(r.number_of_employees)]),
    clients: c.map((r) => [r.employee_id, r.job_title]),
    passports: p.map((r) => [r.passport_number, r.place_of_issue]),
  };
}

/** The reference: each firm's files imported one by one, in run order, by `caseport import` on SQLite. */
async function reference(firms: Map<string, string[]>) {
  const ref = await openTestStore('sqlite');
  const g = ['--data', ref.dataDir];
  const out = new Map<string, Awaited<ReturnType<typeof firmState>>>();
  for (const [firm, files] of firms) {
    assert.equal(caseport(g, 'firm', 'add', firm, '--name', firm).code, 0);
    const r = caseport(g, 'import', ...files, '--firm', firm);
    assert.equal(r.code, 0, r.err);
    out.set(firm, await firmState(ref.engine, firm));
  }
  await ref.cleanup();
  return out;
}

interface Cluster {
  store: TestStore;
  g: string[];
  front: ServerProcess;
  workers: ServerProcess[];
}

async function uploadAll(port: number, firms: Map<string, string[]>) {
  await Promise.all(
    [...firms].map(async ([firm, files]) => {
      const s = await sftpLogin(port, firm, `pw-${firm}`);
      try {
        for (const f of files) await upload(s, f, `/Import/${path.basename(f)}`);
      } finally {
        s.end();
      }
    }),
  );
}

async function runDueImports(c: Cluster, firms: Iterable<string>) {
  for (const firm of firms) {
    const tasks = JSON.parse(caseport(c.g, 'task', 'list', firm, '--json').out) as Array<{
      id: number;
      kind: string;
    }>;
    const r = caseport(c.g, 'task', 'run', firm, String(tasks.find((t) => t.kind === 'import')!.id));
    assert.equal(r.code, 0, r.err);
  }
}

async function finalState(c: Cluster, firms: Map<string, string[]>, total: number) {
  const db = c.store.engine.db;
  await waitFor(
    'every file to reach a final status',
    async () => {
      const left = await db
        .selectFrom('files')
        .select('id')
        .where('folder', '=', 'Import')
        .where('status', 'in', ['received', 'queued', 'running'])
        .execute();
      return left.length === 0;
    },
    240_000,
  );
  const files = await db.selectFrom('files').selectAll().where('folder', '=', 'Import').execute();
  assert.equal(files.length, total);
  assert.deepEqual(
    files.filter((f) => f.status !== 'completed').map((f) => [f.name, f.status, f.message]),
    [],
  );
  const runs = await db
    .selectFrom('runs')
    .select(['id', 'file_id', 'status'])
    .where('kind', '=', 'import')
    .execute();
  assert.equal(runs.length, total, 'one run per file: none processed twice');
  assert.equal(new Set(runs.map((r) => r.file_id)).size, total);
  const expected = await reference(firms);
  for (const firm of firms.keys()) {
    assert.deepEqual(await firmState(c.store.engine, firm), expected.get(firm), `firm ${firm}`);
  }
}

async function cluster(
  kind: 'postgres' | 'sqlite',
  workers: number,
  firms: Iterable<string>,
): Promise<Cluster> {
  const store = await openTestStore(kind);
  const db = store.dbUrl ? ['--db', store.dbUrl] : [];
  const g = ['--data', store.dataDir, ...db];
  for (const firm of firms) {
    assert.equal(caseport(g, 'firm', 'add', firm, '--name', firm, '--sftp-password', `pw-${firm}`).code, 0);
  }
  const front = await startProcess(g, ['serve', '--workers', '0', '--sftp-port', '0', '--http-port', '0']);
  const ws: ServerProcess[] = [];
  for (let i = 0; i < workers; i++) {
    // On PostgreSQL each worker has its own data folder, as on its own machine; on SQLite they share one.
    const data = kind === 'postgres' ? ['--data', tempDir('caseport-worker-'), ...db] : g;
    ws.push(await startProcess(data, ['worker']));
  }
  return { store, g, front, workers: ws };
}

async function stop(c: Cluster) {
  const codes = await Promise.all([c.front, ...c.workers].map((p) => p.stop()));
  assert.deepEqual(
    codes,
    codes.map(() => 0),
    'every process stops cleanly on SIGTERM',
  );
}

describe('several machines on one PostgreSQL', () => {
  let c: Cluster | undefined;
  after(async () => {
    for (const p of [c?.front, ...(c?.workers ?? [])]) await p?.stop('SIGKILL');
    await c?.store.cleanup();
  });

  test('serve --workers 0 and four workers: 200 files of 8 firms over SFTP, each processed once, each firm as if one by one', async () => {
    const dir = tempDir();
    const firms = new Map<string, string[]>();
    for (let i = 0; i < 8; i++) {
      const firm = `firm${i}`;
      firms.set(firm, firmFiles(path.join(dir, firm), firm, 8));
    }
    const total = [...firms.values()].reduce((n, f) => n + f.length, 0);
    assert.equal(total, 200);
    c = await cluster('postgres', 4, firms.keys());
    await uploadAll(c.front.sftpPort!, firms);
    await runDueImports(c, firms.keys());
    await finalState(c, firms, total);
    const busy = c.workers.filter((w) => w.lines.some((l) => l.includes('import: finished')));
    assert.ok(busy.length >= 2, `the work was shared (${busy.length} of 4 workers ran files)`);
    await stop(c);
  });
});

describe('several processes on one SQLite file', () => {
  let c: Cluster | undefined;
  after(async () => {
    for (const p of [c?.front, ...(c?.workers ?? [])]) await p?.stop('SIGKILL');
    await c?.store.cleanup();
  });

  test('serve --workers 0 and two workers on one data folder: 52 files of 4 firms, each once, no "database is locked"', async () => {
    const dir = tempDir();
    const firms = new Map<string, string[]>();
    for (let i = 0; i < 4; i++) firms.set(`firm${i}`, firmFiles(path.join(dir, `firm${i}`), `firm${i}`, 4));
    const total = [...firms.values()].reduce((n, f) => n + f.length, 0);
    c = await cluster('sqlite', 2, firms.keys());
    await uploadAll(c.front.sftpPort!, firms);
    await runDueImports(c, firms.keys());
    await finalState(c, firms, total);
    for (const p of [c.front, ...c.workers]) {
      assert.ok(!p.lines.some((l) => /database is locked|SQLITE_BUSY/.test(l)), 'no lock errors');
    }
    await stop(c);
  });
});
