// Validating one row of a template: every cell, every problem, plus the checks between cells of the
// same row (custom data against its field's type, list values of a list field). Pure.
import type { Column, ImportTemplate } from '../templates/types.js';
import { type CellContext, type CellValue, KEEP, parseCell, parseTyped } from './cells.js';

export interface RowProblem {
  column: string;
  value: string;
  message: string;
}

export interface ValidRow {
  /** Stored field -> value (KEEP for Zoom No Update). */
  values: Record<string, CellValue>;
  /** Parent columns as sent (EmployerID, EmployeeID). */
  parentKeys: string[];
}

export type RowCheck = { ok: true; row: ValidRow } | { ok: false; problems: RowProblem[] };

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

export function checkRow(t: ImportTemplate, cells: readonly string[], ctx: CellContext): RowCheck {
  const problems: RowProblem[] = [];
  if (cells.length !== t.columns.length) {
    problems.push({
      column: '',
      value: '',
      message: `the row has ${cells.length} cells but the header has ${t.columns.length} columns`,
    });
    return { ok: false, problems };
  }
  const values: Record<string, CellValue> = {};
  const parentKeys: string[] = [];
  t.columns.forEach((col, i) => {
    const cell = cells[i];
    const r = parseCell(col, cell, ctx);
    if (!r.ok) {
      problems.push({ column: col.name, value: cell, message: r.message });
      return;
    }
    if (col.parent) parentKeys.push(r.value as string);
    else values[col.field!] = r.value;
  });
  crossCellChecks(t, cells, values, problems, ctx);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, row: { values, parentKeys } };
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
