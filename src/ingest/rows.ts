// Validating one row of a template: every cell, every problem, plus the checks between cells of the
// same row (custom data against its field's type, list values of a list field). Pure.
import type { Column, ImportTemplate } from '../templates/types.js';
import { type CellContext, type CellValue, KEEP, parseCell, parseTyped } from './cells.js';
import type { CsvRow } from './csv-reader.js';

export interface RowProblem {
  column: string;
  value: string;
  message: string;
}

/** A cell naming an inactive petition or case manager: only a record that already names it may keep it. */
export interface InactiveRef {
  column: string;
  field: string;
  value: string;
}

/** A row after every check that needs no store: what parsed, and every problem found. */
export interface CheckedRow {
  /** The spreadsheet row number. */
  row: number;
  /** The cells as sent, for the result file. */
  cells: string[];
  /** Stored field -> value (KEEP for Zoom No Update), for the cells that parsed. */
  values: Record<string, CellValue>;
  /** Parent columns as sent (EmployerID, EmployeeID), or undefined where the cell is invalid. */
  parentKeys: Array<string | undefined>;
  problems: RowProblem[];
  inactive?: InactiveRef[];
  /** False when the cells could not be matched to the columns (wrong count, malformed line). */
  mapped: boolean;
  /** apply.ts's Map key of parentKeys, once made (null: one of them did not parse). */
  parentKey?: string | null;
}

const CUSTOM_TYPES: Record<string, Column['type']> = {
  text: 'text',
  number: 'number',
  date: 'date',
  yesno: 'yesno',
  list: 'text',
};

/** Custom values are stored as text in their canonical form (dates ISO, Y/N, numbers as written). */
function customValue(
  raw: string,
  typeName: string,
  listValues: string[],
  ctx: CellContext,
): string | RowProblem {
  const col: Column = { name: 'FieldValue', type: CUSTOM_TYPES[typeName] ?? 'text' };
  if (typeName === 'list') {
    const hit = listValues.find((v) => v.toLowerCase() === raw.toLowerCase());
    return (
      hit ?? { column: 'FieldValue', value: raw, message: `"${raw}" is not one of: ${listValues.join(', ')}` }
    );
  }
  const r = parseTyped(col, raw, ctx.kb);
  if (!r.ok)
    return { column: 'FieldValue', value: raw, message: `${r.message} (custom field of type ${typeName})` };
  if (typeName === 'yesno') return r.value === 1 ? 'Y' : 'N';
  return String(r.value);
}

/**
 * Checks one row read from a file: the reader's problems (quotes, limits, control characters), then
 * every cell, then the checks between cells. Every problem is reported; the store adds its own
 * (unknown parent, supervisor, kept required value, inactive entry) in apply.ts.
 */
export function checkRow(t: ImportTemplate, src: CsvRow, ctx: CellContext): CheckedRow {
  const { row, cells } = src;
  const out: CheckedRow = { row, cells, values: {}, parentKeys: [], problems: [], mapped: false };
  const badCells = new Set<number>();
  for (const p of src.problems ?? []) {
    const col = t.columns[p.cell];
    out.problems.push({
      column: col?.name ?? '',
      value: col ? visibleValue(cells[p.cell]) : '',
      message: p.message,
    });
    badCells.add(p.cell);
  }
  if (badCells.has(-1)) return out;
  if (cells.length !== t.columns.length) {
    out.problems.push({
      column: '',
      value: '',
      message: `the row has ${cells.length} cells but the header has ${t.columns.length} columns`,
    });
    return out;
  }
  for (const i of src.breaks ?? []) {
    const col = t.columns[i];
    if (!col.key) continue;
    out.problems.push({
      column: col.name,
      value: visibleValue(cells[i]),
      message: `${col.name} is a key: it cannot hold a tab or a line break`,
    });
    badCells.add(i);
  }
  out.mapped = true;
  t.columns.forEach((col, i) => {
    if (badCells.has(i)) {
      if (col.parent) out.parentKeys.push(undefined);
      return;
    }
    const cell = cells[i];
    const r = parseCell(col, cell, ctx);
    if (!r.ok) {
      out.problems.push({ column: col.name, value: cell, message: r.message });
      if (col.parent) out.parentKeys.push(undefined);
      return;
    }
    if (col.parent) out.parentKeys.push(r.value as string);
    else out.values[col.field!] = r.value;
    if (r.inactive)
      out.inactive = [
        ...(out.inactive ?? []),
        { column: col.name, field: col.field!, value: r.value as string },
      ];
  });
  crossCellChecks(t, cells, out.values, out.problems, ctx);
  return out;
}

/** A cell value for a message: at most 200 characters. */
function visibleValue(v: string | undefined): string {
  if (v === undefined) return '';
  return v.length > 200 ? `${v.slice(0, 200)}…` : v;
}

function crossCellChecks(
  t: ImportTemplate,
  cells: readonly string[],
  values: Record<string, CellValue>,
  problems: RowProblem[],
  ctx: CellContext,
): void {
  t.columns.forEach((col, i) => {
    if (col.type === 'custom-value') {
      const name = values.field_name;
      if (typeof name !== 'string') return; // FieldName itself already reported
      const def = ctx.kb.customField(name);
      if (!def) {
        problems.push({
          column: 'FieldName',
          value: name,
          message: `no custom field "${name}" is defined for this firm (caseport kb import custom-fields)`,
        });
        return;
      }
      values.field_name = def.name;
      const v = values[col.field!];
      if (v === null || v === KEEP) return;
      const out = customValue(String(v), def.type, def.listValues, ctx);
      if (typeof out === 'string') values[col.field!] = out;
      else problems.push(out);
    }
    if (col.type === 'list-values') {
      const v = values[col.field!];
      if (values.field_type === 'list' && (v === null || v === '')) {
        problems.push({
          column: col.name,
          value: cells[i],
          message: 'ListValues is required for a list field',
        });
      } else if (typeof v === 'string') {
        values[col.field!] = v
          .split('|')
          .map((s) => s.trim())
          .filter(Boolean)
          .join('|');
      }
    }
  });
}
