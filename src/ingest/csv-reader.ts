// Reading CSV text into rows, incrementally, by the contract's rules for malformed lines and limits
// (../shared/spec/templates.md, "Malformed lines" and "Limits"). RFC 4180 quoting, with three things
// no CSV library we measured offers together (papaparse, csv-parse):
// - a quote that opens a cell and does not close into a well-formed row rejects only the line it
//   started on, and reading resumes on the next line, so one stray quote never swallows valid rows;
// - reading stays linear: a row is never re-parsed from its start as more text arrives, and a quoted
//   cell that would span lines is given up after MAX_ROW_CHARS;
// - memory is bounded: a line longer than a row may be is skipped, never held, and a row with more
//   cells than allowed is not split into an array of them.
// Billing counts rows with this reader too (one tokenizer: the count and the parse cannot disagree).
import { MAX_CELL_CHARS, MAX_ROW_CELLS, MAX_ROW_CHARS } from '../templates/limits.js';

export interface ReaderProblem {
  /** Index of the cell the problem is in, or -1 for the row as a whole. */
  cell: number;
  message: string;
}

export interface CsvRow {
  /** The row number a spreadsheet shows: header = 1; a line break inside a quoted cell is no new row. */
  row: number;
  /** The cells as sent (untrimmed); a row that could not be split holds its line as one cell, or none. */
  cells: string[];
  /** What makes the row unusable whatever its columns are: quotes, limits, control characters. */
  problems?: ReaderProblem[];
  /** Quoted cells holding a tab or a line break: allowed, except in a key column. */
  breaks?: number[];
}

export interface ReaderLimits {
  maxRowChars: number;
  maxCellChars: number;
  maxCells: number;
}

export const CONTRACT_LIMITS: ReaderLimits = {
  maxRowChars: MAX_ROW_CHARS,
  maxCellChars: MAX_CELL_CHARS,
  maxCells: MAX_ROW_CELLS,
};

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

// Tab, line breaks and the other C0 controls, and DEL.
const CONTROL = /[\u0000-\u001f\u007f]/;
const BAD_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const hex = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** A few characters of a line for a message, with controls shown as U+ codes. */
function preview(text: string): string {
  const head = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return head.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `<${hex(c)}>`);
}

/** Appends to a list made only when something goes in it (most rows have no problems). */
function add<T>(list: T[] | undefined, item: T): T[] {
  if (!list) return [item];
  list.push(item);
  return list;
}

const fmt = (n: number) => n.toLocaleString('en-US');

type Parsed =
  | { kind: 'row'; cells: string[]; quoted: boolean[]; end: number }
  | { kind: 'more' }
  | { kind: 'broken'; multiLine: boolean; why: string };

/**
 * Splits CSV text into rows. Feed it text with push(), call end() after the last push, and take rows
 * with next() until it returns undefined (then push more, or stop once ended). `columns` is the number
 * of cells a row of the file must have: a quoted line break is believed only if the row it makes has
 * that many cells.
 */
export class CsvReader {
  private buf = '';
  private pos = 0;
  private ended = false;
  private rowNo = 0;
  /** Skipping the rest of a line that is too long to be a row: its row number and length so far. */
  private skip: { row: number; chars: number; head: string } | undefined;
  /** Where the buffer must reach before a quoted row that is still open is parsed again. */
  private waitUntil = 0;
  private readonly lf = new NextChar('\n');
  private readonly cr = new NextChar('\r');
  /** Characters examined, for the test that reading stays linear. */
  scanned = 0;

  constructor(
    private readonly columns: number,
    private readonly limits: ReaderLimits = CONTRACT_LIMITS,
  ) {}

  push(text: string): void {
    if (this.pos > 0 && this.pos >= this.buf.length >> 1) {
      this.buf = this.buf.slice(this.pos);
      this.pos = 0;
      this.waitUntil = 0;
      this.lf.reset();
      this.cr.reset();
    }
    this.buf += text;
  }

