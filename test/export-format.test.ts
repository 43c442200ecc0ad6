// Export cells, names and files without a store: the formula rule, dates, Y/N, numbers, LastModified
// with its offset, DaysToExpiry, --since instants, file names, and the write-then-publish writer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Papa from 'papaparse';
import { exportFileName, temporaryName, temporaryRunId } from '../src/export/file-name.js';
import {
  chunkFormatter,
  formatDate,
  formatNumber,
  formatYesNo,
  latest,
  neutraliseFormula,
  rowFormatter,
} from '../src/export/format.js';
import { recordOf } from '../src/export/record.js';
import { openExportFile } from '../src/export/writer.js';
import { parseNumber } from '../src/ingest/cells.js';
import {
  caseDetailsExport,
  EXPORT_TEMPLATES,
  findExportTemplate,
  immigDocDetailsExport,
  passportDetailsExport,
  twinColumnNames,
} from '../src/templates/index.js';
import { daysFrom, isoWithOffset, localDay, minuteStamp, parseInstant } from '../src/time/zones.js';
import { tempDir } from './helpers.js';

describe('export: the spreadsheet formula rule', () => {
  test('hostile cells are prefixed with a single quote', () => {
    for (const cell of [
      "=cmd|' /C calc'!A0",
      '=1+1',
      '@SUM(1)',
      '@',
      '\t=1+1',
      '\tplain text after a tab',
      '\r=1+1',
      '+cmd|x',
      "-2+3+cmd|' /C calc'!A0",
      '+SUM(A1:A2)',
      '-HYPERLINK("http://evil")',
      '- see attached',
      '-1+A1',
    ]) {
      assert.equal(neutraliseFormula(cell), `'${cell}`, JSON.stringify(cell));
    }
  });

  test('phone numbers, negative numbers and ordinary text are kept as they are', () => {
    for (const cell of [
      '+1 555 0100',
      '+1 (415) 555-0199',
      '+44 20 7946 0958',
      '-42',
      '-3.5',
      '+7',
      '-0.001',
      '-',
      '+',
      '--',
      '42',
      'Acme = Robots',
      'a@b.example',
      'R&D',
      '',
      "O'Brien",
    ]) {
      assert.equal(neutraliseFormula(cell), cell, JSON.stringify(cell));
    }
  });

  test('numbers as exported import back to the same value, and are never neutralised', () => {
    // Every number an import can store (at most 15 digits) comes back as itself.
    for (const n of [0, -42, -3.5, 1200000000, -1e-7, 123456789.123, 999999999999999, -0.00000000000001]) {
      const cell = neutraliseFormula(formatNumber(n));
      assert.equal(parseNumber(cell), n, cell);
    }
    // A computed double is written in plain decimal with 15 significant digits, which imports.
    assert.equal(formatNumber(0.1 + 0.2), '0.3');
    assert.equal(formatNumber(-1e-7), '-0.0000001');
  });
});

