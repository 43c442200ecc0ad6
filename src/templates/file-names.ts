// Recognising an import file's template from its name: <prefix>_YYYYMMDD[_n].csv, a real date.
import path from 'node:path';
import { fileNameRefused } from '../errors.js';
import { IMPORT_TEMPLATES } from './import-templates.js';
import type { ImportTemplate } from './types.js';

export interface RecognisedFile {
  template: ImportTemplate;
  /** The date in the name, YYYY-MM-DD. */
  fileDate: string;
  /** The `_n` suffix as digits without leading zeros ('0' when absent): any length, compared as a number. */
  sequence: string;
}

const NAME = /^(.+)_(\d{4})(\d{2})(\d{2})(?:_(\d+))?\.csv$/i;

export function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || y < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

export function recogniseFileName(fileName: string): RecognisedFile {
  const base = path.basename(fileName);
  const m = NAME.exec(base);
  if (!m) {
    throw fileNameRefused(
      base,
      'expected <template>_YYYYMMDD.csv, e.g. fn_Passport_Details_import_20260120.csv',
    );
  }
  const [, prefix, ys, ms, ds, seq] = m;
  const template = IMPORT_TEMPLATES.find((t) => t.name.toLowerCase() === prefix.toLowerCase());
  if (!template) {
    throw fileNameRefused(
      base,
      `"${prefix}" is not an import template (${IMPORT_TEMPLATES.map((t) => t.name).join(', ')})`,
    );
  }
  const y = Number(ys);
  const mo = Number(ms);
  const d = Number(ds);
  if (!isRealDate(y, mo, d)) throw fileNameRefused(base, `${ys}${ms}${ds} is not a calendar date`);
  return { template, fileDate: `${ys}-${ms}-${ds}`, sequence: seq ? seq.replace(/^0+(?=\d)/, '') : '0' };
}

/** Two numbers written as digits, of any length: the longer is larger, else the first digit that differs. */
function compareDigits(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Orders files the way a run processes them: template order, older file dates, then the suffix. */
export function compareForRun(a: RecognisedFile, b: RecognisedFile): number {
  return (
    a.template.order - b.template.order ||
    a.fileDate.localeCompare(b.fileDate) ||
    compareDigits(a.sequence, b.sequence)
  );
}

/**
 * A text key that sorts files as compareForRun does (template order, file date, suffix); names that
 * match no template sort after every template, by name.
 */
export function runOrderKey(fileName: string): string {
  try {
    const r = recogniseFileName(fileName);
    const seq = r.sequence.length > 9 ? r.sequence : r.sequence.padStart(9, '0');
    return `${String(r.template.order).padStart(3, '0')}|${r.fileDate}|${String(seq.length).padStart(6, '0')}${seq}`;
  } catch {
    return `999|${path.basename(fileName)}`;
  }
}