  /** Index of the first line break (LF or CR) at or after `from`, or -1. */
  private lineEnd(from: number): number {
    const lf = this.lf.find(this.buf, from);
    const cr = this.cr.find(this.buf, from);
    if (cr < 0) return lf;
    if (lf < 0) return cr;
    return Math.min(lf, cr);
  }

  end(): void {
    this.ended = true;
  }

  /** The next row, or undefined when more text is needed (or, once ended, when there is none). */
  next(): CsvRow | undefined {
    for (;;) {
      if (this.skip) {
        const skipped = this.skipLine();
        if (!skipped) return undefined;
        return skipped;
      }
      const { buf, pos } = this;
      if (pos >= buf.length) return undefined;
      if (this.waitUntil > 0 && buf.length < this.waitUntil && !this.ended) return undefined;
      const eol = this.lineEnd(pos);
      if (eol < 0 && !this.ended) {
        if (buf.length - pos > this.limits.maxRowChars) this.startSkip();
        else return undefined;
        continue;
      }
      const lineStop = eol < 0 ? buf.length : eol;
      if (lineStop - pos > this.limits.maxRowChars) {
        this.startSkip();
        continue;
      }
      const line = buf.slice(pos, lineStop);
      if (line.indexOf('"') < 0) {
        const after = this.afterTerminator(lineStop);
        if (after < 0) return undefined;
        this.scanned += line.length;
        this.pos = after;
        const row = ++this.rowNo;
        if (isBlankLine(line)) continue;
        return this.finish(row, line.split(','), undefined, line);
      }
      const parsed = this.parseQuoted(pos);
      if (parsed.kind === 'more') {
        this.waitUntil = pos + this.limits.maxRowChars + 2;
        return undefined;
      }
      this.waitUntil = 0;
      if (parsed.kind === 'row') {
        this.pos = parsed.end;
        const row = ++this.rowNo;
        if (parsed.cells.every((c) => c.trim() === '')) continue;
        return this.finish(row, parsed.cells, parsed.quoted, line);
      }
      // Broken: the row is its first line alone; reading resumes on the next line.
      const after = this.afterTerminator(lineStop);
      if (after < 0) return undefined;
      this.pos = after;
      const row = ++this.rowNo;
      return { row, cells: [line], problems: [{ cell: -1, message: parsed.why }] };
    }
  }

  /** Index after the line terminator at `at` (CRLF, LF or CR), or -1 until the next text tells. */
  private afterTerminator(at: number): number {
    const { buf } = this;
    if (at >= buf.length) return at;
    if (buf.charCodeAt(at) === CR) {
      if (at + 1 >= buf.length) return this.ended ? at + 1 : -1;
      return buf.charCodeAt(at + 1) === LF ? at + 2 : at + 1;
    }
    return at + 1;
  }

  private startSkip(): void {
    const row = ++this.rowNo;
    this.skip = { row, chars: 0, head: this.buf.slice(this.pos, this.pos + 60) };
  }

  /** Drops text up to the end of an over-long line; the row it was, once its end is found. */
  private skipLine(): CsvRow | undefined {
    const s = this.skip!;
    const eol = this.lineEnd(this.pos);
    if (eol < 0 && !this.ended) {
      s.chars += this.buf.length - this.pos;
      this.scanned += this.buf.length - this.pos;
      this.buf = '';
      this.pos = 0;
      this.lf.reset();
      this.cr.reset();
      return undefined;
    }
    const stop = eol < 0 ? this.buf.length : eol;
    const after = this.afterTerminator(stop);
    if (after < 0) return undefined;
    s.chars += stop - this.pos;
    this.scanned += stop - this.pos;
    this.pos = after;
    this.skip = undefined;
    return {
      row: s.row,
      cells: [],
      problems: [
        {
          cell: -1,
          message:
            `the row is longer than ${fmt(this.limits.maxRowChars)} characters ` +
            `(${fmt(s.chars)}; it begins "${preview(s.head)}") and was not read`,
        },
      ],
    };
  }

