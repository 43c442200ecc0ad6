// Writing one exported cell: stored values to the contract's forms (dates in the firm's format, Y/N,
// numbers that import back to the same value, canonical country names), computed cells (DaysToExpiry,
// LastModified), and the spreadsheet-formula rule. Pure functions: a value in, the cell's text out.
import type { ExportDateFormat } from '../store/firms.js';
import type { ExportColumn, ExportTemplate } from '../templates/export-templates.js';
import { daysFrom, isoWithOffset } from '../time/zones.js';
import { type ExportRecord, recordLayout } from './record.js';

export type { ExportRecord } from './record.js';

export interface FormatContext {
  dateFormat: ExportDateFormat;
  timezone: string;
  /** Today in the firm's time zone, as a day number, for DaysToExpiry. */
  today: number;
}

// Cells a spreadsheet would run: =, @, tab and CR always; + and - unless the cell is a number (as
// JavaScript writes one, e.g. -42, -3.5, -1e-7) or has nothing after the sign but digits, spaces, dots,
// dashes and parentheses (a phone number, or a lone "-" placeholder): without a letter there is no
// function, reference or DDE call to run, and such cells are data that must stay intact.
const ALWAYS_FORMULA = /^[=@\t\r]/;
const SIGNED = /^[+-]/;
const PLAIN_NUMBER = /^[+-](\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const PHONE = /^[+-][\d\s().-]*$/;

const EQUALS = 61;
const AT = 64;
const TAB = 9;
const CR = 13;
const PLUS = 43;
const MINUS = 45;

/**
 * Neutralises a cell that a spreadsheet would evaluate as a formula by prefixing a single quote, which
 * spreadsheets show as text. Documented in docs/export.md. Real data such as +1 555 0100 and -42 is kept.
 */
export function neutraliseFormula(cell: string): string {
  const c = cell.charCodeAt(0);
  // Most cells start with none of the six characters: one comparison chain, no regex.
  if (c !== EQUALS && c !== AT && c !== TAB && c !== CR && c !== PLUS && c !== MINUS) return cell;
  if (ALWAYS_FORMULA.test(cell)) return `'${cell}`;
  if (SIGNED.test(cell) && !PLAIN_NUMBER.test(cell) && !PHONE.test(cell)) return `'${cell}`;
  return cell;
}

/** A stored YYYY-MM-DD date in the firm's export format. */
export function formatDate(stored: string, format: ExportDateFormat): string {
  if (format === 'YYYY-MM-DD') return stored;
  const isIso = stored.length === 10 && stored.charCodeAt(4) === MINUS && stored.charCodeAt(7) === MINUS;
  return isIso ? `${stored.slice(5, 7)}/${stored.slice(8, 10)}/${stored.slice(0, 4)}` : stored;
}

// Plain decimal, at most 15 significant digits: what an import accepts (no exponent, no grouping).
const PLAIN = new Intl.NumberFormat('en-US', { useGrouping: false, maximumSignificantDigits: 15 });

/**
 * Numbers in a form the importer reads back: every stored number came from an import (at most 15
 * digits), and JavaScript writes those as they were sent, except very small or large ones
 * (1e-7), which are written out in full.
 */
export function formatNumber(value: unknown): string {
  if (typeof value !== 'number') return String(value).trim();
  const s = String(value);
  return s.length <= 16 && s.indexOf('e') < 0 ? s : PLAIN.format(value);
}

/** Y/N from the stored 1/0 (true/false from drivers that map booleans). */
export function formatYesNo(value: unknown): string {
  return value === 1 || value === true || value === '1' ? 'Y' : 'N';
}

/** The latest of the ISO UTC timestamps, ignoring nulls (ISO UTC text orders as time does). */
export function latest(stamps: ReadonlyArray<string | null>): string | null {
  let max: string | null = null;
  for (const s of stamps) if (s !== null && s !== undefined && (max === null || s > max)) max = s;
  return max;
}

type CellWriter = (value: unknown, record: ExportRecord) => string;

function writerFor(col: ExportColumn, ctx: FormatContext, updatedKeys: readonly number[]): CellWriter {
  switch (col.type) {
    case 'date':
      return (v) => formatDate(String(v), ctx.dateFormat);
    case 'yesno':
      return formatYesNo;
    case 'integer':
    case 'number':
      return formatNumber;
    case 'id':
      return (v) => String(v);
    case 'days-to-expiry':
      return (v) => {
        const days = daysFrom(ctx.today, String(v));
        return days === undefined ? '' : String(days);
      };
    case 'last-modified': {
      // Rows written by one import batch share their timestamp: remember the last one formatted.
      let lastAt: string | null = null;
      let lastCell = '';
      const stamps = new Array<string | null>(updatedKeys.length);
      return (_v, rec) => {
        for (let j = 0; j < updatedKeys.length; j++) stamps[j] = rec[updatedKeys[j]] as string | null;
        const at = latest(stamps);
        if (at === null) return '';
        if (at !== lastAt) {
          lastAt = at;
          lastCell = isoWithOffset(new Date(at), ctx.timezone);
        }
        return lastCell;
      };
    }
    default:
      return (v) => String(v);
  }
}

/**
 * Formats records of a template: one function built per export, applied to every row. The cells go
 * into `into` when given (an array reused from row to row by the caller), else into a new array.
 */
export function rowFormatter(
  t: ExportTemplate,
  ctx: FormatContext,
): (record: ExportRecord, into?: string[]) => string[] {
  const layout = recordLayout(t);
  const writers = t.columns.map((c) => writerFor(c, ctx, layout.updated));
  const keys = layout.values;
  const n = writers.length;
  return (record, into) => {
    const out = into ?? new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      // Computed columns (no stored value) are always written; stored blanks are empty cells.
      const v = k === undefined ? undefined : record[k];
      out[i] =
        k !== undefined && (v === null || v === undefined) ? '' : neutraliseFormula(writers[i](v, record));
    }
    return out;
  };
}

/**
 * Formats a chunk of records into rows of cells for the CSV writer, reusing the row arrays of the
 * previous chunk: what it returns is valid until the next call.
 */
export function chunkFormatter(
  t: ExportTemplate,
  ctx: FormatContext,
): (records: readonly ExportRecord[]) => string[][] {
  const format = rowFormatter(t, ctx);
  const rows: string[][] = [];
  return (records) => {
    for (let r = rows.length; r < records.length; r++) rows.push(new Array<string>(t.columns.length));
    rows.length = records.length;
    for (let r = 0; r < records.length; r++) format(records[r], rows[r]);
    return rows;
  };
}
