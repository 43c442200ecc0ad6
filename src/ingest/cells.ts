// Reading one cell: trimming, the Zoom No Update keyword, blanks, and each column type's rules.
// Pure functions: a value in, a stored value or a problem out.
import type { FirmKb } from '../kb/firm-kb.js';
import { isRealDate } from '../templates/file-names.js';
import type { Column } from '../templates/types.js';

/** What a record table stores: text, a number (integers, numbers, Y/N as 1/0) or nothing. */
export type StoredValue = string | number | null;

/** The Zoom No Update keyword: keep what is stored. */
export const KEEP: unique symbol = Symbol('ZoomNoUpdate');
export type CellValue = StoredValue | typeof KEEP;

export type CellResult = { ok: true; value: CellValue } | { ok: false; message: string };

const ok = (value: CellValue): CellResult => ({ ok: true, value });
const bad = (message: string): CellResult => ({ ok: false, message });

export const ZOOM_NO_UPDATE = /^zoom no update$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
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
  if (!isRealDate(y, m, d)) return undefined;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function parseYesNo(s: string): number | undefined {
  const v = s.toLowerCase();
  if (YES.has(v)) return 1;
  if (NO.has(v)) return 0;
  return undefined;
}

/** Numbers as sent by spreadsheets: thousands separators are accepted, currency signs are not. */
export function parseNumber(s: string): number | undefined {
  const plain = /^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/.test(s) ? s.replace(/,/g, '') : s;
  if (!NUMBER.test(plain)) return undefined;
  const n = Number(plain);
  return Number.isFinite(n) ? n : undefined;
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
      return d ? ok(d) : bad(`"${raw}" is not a date: use MM/DD/YYYY or YYYY-MM-DD (a real calendar date)`);
    }
    case 'yesno': {
      const b = parseYesNo(raw);
      return b === undefined ? bad(`"${raw}" is not Yes/No: use Y, N, Yes, No, True, False, 1 or 0`) : ok(b);
    }
    case 'integer': {
      const n = INTEGER.test(raw.replace(/,/g, '')) ? Number(raw.replace(/,/g, '')) : Number.NaN;
      return Number.isSafeInteger(n) ? ok(n) : bad(`"${raw}" is not a whole number`);
    }
    case 'number': {
      const n = parseNumber(raw);
      return n === undefined ? bad(`"${raw}" is not a number`) : ok(n);
    }
    case 'country': {
      const c = kb.lookup('countries', raw);
      return c
        ? ok(c)
        : bad(`"${raw}" is not a country of the country list (a name, or an ISO alpha-2/alpha-3 code)`);
    }
    case 'kb': {
      const v = kb.lookup(col.list!, raw);
      return v !== undefined ? ok(v) : bad(`"${raw}" is not an entry of the knowledge-base list ${col.list}`);
    }
    case 'pattern':
      return col.pattern!.test(raw) ? ok(raw) : bad(`"${raw}" is not of the form ${col.hint}`);
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
  return parseTyped(col, raw, ctx.kb);
}
