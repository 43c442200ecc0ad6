// The pure checks of cells and rows, without a store: each rule of the contract in milliseconds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tupleKey } from '../src/ingest/apply.js';
import {
  type CellContext,
  KEEP,
  parseCell,
  parseDate,
  parseInteger,
  parseNumber,
} from '../src/ingest/cells.js';
import { CsvReader } from '../src/ingest/csv-reader.js';
import { checkRow } from '../src/ingest/rows.js';
import { findCountry } from '../src/kb/countries.js';
import type { FirmKb } from '../src/kb/firm-kb.js';
import { SHIPPED_LISTS } from '../src/kb/lists.js';
import { compareForRun, recogniseFileName } from '../src/templates/file-names.js';
import type { Column } from '../src/templates/types.js';
import { header, rowOf, templateNamed } from './fixtures.js';

/** The shipped lists, one firm petition (active) and one retired one. */
const kb: FirmKb = {
  lookup: (list, v) => kb.entry(list, v)?.value,
  entry(list, v) {
    if (list === 'countries') {
      const c = findCountry(v);
      return c && { value: c.name, active: true };
    }
    if (list === 'petitions') {
      if (v.toLowerCase() === 'h1b-ext') return { value: 'H1B-EXT', active: true };
      if (v.toLowerCase() === 'old-pet') return { value: 'OLD-PET', active: false };
      return undefined;
    }
    if (list === 'case-managers') return { value: v, active: true };
    const values = (SHIPPED_LISTS as Record<string, readonly string[]>)[list] ?? [];
    const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
    return hit === undefined ? undefined : { value: hit, active: true };
  },
  customField: () => undefined,
};
const ctx: CellContext = { kb, zoomNoUpdate: true };
const col = (c: Partial<Column> & Pick<Column, 'type'>): Column => ({ name: 'C', field: 'c', ...c });
const value = (c: Column, cell: string, cx = ctx) => {
  const r = parseCell(c, cell, cx);
  return r.ok ? r.value : `bad: ${r.message}`;
};

describe('cells', () => {
  test('Zoom No Update: any case, any run of spaces; refused where the firm has not enabled it, and in keys', () => {
    const text = col({ type: 'text' });
    for (const k of ['Zoom No Update', 'zoom   no  UPDATE', '  ZOOM NO UPDATE  '])
      assert.equal(value(text, k), KEEP);
    assert.equal(value(text, 'ZoomNo Update'), 'ZoomNo Update');
    assert.match(
      String(value(text, 'zoom no update', { kb, zoomNoUpdate: false })),
      /not enabled for this firm/,
    );
    assert.match(String(value(col({ type: 'text', key: true }), 'Zoom No Update')), /key column/);
  });

  test('dates: MM/DD/YYYY with one-digit month and day, YYYY-MM-DD, real dates, years 1900–2199', () => {
    assert.equal(parseDate('1/5/2026'), '2026-01-05');
    assert.equal(parseDate('12/31/2199'), '2199-12-31');
    assert.equal(parseDate('1900-01-01'), '1900-01-01');
    for (const bad of ['02/30/2024', '12/31/1899', '2200-01-01', '2024-2-3', '13/01/2024', '0001-01-01']) {
      assert.equal(parseDate(bad), undefined, bad);
    }
    assert.equal(parseDate('02/29/2024'), '2024-02-29');
  });

  test('whole numbers: digits and a sign, at most 15 digits, never changed to another value', () => {
    assert.equal(parseInteger('5400'), 5400);
    assert.equal(parseInteger('+7'), 7);
    assert.equal(parseInteger('-999999999999999'), -999999999999999);
    for (const bad of ['5,4', '5,400', '1000000000000000', '1e3', '1.0', '12 000', '']) {
      assert.equal(parseInteger(bad), undefined, bad);
    }
    assert.match(String(value(col({ type: 'integer' }), '5,4')), /not a whole number/);
  });

  test('amounts: a decimal point, no thousands separator, no exponent, at most 15 digits', () => {
    assert.equal(parseNumber('1200000.50'), 1200000.5);
    assert.equal(parseNumber('-3500'), -3500);
    assert.equal(parseNumber('.5'), 0.5);
    assert.equal(parseNumber('123456789.012345'), 123456789.012345);
    for (const bad of ['15,20', '152,000', '1e3', '$12', '1234567890.1234567', 'NaN', 'Infinity']) {
      assert.equal(parseNumber(bad), undefined, bad);
    }
  });

  test('patterns: letters in any case, stored upper-case', () => {
    const receipt = col({ type: 'pattern', pattern: /^[A-Z]{3}\d{10}$/, hint: '3 letters and 10 digits' });
    assert.equal(value(receipt, 'wac2619012345'), 'WAC2619012345');
    assert.match(String(value(receipt, 'WAC12')), /3 letters and 10 digits/);
  });

  test('keys: at most 100 characters; compared exactly as sent after trimming', () => {
    const key = col({ type: 'text', key: true, required: true });
    assert.equal(value(key, ` ${'k'.repeat(100)} `), 'k'.repeat(100));
    assert.match(String(value(key, 'k'.repeat(101))), /at most 100 characters \(this one has 101\)/);
    assert.notEqual(value(key, 'E1'), value(key, 'e1'));
  });

  test('countries: names, codes, ISO short and full names, stored as the canonical name', () => {
    const c = col({ type: 'country' });
    for (const v of ['South Korea', 'KOR', 'kr', 'Korea (the Republic of)', 'Korea, Republic of']) {
      assert.equal(value(c, v), 'South Korea', v);
    }
    assert.equal(value(c, 'Socialist Republic of Viet Nam'), 'Vietnam');
    assert.match(String(value(c, 'Atlantis')), /country list/);
  });

  test('a row key of several parts is one Map key that no character in a part can forge', () => {
    assert.notEqual(tupleKey(['X\u0001Y', 'Z']), tupleKey(['X', 'Y\u0001Z']));
    assert.notEqual(tupleKey(['1:a', 'b']), tupleKey(['1', ':ab']));
    assert.notEqual(tupleKey([12, 'a']), tupleKey([1, '2a']));
    assert.equal(tupleKey(['a', 'b']), tupleKey(['a', 'b']));
  });
});

