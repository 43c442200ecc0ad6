// The shape of one record as read for an export: a flat row as the database driver returns it, as an
// array of the query's columns (no object per row, no property per cell): the stored values of the
// template's columns in column order, then the updated_at of the row and of each record it shows. The
// query selects its columns and the formatter reads them through this one layout, so the two cannot
// drift apart, and no row is copied into another structure between the driver and the CSV writer.
import { type ExportRelation, type ExportTemplate, SHOWN_RELATIONS } from '../templates/export-templates.js';

/** One record as read: see the layout below for where each value is. */
export type ExportRecord = ReadonlyArray<unknown>;

export interface RecordLayout {
  /** Per template column, the index of its stored value; undefined for computed columns (LastModified). */
  values: ReadonlyArray<number | undefined>;
  /** Indexes of the updated_at (ISO UTC) of the row, then of each shown record (null where none is shown). */
  updated: readonly number[];
  /** The shown relations, in the order of `updated` after the row's own. */
  shown: readonly ExportRelation[];
}

/** Relations a template reads from, in column order. */
export function relationsOf(t: ExportTemplate): ExportRelation[] {
  const used = new Set<ExportRelation>();
  for (const c of t.columns) if (c.source) used.add(c.source.relation);
  return [...used];
}

export function recordLayout(t: ExportTemplate): RecordLayout {
  const used = relationsOf(t);
  const shown = SHOWN_RELATIONS.filter((r) => used.includes(r));
  let n = 0;
  const values = t.columns.map((c) => (c.source ? n++ : undefined));
  return { values, updated: [n, ...shown.map((_, j) => n + 1 + j)], shown };
}

/** A record from its values (one per template column) and updated_at stamps, as a query would return it. */
export function recordOf(
  t: ExportTemplate,
  values: readonly unknown[],
  updated: ReadonlyArray<string | null>,
): ExportRecord {
  const layout = recordLayout(t);
  const rec: unknown[] = [];
  layout.values.forEach((k, i) => {
    if (k !== undefined) rec[k] = values[i];
  });
  layout.updated.forEach((k, j) => {
    rec[k] = updated[j] ?? null;
  });
  return rec;
}
