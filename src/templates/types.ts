// What a template is, as data: the engine in src/ingest and src/export reads these and nothing else.
import type { RecordTableName } from '../store/schema.js';

/** Knowledge-base lists a cell can be checked against (shipped lists and per-firm lists). */
export type KbListName =
  | 'countries'
  | 'visa-types'
  | 'document-types'
  | 'case-statuses'
  | 'genders'
  | 'marital-statuses'
  | 'employment-statuses'
  | 'employer-statuses'
  | 'contact-types'
  | 'address-types'
  | 'degree-types'
  | 'visa-entries'
  | 'custom-field-types'
  | 'petitions'
  | 'case-managers';

export type CellType =
  | 'text'
  | 'date'
  | 'yesno'
  | 'integer'
  | 'number'
  | 'country'
  | 'kb'
  | 'pattern'
  /** FieldValue of custom data: checked against the type of the field named in the same row. */
  | 'custom-value'
  /** ListValues of a custom field definition: `a|b|c`, required when FieldType is list. */
  | 'list-values';

/** A cell that must name an existing row of another table under the same employer. */
export interface Reference {
  table: RecordTableName;
  field: string;
  where: Record<string, string>;
  /** Said after the value, e.g. "is not a Supervisor contact of this employer". */
  message: string;
}

export interface Column {
  /** Header name in the file, exactly as the contract spells it. */
  name: string;
  /** Column of the record table; absent for parent columns, which resolve to the parent's id. */
  field?: string;
  type: CellType;
  required?: boolean;
  key?: boolean;
  /** EmployerID (and EmployeeID for client children): resolved to the parent record. */
  parent?: boolean;
  list?: KbListName;
  pattern?: RegExp;
  /** The expected shape, for messages: "NN-NNNNNNN". */
  hint?: string;
  ref?: Reference;
}

/** What a record hangs from: nothing, an employer (EmployerID) or a client (EmployerID + EmployeeID). */
export type ParentKind = 'none' | 'employer' | 'client';

export interface ImportTemplate {
  /** File-name prefix and the template's name. */
  name: string;
  /** Processing order within a run (1 = first). */
  order: number;
  description: string;
  table: RecordTableName;
  parent: ParentKind;
  columns: readonly Column[];
  /**
   * Stored values every row of the template has, part of the record's key: the list a firm's entries
   * of a shipped knowledge-base list belong to.
   */
  fixed?: Readonly<Record<string, string>>;
  /** A knowledge-base list load: not billed against the firm's record allowance. */
  kbList?: boolean;
  /**
   * Values of the one own key column that exist without being stored (a shipped list's entries): a row
   * naming one counts as unchanged.
   */
  shipped?: readonly string[];
}

export const PARENT_FIELD: Record<Exclude<ParentKind, 'none'>, string> = {
  employer: 'employer_id',
  client: 'client_id',
};

/** The key columns a row sends itself (not its parent's): stored fields. */
export function ownKeyFields(t: ImportTemplate): string[] {
  return t.columns.filter((c) => c.key && !c.parent).map((c) => c.field!);
}

/** The record table's natural key: the parent id, the fixed values, then the row's own key columns. */
export function keyFields(t: ImportTemplate): string[] {
  const own = [...Object.keys(t.fixed ?? {}), ...ownKeyFields(t)];
  return t.parent === 'none' ? own : [PARENT_FIELD[t.parent], ...own];
}

/** Stored (non-parent) columns of a template. */
export function storedColumns(t: ImportTemplate): Column[] {
  return t.columns.filter((c) => !c.parent);
}