describe('rows', () => {
  const people = templateNamed('fn_Details_Data_import');
  const cases = templateNamed('case_Details_Data_import');
  const row = (t: typeof people, text: string) => {
    const r = new CsvReader(t.columns.length);
    r.push(`${header(t).join(',')}\n${text}\n`);
    r.end();
    r.next();
    return r.next()!;
  };

  test('every problem of a row is reported, with its column and value', () => {
    const cells = rowOf(people, { SSN: 'bad', DateOfBirth: '02/30/1990', Gender: 'Robot' });
    const r = checkRow(people, row(people, cells.join(',')), ctx);
    assert.deepEqual(r.problems.map((p) => p.column).sort(), ['DateOfBirth', 'Gender', 'SSN']);
    assert.equal(r.mapped, true, 'still checked against the store (parent, references)');
    assert.deepEqual(r.parentKeys, ['ACME']);
    assert.equal(r.values.employee_id, 'E1');
  });

  test('a control character rejects the cell; a tab or line break in a quoted cell only in a non-key column', () => {
    const cells = rowOf(people, {});
    cells[1] = 'E\u00011';
    let r = checkRow(people, row(people, cells.join(',')), ctx);
    assert.deepEqual(
      r.problems.map((p) => [p.column, p.message]),
      [['EmployeeID', 'the cell holds the control character U+0001']],
    );
    assert.equal(r.values.employee_id, undefined, 'the key is not used');
    const quoted = rowOf(people, {}).map((c, i) => (i === 1 || i === 16 ? `"${c}\tx"` : c));
    r = checkRow(people, row(people, quoted.join(',')), ctx);
    assert.deepEqual(
      r.problems.map((p) => p.column),
      ['EmployeeID'],
      'the tab in Department (quoted, not a key) is allowed',
    );
    assert.match(r.problems[0].message, /a key: it cannot hold a tab or a line break/);
  });

  test('a row of the wrong width or a malformed line: one problem, not checked against the store', () => {
    const r = checkRow(people, row(people, 'ACME,E1,x'), ctx);
    assert.equal(r.mapped, false);
    assert.match(r.problems[0].message, /3 cells but the header has 28 columns/);
    const q = checkRow(people, row(people, 'ACME,"E1"x,y'), ctx);
    assert.equal(q.mapped, false);
    assert.match(q.problems[0].message, /text follows the closing quote/);
  });

  test('an inactive petition is marked for the store to decide (a record that names it may keep it)', () => {
    const r = checkRow(cases, row(cases, rowOf(cases, { PetID: 'old-pet' }).join(',')), ctx);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.inactive, [{ column: 'PetID', field: 'pet_id', value: 'OLD-PET' }]);
  });
});

describe('file names', () => {
  test('a numeric suffix of any length is accepted and ordered as a number', () => {
    const names = [
      'fn_Passport_Details_import_20261120_100000000000000000001.csv',
      'fn_Passport_Details_import_20261120_99999999999999999999.csv',
      'fn_Passport_Details_import_20261120_0002.csv',
      'fn_Passport_Details_import_20261120.csv',
      'company_Details_import_20261121.csv',
    ];
    const sorted = names
      .map((n) => ({ n, r: recogniseFileName(n) }))
      .sort((a, b) => compareForRun(a.r, b.r))
      .map((x) => x.n);
    assert.deepEqual(sorted, [names[4], names[3], names[2], names[1], names[0]]);
  });
});