  /**
   * One row from `start` by RFC 4180, following quoted line breaks. `broken` when a quote is not closed
   * into a well-formed row: text after a closing quote, no closing quote, over the row limit, or a
   * row across lines whose cell count is not the file's.
   */
  private parseQuoted(start: number): Parsed {
    const { buf, ended, columns } = this;
    const { maxRowChars } = this.limits;
    const cells: string[] = [];
    const quoted: boolean[] = [];
    let multiLine = false;
    let i = start;
    for (;;) {
      if (multiLine && cells.length > columns) {
        return { kind: 'broken', multiLine, why: unclosed };
      }
      if (i >= buf.length) {
        if (!ended) return { kind: 'more' };
        cells.push('');
        quoted.push(false);
        return { kind: 'row', cells, quoted, end: i };
      }
      if (buf.charCodeAt(i) === QUOTE) {
        let j = i + 1;
        let close = -1;
        for (;;) {
          const q = buf.indexOf('"', j);
          const limit = start + maxRowChars;
          if (q < 0 || q > limit) {
            this.scanned += Math.min(buf.length, limit) - j;
            if (q < 0 && !ended && buf.length <= limit) return { kind: 'more' };
            const e = this.lineEnd(j);
            multiLine ||= e >= 0 && e < Math.min(buf.length, limit);
            return { kind: 'broken', multiLine, why: multiLine ? unclosed : neverClosed };
          }
          this.scanned += q + 1 - j;
          if (!multiLine) {
            const e = this.lineEnd(j);
            if (e >= 0 && e < q) multiLine = true;
          }
          if (q + 1 >= buf.length && !ended) return { kind: 'more' };
          if (buf.charCodeAt(q + 1) === QUOTE) {
            j = q + 2;
            continue;
          }
          close = q;
          break;
        }
        const raw = buf.slice(i + 1, close);
        cells.push(raw.indexOf('"') < 0 ? raw : raw.replace(/""/g, '"'));
        quoted.push(true);
        const k = close + 1;
        if (k >= buf.length) return this.rowEnd(start, cells, quoted, multiLine, k);
        const c = buf.charCodeAt(k);
        if (c === COMMA) {
          i = k + 1;
          continue;
        }
        if (c === LF || c === CR) return this.rowEnd(start, cells, quoted, multiLine, k);
        return { kind: 'broken', multiLine, why: multiLine ? unclosed : textAfterQuote };
      }
      // An unquoted cell: up to the next comma or line end; a quote in it is a character.
      let e = i;
      while (e < buf.length) {
        const c = buf.charCodeAt(e);
        if (c === COMMA || c === LF || c === CR) break;
        e++;
      }
      this.scanned += e - i;
      if (e >= buf.length && !ended) return { kind: 'more' };
      if (e - start > maxRowChars) return { kind: 'broken', multiLine, why: unclosed };
      cells.push(buf.slice(i, e));
      quoted.push(false);
      if (e < buf.length && buf.charCodeAt(e) === COMMA) {
        i = e + 1;
        continue;
      }
      return this.rowEnd(start, cells, quoted, multiLine, e);
    }
  }

  /**
   * A row that ends at `at`. One across lines is believed only if it has the file's number of cells and
   * none of the lines it spans after its first is, on its own, a row of that width: otherwise a quote
   * opened on its first line was closed by a stray quote rows later ("5'11"), swallowing those rows.
   */
  private rowEnd(start: number, cells: string[], quoted: boolean[], multiLine: boolean, at: number): Parsed {
    if (multiLine) {
      if (cells.length !== this.columns) return { kind: 'broken', multiLine, why: unclosed };
      const lines = this.buf.slice(start, at).split(/\r\n|\n|\r/);
      for (let l = 1; l < lines.length; l++) {
        const line = lines[l];
        if (!isBlankLine(line) && countCommas(line) === this.columns - 1) {
          return { kind: 'broken', multiLine, why: swallowed };
        }
      }
    }
    const end = this.afterTerminator(at);
    if (end < 0) return { kind: 'more' };
    return { kind: 'row', cells, quoted, end };
  }