describe('export: cell formats', () => {
  test('dates in the firm format; Y/N; numbers', () => {
    assert.equal(formatDate('2026-02-09', 'MM/DD/YYYY'), '02/09/2026');
    assert.equal(formatDate('2026-02-09', 'YYYY-MM-DD'), '2026-02-09');
    assert.equal(formatYesNo(1), 'Y');
    assert.equal(formatYesNo(0), 'N');
    assert.equal(formatNumber(152000), '152000');
    assert.equal(formatNumber(-3500.5), '-3500.5');
  });

  test('LastModified: ISO 8601 with the offset of the firm time zone at that instant', () => {
    const la = 'America/Los_Angeles';
    assert.equal(isoWithOffset(new Date('2026-11-25T09:02:03.456Z'), la), '2026-11-25T01:02:03-08:00');
    assert.equal(isoWithOffset(new Date('2026-07-04T19:00:00.000Z'), la), '2026-07-04T12:00:00-07:00');
    assert.equal(isoWithOffset(new Date('2026-01-01T00:00:00.000Z'), 'UTC'), '2026-01-01T00:00:00+00:00');
    assert.equal(
      isoWithOffset(new Date('2026-01-01T00:00:00.000Z'), 'Asia/Kolkata'),
      '2026-01-01T05:30:00+05:30',
    );
    assert.equal(
      isoWithOffset(new Date('2026-01-01T00:00:00.000Z'), 'America/St_Johns'),
      '2025-12-31T20:30:00-03:30',
    );
    // around the spring-forward jump in Los Angeles (2026-03-08 10:00 UTC)
    assert.equal(isoWithOffset(new Date('2026-03-08T09:59:59.000Z'), la), '2026-03-08T01:59:59-08:00');
    assert.equal(isoWithOffset(new Date('2026-03-08T10:00:00.000Z'), la), '2026-03-08T03:00:00-07:00');
    for (const iso of ['2026-03-08T10:00:00.000Z', '2026-11-01T08:30:00.000Z', '2026-11-01T09:30:00.000Z']) {
      const back = new Date(isoWithOffset(new Date(iso), la));
      assert.equal(back.toISOString(), iso, 'the written instant reads back as the same instant');
    }
    assert.equal(
      latest(['2026-01-01T00:00:00.000Z', null, '2026-02-01T00:00:00.000Z']),
      '2026-02-01T00:00:00.000Z',
    );
    assert.equal(latest([null]), null);
  });

  test('DaysToExpiry: whole days from today in the firm time zone; negative when past', () => {
    // 07:30 UTC on Nov 25 is still Nov 24 in Los Angeles
    const today = localDay(new Date('2026-11-25T07:30:00Z'), 'America/Los_Angeles');
    assert.equal(daysFrom(today, '2026-11-24'), 0);
    assert.equal(daysFrom(today, '2026-11-25'), 1);
    assert.equal(daysFrom(today, '2026-11-20'), -4);
    assert.equal(daysFrom(today, '2027-11-24'), 365);
    assert.equal(daysFrom(localDay(new Date('2026-11-25T07:30:00Z'), 'UTC'), '2026-11-25'), 0);
    assert.equal(daysFrom(today, 'soon'), undefined);
  });

  test('a row of an export template: every cell formatted, shown values blank when absent', () => {
    const ctx = { dateFormat: 'MM/DD/YYYY' as const, timezone: 'America/Los_Angeles', today: 20_000 };
    const fmt = rowFormatter(passportDetailsExport, ctx);
    const rec = recordOf(
      passportDetailsExport,
      [7, 'ACME', 'E1', 'Z1', 'India', '2019-02-10', null, '=Mumbai', 1, undefined],
      ['2026-11-25T09:02:03.456Z'],
    );
    assert.deepEqual(fmt(rec), [
      '7',
      'ACME',
      'E1',
      'Z1',
      'India',
      '02/10/2019',
      '',
      "'=Mumbai",
      'Y',
      '2026-11-25T01:02:03-08:00',
    ]);
    const docs = rowFormatter(immigDocDetailsExport, ctx);
    const day = new Date(20_000 * 86_400_000).toISOString().slice(0, 10);
    const cells = docs(
      recordOf(immigDocDetailsExport, [1, 'A', 'E', 'EAD', null, null, day, null, day, undefined], [null]),
    );
    assert.equal(cells[8], '0');
    const cases = rowFormatter(caseDetailsExport, ctx);
    const n = caseDetailsExport.columns.length;
    const later = '2026-12-01T00:00:00.000Z';
    const c = cases(
      recordOf(caseDetailsExport, new Array(n).fill(null), ['2026-11-25T09:02:03.456Z', null, later]),
    );
    assert.equal(
      c[n - 1],
      '2026-11-30T16:00:00-08:00',
      'LastModified is the latest of the row and what it shows',
    );
  });
});

test('export: a chunk of records to rows of cells, each chunk in the arrays of the one before', () => {
  const ctx = { dateFormat: 'YYYY-MM-DD' as const, timezone: 'UTC', today: 20_000 };
  const format = chunkFormatter(passportDetailsExport, ctx);
  const rec = (n: string) =>
    recordOf(passportDetailsExport, [1, 'ACME', 'E1', n, 'India', null, null, null, 0, undefined], [null]);
  const first = format([rec('A1'), rec('A2'), rec('A3')]);
  assert.deepEqual(
    first.map((r) => r[3]),
    ['A1', 'A2', 'A3'],
  );
  const kept = first[0];
  const second = format([rec('B1')]);
  assert.deepEqual(second, [['1', 'ACME', 'E1', 'B1', 'India', '', '', '', 'N', '']]);
  assert.equal(second[0], kept, 'the row array is reused');
});

