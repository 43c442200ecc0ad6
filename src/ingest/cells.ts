// Reading one cell: trimming, the Zoom No Update keyword, blanks, and each column type's rules.
// Pure functions: a value in, a stored value or a problem out.
import type { FirmKb } from '../kb/firm-kb.js';
import { isRealDate } from '../templates/file-names.js';
import { MAX_KEY_CHARS, MAX_NUMBER_DIGITS, MAX_YEAR, MIN_YEAR } from '../templates/limits.js';
import type { Column } from '../templates/types.js';

/** What a record table stores: text, a number (integers, numbers, Y/N as 1/0) or nothing. */
export type StoredValue = string | number | null;

/** The Zoom No Update keyword: keep what is stored. */
export const KEEP: unique symbol = Symbol('ZoomNoUpdate');
export type CellValue = StoredValue | typeof KEEP;

/** A parsed cell; `inactive` when it names an inactive petition or case manager (see rows.ts). */
export type CellResult = { ok: true; value: CellValue; inactive?: true } | { ok: false; message: string };

const ok = (value: CellValue): CellResult => ({ ok: true, value });
const bad = (message: string): CellResult => ({ ok: false, message });

/** Any case, any run of spaces between the words (a no-break space from a spreadsheet too). */
export const ZOOM_NO_UPDATE = /^zoom[ \u00a0]+no[ \u00a0]+update$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INTEGER = /^[+-]?\d+$/;
/** An amount: digits with an optional sign and decimal point; no thousands separator, no exponent. */
const AMOUNT = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const YES = new Set(['y', 'yes', 'true', '1']);
const NO = new Set(['n', 'no', 'false', '0']);

/** MM/DD/YYYY or YYYY-MM-DD to YYYY-MM-DD; undefined for anything else or an impossible date. */
export function parseDate(s: string): string | undefined {
  let y: number;
  let m: number;
  let d: number;
  const us = US_DATE.exec(s);
  if (us) [m, d, y] = [Number(us[1]), Number(us[2]), Number(us[3])];
  else {
    const iso = ISO_DATE.exec(s);
    if (!iso) return undefined;
    [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  }
  if (y < MIN_YEAR || y > MAX_YEAR || !isRealDate(y, m, d)) return undefined;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function parseYesNo(s: string): number | undefined {
  const v = s.toLowerCase();
  if (YES.has(v)) return 1;
  if (NO.has(v)) return 0;
  return undefined;
}

const digits = (s: string) => s.replace(/[^0-9]/g, '').length;

/**
 * A whole number: digits with an optional sign, at most 15 digits (what both engines' bigint and a
 * JavaScript number hold exactly). Never changed to another value: "5,4" is not 54.
 */
export function parseInteger(s: string): number | undefined {
  if (!INTEGER.test(s) || digits(s) > MAX_NUMBER_DIGITS) return undefined;
  return Number(s);
}

/** An amount, at most 15 digits, so the stored double reads back as the same value. */
export function parseNumber(s: string): number | undefined {
  if (!AMOUNT.test(s) || digits(s) > MAX_NUMBER_DIGITS) return undefined;
  return Number(s);
}

export interface CellContext {
  kb: FirmKb;
  zoomNoUpdate: boolean;
}

/** A value checked against a plain type (no keyword or blank handling): used for custom data too. */
export function parseTyped(col: Column, raw: string, kb: FirmKb): CellResult {
  switch (col.type) {
    case 'text':
    case 'custom-value':
    case 'list-values':
      return ok(raw);
    case 'date': {
      const d = parseDate(raw);
      return d
        ? ok(d)
        : bad(
            `"${raw}" is not a date: use MM/DD/YYYY or YYYY-MM-DD (a real calendar date, year ${MIN_YEAR}–${MAX_YEAR})`,
          );
    }
    case 'yesno': {
      const b = parseYesNo(raw);
      return b === undefined ? bad(`"${raw}" is not Yes/No: use Y, N, Yes, No, True, False, 1 or 0`) : ok(b);
    }
    case 'integer': {
      const n = parseInteger(raw);
      return n === undefined
        ? bad(
            `"${raw}" is not a whole number: digits with an optional sign, at most ${MAX_NUMBER_DIGITS} digits, no thousands separator`,
          )
        : ok(n);
    }
    case 'number': {
      const n = parseNumber(raw);
      return n === undefined
        ? bad(
            `"${raw}" is not a number: digits with an optional sign and decimal point, at most ${MAX_NUMBER_DIGITS} digits, no thousands separator`,
          )
        : ok(n);
    }
    case 'country': {
      const c = kb.lookup('countries', raw);
      return c
        ? ok(c)
        : bad(`"${raw}" is not a country of the country list (a name, or an ISO alpha-2/alpha-3 code)`);
    }
    case 'kb': {
      const e = kb.entry(col.list!, raw);
      if (!e) return bad(`"${raw}" is not an entry of the knowledge-base list ${col.list}`);
      return e.active ? ok(e.value) : { ok: true, value: e.value, inactive: true };
    }
    case 'pattern': {
      // Letters in any case, stored upper-case (a-12345678 is A12345678).
      const v = raw.toUpperCase();
      return col.pattern!.test(v) ? ok(v) : bad(`"${raw}" is not of the form ${col.hint}`);
    }
  }
}

/** One cell of a row: trims, applies Zoom No Update and blank rules, then the column's type. */
export function parseCell(col: Column, cell: string, ctx: CellContext): CellResult {
  const raw = cell.trim();
  if (ZOOM_NO_UPDATE.test(raw)) {
    if (!ctx.zoomNoUpdate) return bad('the keyword "Zoom No Update" is not enabled for this firm');
    if (col.key) return bad(`${col.name} is a key column: "Zoom No Update" cannot keep a key`);
    return ok(KEEP);
  }
  if (raw === '') return col.required ? bad(`${col.name} is required`) : ok(null);
  if (col.key && raw.length > MAX_KEY_CHARS) {
    return bad(`${col.name} is a key: at most ${MAX_KEY_CHARS} characters (this one has ${raw.length})`);
  }
  return parseTyped(col, raw, ctx.kb);
}