  /** Limits and control characters of a split row. */
  private finish(row: number, cells: string[], quoted: boolean[] | undefined, text: string): CsvRow {
    const { maxCells, maxCellChars } = this.limits;
    if (cells.length > maxCells) {
      return {
        row,
        cells: [],
        problems: [
          {
            cell: -1,
            message: `the row has ${fmt(cells.length)} cells; a row may have at most ${fmt(maxCells)}`,
          },
        ],
      };
    }
    let problems: ReaderProblem[] | undefined;
    let breaks: number[] | undefined;
    // A row of one line is checked cell by cell only when the line says it must be.
    const long = quoted !== undefined || text.length > maxCellChars;
    if (long || CONTROL.test(text)) {
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c];
        // The limit is on the value kept: surrounding spaces are trimmed away.
        if (long && cell.length > maxCellChars && cell.trim().length > maxCellChars) {
          problems = add(problems, {
            cell: c,
            message: `the cell has ${fmt(cell.length)} characters; a cell may have at most ${fmt(maxCellChars)}`,
          });
          continue;
        }
        if (!CONTROL.test(cell)) continue;
        const bad = quoted?.[c] ? BAD_CONTROL.exec(cell) : CONTROL.exec(cell);
        if (bad) {
          problems = add(problems, {
            cell: c,
            message:
              `the cell holds the control character ${hex(bad[0])}` +
              (bad[0] === '\t' ? ' (a tab is allowed only inside a quoted cell)' : ''),
          });
        } else breaks = add(breaks, c);
      }
    }
    const out: CsvRow = { row, cells };
    if (problems) out.problems = problems;
    if (breaks) out.breaks = breaks;
    return out;
  }
}

const unclosed =
  'a quoted cell opened on this row is never closed into a well-formed row (an unbalanced quote); ' +
  'the row was not applied and the lines after it were read as rows of their own';
const swallowed =
  'a quoted cell opened on this row is closed only lines later, by a quote in a line that is a row of its ' +
  'own (an unbalanced quote); the row was not applied and the lines after it were read as rows of their own';
const neverClosed = 'a quoted cell is never closed (an unbalanced quote); the row was not applied';
const textAfterQuote =
  'text follows the closing quote of a quoted cell (write "" for a quote inside a quoted cell); ' +
  'the row was not applied';

/**
 * The next occurrence of one character, remembered: a file of LF lines with one CR far ahead (or a
 * file of CR lines) would otherwise search to that character again for every line.
 */
class NextChar {
  private from = 0;
  private at = -1;
  private searched = 0;
  constructor(private readonly ch: string) {}

  reset(): void {
    this.from = 0;
    this.at = -1;
    this.searched = 0;
  }

  find(buf: string, from: number): number {
    if (from >= this.from) {
      if (this.at >= from) return this.at;
      if (this.at < 0) {
        if (this.searched >= buf.length) return -1;
        const at = buf.indexOf(this.ch, Math.max(from, this.searched));
        return this.remember(from, at, buf.length);
      }
    }
    return this.remember(from, buf.indexOf(this.ch, from), buf.length);
  }

  private remember(from: number, at: number, searched: number): number {
    this.from = from;
    this.at = at;
    this.searched = searched;
    return at;
  }
}

function countCommas(line: string): number {
  let n = 0;
  for (let i = line.indexOf(','); i >= 0; i = line.indexOf(',', i + 1)) n++;
  return n;
}

/** A line with nothing but spaces and commas is a blank row of a spreadsheet, not a row of data. */
function isBlankLine(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== COMMA && c !== 9) return false;
  }
  return true;
}