describe('export: --since instants', () => {
  const la = 'America/Los_Angeles';
  test('with an offset the instant is exact; without one it is wall time in the firm time zone', () => {
    assert.equal(parseInstant('2026-11-25T01:02:03-08:00', la)?.toISOString(), '2026-11-25T09:02:03.000Z');
    assert.equal(parseInstant('2026-11-25T09:02:03.5Z', la)?.toISOString(), '2026-11-25T09:02:03.500Z');
    assert.equal(parseInstant('2026-11-25T09:02:03+0530', la)?.toISOString(), '2026-11-25T03:32:03.000Z');
    assert.equal(parseInstant('2026-11-25T01:02', la)?.toISOString(), '2026-11-25T09:02:00.000Z');
    assert.equal(parseInstant('2026-07-04', la)?.toISOString(), '2026-07-04T07:00:00.000Z');
    assert.equal(parseInstant('2026-03-08T12:00', la)?.toISOString(), '2026-03-08T19:00:00.000Z');
  });

  test('anything else is refused', () => {
    for (const bad of [
      'yesterday',
      '2026-02-30',
      '2026-11-25T25:00',
      '11/25/2026',
      '',
      '2026-11-25T01:02:03+25',
    ]) {
      assert.equal(parseInstant(bad, la), undefined, bad);
    }
  });
});

describe('export: templates as data', () => {
  test('the 8 templates of the spec, each carrying its twin columns in order, ids first, LastModified last', () => {
    assert.deepEqual(
      EXPORT_TEMPLATES.map((t) => t.name),
      [
        'corporation_details_export',
        'client_details_export',
        'fn_immig_doc_details_export',
        'fn_visa_details_export',
        'fn_passport_details_export',
        'fn_case_details_export',
        'petition_details_export',
        'case_manager_details_export',
      ],
    );
    for (const t of EXPORT_TEMPLATES) {
      const names = t.columns.map((c) => c.name);
      assert.equal(names[names.length - 1], 'LastModified');
      const twin = twinColumnNames(t);
      const start = names.indexOf(twin[0]);
      assert.deepEqual(names.slice(start, start + twin.length), twin, t.name);
      for (const c of t.columns.slice(start, start + twin.length)) {
        assert.equal(
          c.column,
          t.twin.columns[t.columns.indexOf(c) - start],
          'the import Column object is shared',
        );
      }
    }
    assert.deepEqual(
      caseDetailsExport.columns
        .map((c) => c.name)
        .filter((n) => !twinColumnNames(caseDetailsExport).includes(n)),
      ['CaseportCaseID', 'CaseportClientID', 'PetitionName', 'FormType', 'CaseManagerName', 'LastModified'],
    );
    assert.equal(findExportTemplate('FN_PASSPORT_DETAILS_EXPORT'), passportDetailsExport);
    assert.equal(findExportTemplate('passports'), undefined);
  });
});

describe('export: file names', () => {
  test('<prefix>_YYYYMMDDHHMM.csv in the firm time zone, _2, _3 for more in the same minute', () => {
    const at = new Date('2026-11-25T09:02:59Z');
    assert.equal(minuteStamp(at, 'America/Los_Angeles'), '202611250102');
    assert.equal(
      exportFileName('fn_passport_details_export', at, 'America/Los_Angeles'),
      'fn_passport_details_export_202611250102.csv',
    );
    assert.equal(exportFileName('x', at, 'Asia/Tokyo', 2), 'x_202611251802_2.csv');
    assert.equal(exportFileName('x', new Date('2026-12-31T23:59:00Z'), 'UTC', 3), 'x_202612312359_3.csv');
  });

  test('a temporary name says which run writes it, and only names of its prefix are read', () => {
    const prefix = 'fn_passport_details_export';
    const name = temporaryName(prefix, 4242, 'a1b2c3');
    assert.equal(name, '.fn_passport_details_export_r4242_a1b2c3.tmp');
    assert.equal(temporaryRunId(name, prefix), 4242);
    assert.equal(temporaryRunId(name, 'fn_visa_details_export'), undefined);
    assert.equal(temporaryRunId('.x_web-1_999_ab.tmp', 'x'), undefined, 'an older name names no run');
  });
});

