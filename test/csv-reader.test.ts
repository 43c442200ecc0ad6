// The CSV reader alone: RFC 4180 as papaparse reads it for well-formed text, the contract's rules for
// malformed lines (a broken quote costs only its own line), the limits, and linear, bounded reading.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Papa from 'papaparse';
import { CsvReader, type CsvRow, type ReaderLimits } from '../src/ingest/csv-reader.js';

/** All rows of `text`, fed in pieces of `piece` characters. */
function read(text: string, columns: number, piece = 7, limits?: ReaderLimits): CsvRow[] {
  const r = new CsvReader(columns, limits);
  const out: CsvRow[] = [];
  const drain = () => {
    for (let row = r.next(); row; row = r.next()) out.push(row);
  };
  for (let i = 0; i < text.length; i += piece) {
    r.push(text.slice(i, i + piece));
    drain();
  }
  r.end();
  drain();
  return out;
}

const rowsOf = (rows: CsvRow[]) => rows.map((r) => [r.row, r.cells, r.problems?.map((p) => p.cell) ?? []]);

describe('CSV reader', () => {
  test('reads well-formed CSV exactly as papaparse does, whatever the chunk boundaries', () => {
    // A seeded generator of awkward but valid files: quotes, doubled quotes, commas and line breaks
    // inside quoted cells, empty cells, CRLF and LF.
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['a', 'b c', '', ' ', 'x"y', 'é', '1/5/2026', '=1+2'];
    for (let file = 0; file < 200; file++) {
      const columns = 1 + rand(5);
      const eol = rand(2) ? '\r\n' : '\n';
      const lines: string[] = [];
      const expected: string[][] = [];
      for (let l = 0; l < 1 + rand(8); l++) {
        const cells: string[] = [];
        for (let c = 0; c < columns; c++) {
          let v = pieces[rand(pieces.length)];
          if (rand(4) === 0) v = `${v},${pieces[rand(pieces.length)]}`;
          if (rand(5) === 0) v = `${v}\n${pieces[rand(pieces.length)]}`;
          if (rand(6) === 0) v = `"${v}"`;
          cells.push(v);
        }
        if (cells.every((c) => c.trim() === '')) cells[0] = 'z';
        const quote = (c: string) => (/[",\n\r]/.test(c) || rand(3) === 0 ? `"${c.replace(/"/g, '""')}"` : c);
        let text = cells.map(quote).join(',');
        // A line inside a quoted cell that is a row of the file's width on its own makes the reader
        // reject the first line (see the swallowed-rows test): keep such rows on one line here.
        if (
          text
            .split('\n')
            .slice(1)
            .some((l) => l.split(',').length === columns && l.trim() !== '')
        ) {
          for (let c = 0; c < cells.length; c++) cells[c] = cells[c].replace(/\n/g, ' ');
          text = cells.map(quote).join(',');
        }
        expected.push(cells);
        lines.push(text);
      }
      const text = lines.join(eol) + (rand(2) ? eol : '');
      const papa = Papa.parse<string[]>(text, { delimiter: ',', newline: eol as '\n' }).data;
      for (const piece of [1, 3, 64, 100000]) {
        const got = read(text, columns, piece);
        assert.deepEqual(
          got.map((r) => r.cells),
          papa.filter((cells) => !cells.every((c) => c.trim() === '')),
          `file ${file}, pieces of ${piece}: ${JSON.stringify(text)}`,
        );
        assert.deepEqual(
          got.map((r) => r.cells),
          expected,
        );
        assert.ok(got.every((r) => !r.problems));
      }
    }
  });

  test('row numbers are spreadsheet rows: blank lines count, quoted line breaks do not', () => {
    const rows = read('h1,h2\na,"multi\nline"\n\n   \n,,\nb,c\r\nd,e\rf,g', 2);
    assert.deepEqual(
      rows.map((r) => [r.row, r.cells]),
      [
        [1, ['h1', 'h2']],
        [2, ['a', 'multi\nline']],
        [6, ['b', 'c']],
        [7, ['d', 'e']],
        [8, ['f', 'g']],
      ],
    );
    assert.deepEqual(rows[1].breaks, [1]);
  });

  test('an unclosed quote rejects its own line only; the rows after it are read as usual', () => {
    const body = Array.from({ length: 50 }, (_, i) => `E${i},name ${i},x`).join('\n');
    const rows = read(`h,n,x\nE0,"broken,x\n${body}\n`, 3);
    assert.equal(rows.length, 52);
    assert.deepEqual(rows[1].problems?.[0].cell, -1);
    assert.match(rows[1].problems?.[0].message ?? '', /never closed into a well-formed row/);
    assert.deepEqual(rows[1].cells, ['E0,"broken,x']);
    assert.deepEqual(
      rows.slice(2).map((r) => r.cells[0]),
      Array.from({ length: 50 }, (_, i) => `E${i}`),
    );
    assert.ok(rows.slice(2).every((r) => !r.problems));
    assert.deepEqual(
      rows.map((r) => r.row),
      Array.from({ length: 52 }, (_, i) => i + 1),
    );
  });

  test('a quote that closes lines later, into a row of the wrong shape, swallows nothing', () => {
    // The quote opened on row 2 closes on row 5 ("...,"x"): RFC parsers make one row of rows 2-5.
    const rows = read('a,b,c\n1,"open,x\n2,y,z\n3,y,z\n4,"x",z\n', 3);
    assert.deepEqual(rowsOf(rows), [
      [1, ['a', 'b', 'c'], []],
      [2, ['1,"open,x'], [-1]],
      [3, ['2', 'y', 'z'], []],
      [4, ['3', 'y', 'z'], []],
      [5, ['4', 'x', 'z'], []],
    ]);
  });

  test('a stray quote rows later cannot close an unclosed one and swallow the rows between', () => {
    // The review's file: SW1 opens a quote; SW6's inch mark would close it into a row of 3 cells.
    const rows = read(
      'id,name,x\nSW1,"Acme Inc,\nSW2,Beta 2,\nSW3,Beta 3,\nSW6,Height 5\'11",\nSW7,Gamma,\n',
      3,
    );
    assert.deepEqual(rowsOf(rows), [
      [1, ['id', 'name', 'x'], []],
      [2, ['SW1,"Acme Inc,'], [-1]],
      [3, ['SW2', 'Beta 2', ''], []],
      [4, ['SW3', 'Beta 3', ''], []],
      [5, ['SW6', 'Height 5\'11"', ''], []],
      [6, ['SW7', 'Gamma', ''], []],
    ]);
    assert.match(rows[1].problems?.[0].message ?? '', /closed only lines later/);
    // A real multi-line cell whose lines are no rows of their own is still one row.
    const ok = read('id,notes,x\n1,"line one, and\nline two",z\n', 3);
    assert.deepEqual(ok[1].cells, ['1', 'line one, and\nline two', 'z']);
  });

  test('a quoted line break that makes a well-formed row is one row', () => {
    const rows = read('a,b,c\n1,"two\nlines",z\n2,y,z\n', 3);
    assert.deepEqual(rowsOf(rows), [
      [1, ['a', 'b', 'c'], []],
      [2, ['1', 'two\nlines', 'z'], []],
      [3, ['2', 'y', 'z'], []],
    ]);
  });

  test('a stray quote inside an unquoted cell is a character; text after a closing quote rejects the row', () => {
    const rows = read('a,b\nLead "Bot" Eng,x\n"Engi"neer,y\nok,z\n', 2);
    assert.deepEqual(rows[1].cells, ['Lead "Bot" Eng', 'x']);
    assert.equal(rows[1].problems, undefined);
    assert.deepEqual(rows[2].problems?.[0].cell, -1);
    assert.match(rows[2].problems?.[0].message ?? '', /text follows the closing quote/);
    assert.deepEqual(rows[3].cells, ['ok', 'z']);
  });

  test('control characters reject the cell, except tab and line breaks inside a quoted cell', () => {
    const rows = read('a,b\nx\u0001y,1\n"tab\there",2\nun\tquoted,3\n"nul\u0000",4\n', 2);
    assert.deepEqual(rows[1].problems, [{ cell: 0, message: 'the cell holds the control character U+0001' }]);
    assert.equal(rows[2].problems, undefined);
    assert.deepEqual(rows[2].breaks, [0]);
    assert.match(
      rows[3].problems?.[0].message ?? '',
      /U\+0009 \(a tab is allowed only inside a quoted cell\)/,
    );
    assert.equal(rows[4].problems?.[0].cell, 0);
  });

  test('limits: a long cell, too many cells, a line too long to hold', () => {
    const limits = { maxRowChars: 1000, maxCellChars: 50, maxCells: 10 };
    const long = 'y'.repeat(51);
    const rows = read(
      `a,b\n${long},1\n${','.repeat(10)}x\n${'z'.repeat(5000)}\nok,2\n"${long}",3\n`,
      2,
      64,
      limits,
    );
    assert.deepEqual(
      rows.map((r) => [r.row, r.problems?.map((p) => p.cell)]),
      [
        [1, undefined],
        [2, [0]],
        [3, [-1]],
        [4, [-1]],
        [5, undefined],
        [6, [0]],
      ],
    );
    assert.match(rows[2].problems?.[0].message ?? '', /11 cells; a row may have at most 10/);
    assert.match(rows[3].problems?.[0].message ?? '', /longer than 1,000 characters \(5,000; it begins "zzz/);
    assert.deepEqual(rows[3].cells, []);
    assert.deepEqual(rows[4].cells, ['ok', '2']);
  });

  test('a line far longer than a row may be is skipped without being held', () => {
    const limits = { maxRowChars: 1000, maxCellChars: 50, maxCells: 10 };
    const r = new CsvReader(2, limits);
    r.push('a,b\n');
    assert.deepEqual(r.next()?.cells, ['a', 'b']);
    let held = 0;
    for (let i = 0; i < 2000; i++) {
      r.push(','.repeat(500));
      assert.equal(r.next(), undefined);
      held = Math.max(held, (r as unknown as { buf: string }).buf.length);
    }
    r.push('\nok,1\n');
    r.end();
    const skipped = r.next();
    assert.equal(skipped?.row, 2);
    assert.match(skipped?.problems?.[0].message ?? '', /1,000,000/);
    assert.deepEqual(r.next()?.cells, ['ok', '1']);
    assert.ok(held <= 1000 + 1000, `held ${held} characters`);
  });

  test('reading stays linear after an unclosed quote (characters examined, not time)', () => {
    // 16,000 rows after an unclosed quote: an RFC parser restarted at each line re-reads the rest.
    for (const lines of [4000, 16000]) {
      const body = Array.from({ length: lines }, (_, i) => `E${i},"name ${i}",x`).join('\n');
      const text = `h,n,x\nE,"open\n${body}\n`;
      const r = new CsvReader(3);
      let rows = 0;
      for (let i = 0; i < text.length; i += 65536) {
        r.push(text.slice(i, i + 65536));
        while (r.next()) rows++;
      }
      r.end();
      while (r.next()) rows++;
      assert.equal(rows, lines + 2);
      assert.ok(r.scanned < text.length * 4, `${r.scanned} characters examined for ${text.length}`);
    }
  });

  test('lines that each open a quote: every line costs its own length', () => {
    const text = `h,n\n${'x,"a\n'.repeat(20000)}`;
    const r = new CsvReader(2);
    r.push(text);
    r.end();
    let rows = 0;
    while (r.next()) rows++;
    assert.equal(rows, 20001);
    assert.ok(r.scanned < text.length * 4, `${r.scanned} characters examined for ${text.length}`);
  });
});
