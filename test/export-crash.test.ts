// kill -9 in the middle of an export, then export again: once the killed export's lease expires, the
// next one takes the task over; the killed run is recorded Interrupted, its temporary file is gone, nothing half-written was ever published, the mark did not move, and the
// next delta carries the rows the killed export was writing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportFile } from '../src/export/index.js';
import { readMark } from '../src/export/marks.js';
import { importRows, seedFirm, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir } from './helpers.js';

const TEMPLATE = 'fn_passport_details_export';
const passports = templateNamed('fn_Passport_Details_import');
const tick = () => new Promise((r) => setTimeout(r, 15));
// The killed export's lease expires soon after it dies, and the next export takes it over then.
process.env.CASEPORT_LEASE_TTL_MS = '600';

/** n passports of client E1, numbered from `from`, issued in `place`. */
function passportRows(from: number, n: number, place: string) {
  return Array.from({ length: n }, (_, i) => ({
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    PassportNumber: `K${String(from + i).padStart(5, '0')}`,
    IssuingCountry: 'India',
    IssueDate: '02/10/2019',
    ExpirationDate: '02/09/2029',
    PlaceOfIssue: place,
    IsPrimary: 'N',
  }));
}

/** The data rows of a published export, as PassportNumber/PlaceOfIssue pairs. */
function rowsOf(file: string): string[][] {
  const [head, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\r\n');
  const cols = head.split(',');
  const n = cols.indexOf('PassportNumber');
  const p = cols.indexOf('PlaceOfIssue');
  return lines.map((l) => l.split(',')).map((c) => [c[n], c[p]]);
}

for (const kind of ENGINES) {
  describe(`export killed with SIGKILL on ${kind}`, () => {
    let store: TestStore;
    before(async () => {
      store = await storeWithFirm(kind);
      await seedFirm(store.engine);
      const r = await importRows(store.engine, passports, passportRows(0, 60, 'Mumbai'));
      assert.equal(r.rows.created, 60, JSON.stringify(r.errors));
    });
    after(() => store.cleanup());

    test('the next export marks the run Interrupted, sweeps its file; the mark stays, the delta has the rows', async () => {
      const out = tempDir();
      const first = await exportFile(store.engine, {
        firmId: 'acme',
        template: TEMPLATE,
        outDir: out,
        scope: { kind: 'delta' },
      });
      assert.equal(first.rows, 60);
      const mark = await readMark(store.engine.db, 'acme', TEMPLATE);
      await tick();
      const changed = await importRows(store.engine, passports, passportRows(0, 40, 'Pune'));
      assert.equal(changed.rows.updated, 40, JSON.stringify(changed.errors));

      // 4 chunks of 10 rows: killed after the 2nd, with half of the changed rows in the temporary file
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'test/export-crash-child.ts', store.dataDir, store.dbUrl ?? '', out, '2', '10'],
        { encoding: 'utf8' },
      );
      assert.equal(child.signal, 'SIGKILL', child.stderr || child.stdout);
      const killed = await store.engine.db
        .selectFrom('runs')
        .selectAll()
        .where('kind', '=', 'export')
        .where('status', '=', 'running')
        .executeTakeFirstOrThrow();
      const left = readdirSync(out).filter((f) => f !== path.basename(first.file!));
      assert.equal(left.length, 1, 'the killed export left its temporary file, and nothing else');
      assert.match(left[0], /^\.fn_passport_details_export_.+\.tmp$/, 'hidden, never under a published name');
      assert.equal(path.join(out, left[0]), killed.file_path, 'the run names the file it was writing');
      const partial = readFileSync(killed.file_path!, 'utf8').trimEnd().split('\r\n');
      assert.equal(partial.length, 1 + 20, 'killed mid-export: the header and 2 chunks of 10 rows');
      assert.equal(await readMark(store.engine.db, 'acme', TEMPLATE), mark, 'the mark did not move');

      const next = await exportFile(store.engine, {
        firmId: 'acme',
        template: TEMPLATE,
        outDir: out,
        scope: { kind: 'delta' },
      });
      assert.equal(next.status, 'completed');
      const run = await store.engine.db
        .selectFrom('runs')
        .selectAll()
        .where('id', '=', killed.id)
        .executeTakeFirstOrThrow();
      assert.equal(run.status, 'interrupted');
      assert.ok(run.finished_at);
      assert.match(run.message!, /did not finish/);
      assert.match(run.message!, /ended before publishing/);
      assert.match(run.message!, /nothing was published and the mark did not move/);
      assert.deepEqual(
        readdirSync(out).sort(),
        [path.basename(first.file!), path.basename(next.file!)].sort(),
        'the temporary file is swept; only published files remain',
      );
      assert.equal(next.since, mark, 'the delta starts at the mark the killed export left alone');
      const rows = rowsOf(next.file!);
      assert.equal(rows.length, 40);
      assert.ok(rows.every(([, place]) => place === 'Pune'));
    });
  });
}