describe('export: the writer', () => {
  const header = ['A', 'B', 'C'];
  let run = 1000;
  /** A fresh temporary name of a live run (run 7 is the one run that is not alive). */
  const opts = (dir: string, runId = run++) => ({
    dir,
    prefix: 'x',
    header,
    name: temporaryName('x', runId, randomBytes(3).toString('hex')),
    runAlive: async (id: number) => id !== 7,
  });
  const names = (n: number) =>
    Array.from({ length: n }, (_, i) => (i === 0 ? 'x_1.csv' : `x_1_${i + 1}.csv`));

  test('quotes what needs quoting, CRLF, and the file appears only when published', async () => {
    const dir = tempDir();
    const out = await openExportFile(opts(dir));
    const tricky = [
      ['a,b', 'say "hi"', 'two\nlines'],
      [' padded ', '', 'José Núñez'],
    ];
    await out.write(tricky);
    assert.deepEqual(
      readdirSync(dir),
      [path.basename(out.tmp)],
      'only the hidden temporary file while writing',
    );
    assert.match(path.basename(out.tmp), /^\.x_.+\.tmp$/);
    const file = await out.publish(names(3));
    assert.equal(path.basename(file), 'x_1.csv');
    assert.deepEqual(readdirSync(dir), ['x_1.csv']);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith('A,B,C\r\n'));
    assert.ok(text.endsWith('\r\n'));
    const parsed = Papa.parse<string[]>(text.trimEnd(), { newline: '\r\n', delimiter: ',' }).data;
    assert.deepEqual(parsed, [header, ...tricky]);
  });

  test('never overwrites: the next free name is taken', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'x_1.csv'), 'someone else\r\n');
    const first = await openExportFile(opts(dir));
    const second = await openExportFile(opts(dir));
    await first.write([['1', '2', '3']]);
    await second.write([['4', '5', '6']]);
    const [a, b] = await Promise.all([first.publish(names(5)), second.publish(names(5))]);
    assert.deepEqual([path.basename(a), path.basename(b)].sort(), ['x_1_2.csv', 'x_1_3.csv']);
    assert.equal(readFileSync(path.join(dir, 'x_1.csv'), 'utf8'), 'someone else\r\n');
    assert.deepEqual(readdirSync(dir).sort(), ['x_1.csv', 'x_1_2.csv', 'x_1_3.csv']);
  });

  test('a failure while writing leaves nothing behind; stale temporary files are swept', async () => {
    const dir = tempDir();
    const stale = path.join(dir, '.x_999-dead.tmp');
    writeFileSync(stale, 'half a file');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, old, old);
    const fresh = path.join(dir, '.x_998-alive.tmp');
    writeFileSync(fresh, 'another export writing now');
    const out = await openExportFile({
      ...opts(dir),
      afterChunk: (rows) => {
        if (rows >= 2) throw new Error('disk full');
      },
    });
    await out.write([['1', '2', '3']]);
    await assert.rejects(out.write([['4', '5', '6']]), /disk full/);
    await out.discard();
    assert.deepEqual(
      readdirSync(dir),
      [path.basename(fresh)],
      'the stale file is swept, a fresh one is left',
    );
  });

  test("a temporary file of a run that is not alive is swept at once; a live run's is kept", async () => {
    const dir = tempDir();
    const dead = path.join(dir, temporaryName('x', 7, 'dead'));
    const alive = path.join(dir, temporaryName('x', 1, 'a1'));
    for (const f of [dead, alive]) writeFileSync(f, 'half a file');
    const out = await openExportFile(opts(dir));
    await out.discard();
    assert.deepEqual(readdirSync(dir), [path.basename(alive)]);
  });
});
