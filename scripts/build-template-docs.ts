// Builds docs/templates.md, the file contract users' HR systems are built against, from the templates as
// data (src/templates), the limits (src/templates/limits.ts) and the shipped knowledge-base lists
// (src/kb), so what users read cannot drift from the code. test/template-docs.test.ts fails when the
// committed document differs from what this script writes.
//
// The prose rules (files, header, cells, dates...) are rules of the pipeline, not of a column, so they are
// fixed text here; every number in them is read from the code. Everything about a template or a column
// is read from its data. A column type, a column property or an export relation this script does not know
// makes it throw instead of printing something wrong: teach it, then run it again.
//
// Run: npm run docs:templates   (node --import tsx scripts/build-template-docs.ts)

import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COUNTRIES } from '../src/kb/countries.js';
import { EXTENDABLE_LISTS, SHIPPED_LISTS } from '../src/kb/lists.js';
import {
  EXPORT_TEMPLATES,
  type ExportColumn,
  type ExportRelation,
  type ExportTemplate,
  SHOWN_RELATIONS,
} from '../src/templates/export-templates.js';
import { recogniseFileName } from '../src/templates/file-names.js';
import { FIRM_LIST_TEMPLATES, IMPORT_TEMPLATES } from '../src/templates/import-templates.js';
import {
  MAX_CELL_CHARS,
  MAX_KEY_CHARS,
  MAX_NUMBER_DIGITS,
  MAX_ROW_CELLS,
  MAX_ROW_CHARS,
  MAX_YEAR,
  MIN_YEAR,
} from '../src/templates/limits.js';
import type { Column, ImportTemplate, ParentKind } from '../src/templates/types.js';

/** Where the document is written, relative to this script. */
export const DOC_PATH = fileURLToPath(new URL('../docs/templates.md', import.meta.url));

/** What the document is built from; the defaults are the project's templates and lists. */
export interface TemplateDocsInput {
  importTemplates: readonly ImportTemplate[];
  firmListTemplates: readonly ImportTemplate[];
  exportTemplates: readonly ExportTemplate[];
  shippedLists: Readonly<Record<string, readonly string[]>>;
  extendableLists: readonly string[];
  countries: readonly { name: string; historical: boolean }[];
}

export const DEFAULT_INPUT: TemplateDocsInput = {
  importTemplates: IMPORT_TEMPLATES,
  firmListTemplates: FIRM_LIST_TEMPLATES,
  exportTemplates: EXPORT_TEMPLATES,
  shippedLists: SHIPPED_LISTS,
  extendableLists: EXTENDABLE_LISTS,
  countries: COUNTRIES,
};

// ---------------------------------------------------------------------------------------------------------
// Markdown helpers

/** 32767 -> "32,767": the grouping the contract uses, independent of the machine's locale. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** An inline code span that survives backticks in the text. */
function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A table cell: pipes escaped (also inside code spans, as GitHub requires), no line breaks. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function row(cells: readonly string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(row)];
}

/** GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped, spaces to -. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Lists an English series: "a", "a and b", "a, b and c". */
function series(items: readonly string[], last = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------------------------
// Reading the template data

/** Column properties this script knows how to document; any other one is refused. */
const COLUMN_PROPERTIES = new Set([
  'name',
  'field',
  'type',
  'required',
  'key',
  'parent',
  'list',
  'pattern',
  'hint',
  'ref',
]);
const EXPORT_COLUMN_PROPERTIES = new Set(['name', 'type', 'source', 'column']);

/** Types whose values are short by construction: the key-length limit is not worth a note on them. */
const BOUNDED_TYPES = new Set<Column['type']>(['date', 'yesno', 'integer', 'number', 'country']);

/** A KB list with this many entries or fewer is spelled out in the column's notes. */
const INLINE_LIST_MAX = 5;

/** The record table of each parent kind: the template that creates parents of that kind. */
const PARENT_TABLES: Record<Exclude<ParentKind, 'none'>, { table: string; noun: string }> = {
  employer: { table: 'employers', noun: 'an employer' },
  client: { table: 'clients', noun: 'a client (foreign national)' },
};

/**
 * What an exported value is read from: a description, and for the firm's lists the list whose entry the
 * exported row names in one of its KB columns.
 */
const RELATIONS: Record<ExportRelation, { what: string; list?: string }> = {
  row: { what: 'the exported record' },
  employer: { what: 'the employer' },
  client: { what: 'the client' },
  supervisor: { what: "the client's linked supervisor" },
  petition: { what: "the firm's petition", list: 'petitions' },
  'case-manager': { what: "the firm's case manager", list: 'case-managers' },
};

class Doc {
  readonly lines: string[] = [];
  private readonly anchors = new Set<string>();

  constructor(readonly input: TemplateDocsInput) {}

  add(...lines: string[]): void {
    this.lines.push(...lines);
  }

  /** A heading; its anchor must be unique so the links to it are unambiguous. */
  heading(level: number, text: string): void {
    const anchor = slug(text);
    if (this.anchors.has(anchor)) throw new Error(`template docs: two headings have the anchor #${anchor}`);
    this.anchors.add(anchor);
    this.add(`${'#'.repeat(level)} ${text}`, '');
  }

  /** The template (import or per-firm list) whose records live in `table`. */
  templateOfTable(table: string): ImportTemplate {
    const all = [...this.input.importTemplates, ...this.input.firmListTemplates];
    const t = all.find((x) => x.table === table);
    if (!t) throw new Error(`template docs: no template stores the table "${table}"`);
    return t;
  }

  parentTemplate(kind: Exclude<ParentKind, 'none'>): ImportTemplate {
    const p = PARENT_TABLES[kind];
    if (!p) throw new Error(`template docs: unknown parent kind "${kind}"`);
    return this.templateOfTable(p.table);
  }
}

function checkColumn(where: string, c: Column): void {
  for (const prop of Object.keys(c)) {
    if (!COLUMN_PROPERTIES.has(prop)) {
      throw new Error(
        `template docs: ${where} column ${c.name} has the property "${prop}", which ` +
          'scripts/build-template-docs.ts does not document yet: teach it, then run npm run docs:templates',
      );
    }
  }
}

function unknownType(where: string, name: string, type: string): never {
  throw new Error(
    `template docs: ${where} column ${name} has the type "${type}", which ` +
      'scripts/build-template-docs.ts does not know: teach it how to document it, then run npm run docs:templates',
  );
}

/** The list's kind: a shipped list, the country list, or a per-firm list. */
function listKind(doc: Doc, where: string, c: Column): 'shipped' | 'countries' | 'firm' {
  const list = c.list;
  if (!list) throw new Error(`template docs: ${where} column ${c.name} is a KB column without a list`);
  if (list === 'countries') return 'countries';
  if (Object.hasOwn(doc.input.shippedLists, list)) return 'shipped';
  if (doc.input.firmListTemplates.some((t) => t.name === list)) return 'firm';
  throw new Error(`template docs: ${where} column ${c.name} names the unknown KB list "${list}"`);
}

/** The Type cell of an import column. */
function typeLabel(doc: Doc, where: string, c: Column): string {
  const type: Column['type'] = c.type;
  switch (type) {
    case 'text':
      return 'text';
    case 'date':
      return 'date';
    case 'yesno':
      return 'Y/N';
    case 'integer':
      return 'whole number';
    case 'number':
      return 'amount';
    case 'country':
      return 'country';
    case 'kb':
      listKind(doc, where, c);
      return `KB ${code(c.list!)}`;
    case 'pattern':
      if (!c.pattern || !c.hint) {
        throw new Error(`template docs: ${where} column ${c.name} is a pattern without a pattern and a hint`);
      }
      return `pattern: ${c.hint}`;
    case 'custom-value':
      return 'custom value';
    case 'list-values':
      return 'list values';
    default: {
      const unknown: never = type;
      return unknownType(where, c.name, String(unknown));
    }
  }
}

/** The link to a list's entries further down. */
function listLink(list: string): string {
  return `[${code(list)}](#${slug(code(list))})`;
}

/** The Notes cell of an import column: what the data says beyond its type. */
function columnNotes(doc: Doc, t: ImportTemplate, c: Column): string {
  const where = t.name;
  const notes: string[] = [];
  if (c.parent) {
    if (t.parent === 'none') throw new Error(`template docs: ${where} has a parent column but no parent`);
    const parent = doc.parentTemplate(t.parent);
    notes.push(`names the parent ${t.parent} (a record of ${code(parent.name)})`);
  }
  // The key limit, where the type does not bound the length already.
  if (c.key && !BOUNDED_TYPES.has(c.type)) notes.push(`at most ${formatCount(MAX_KEY_CHARS)} characters`);
  switch (c.type) {
    case 'integer':
      notes.push(`digits with an optional sign, at most ${MAX_NUMBER_DIGITS} digits`);
      break;
    case 'number':
      notes.push(`may have a decimal point; at most ${MAX_NUMBER_DIGITS} digits`);
      break;
    case 'kb': {
      const list = c.list!;
      const kind = listKind(doc, where, c);
      if (kind === 'shipped') {
        const entries = doc.input.shippedLists[list];
        const own = doc.input.extendableLists.includes(list) ? ", or one of the firm's own entries" : '';
        notes.push(
          entries.length <= INLINE_LIST_MAX
            ? `one of ${entries.map(code).join(', ')}${own}`
            : `an entry of the ${listLink(list)} list (${plural(entries.length, 'entry', 'entries')})${own}`,
        );
      } else if (kind === 'firm') {
        notes.push(
          `an entry of the firm's ${listLink(list)} list (an inactive one only where the record already names it)`,
        );
      } else {
        notes.push('a country of the [country list](#countries)');
      }
      break;
    }
    case 'pattern':
      notes.push(`must match ${code(String(c.pattern))}`);
      break;
    case 'custom-value':
      notes.push(
        "checked against the type of the custom field this row's FieldName names, which must be defined " +
          `in the firm's ${listLink('custom-fields')} list (an unknown field rejects the row)`,
      );
      break;
    case 'list-values':
      notes.push('the values separated by `|`; required when FieldType is `list`');
      break;
  }
  if (c.ref) notes.push(referenceNote(doc, where, c));
  return notes.join('; ');
}

/** "a ContactID of company_Additional_Contact_import of the same employer whose ContactType is Supervisor". */
function referenceNote(doc: Doc, where: string, c: Column): string {
  const ref = c.ref!;
  const target = doc.templateOfTable(ref.table);
  const columnOf = (field: string): Column => {
    const col = target.columns.find((x) => x.field === field);
    if (!col)
      throw new Error(`template docs: ${where} column ${c.name} refers to ${ref.table}.${field}, no column`);
    return col;
  };
  const conditions = Object.entries(ref.where).map(
    ([field, value]) => `whose ${columnOf(field).name} is ${value}`,
  );
  return (
    `must be a ${columnOf(ref.field).name} of a ${code(target.name)} record of the same employer ` +
    `${series(conditions)}`
  ).trim();
}

/** The Type cell of an export column: its import column's type, or an export-only kind. */
function exportTypeLabel(doc: Doc, where: string, c: ExportColumn): string {
  const type: ExportColumn['type'] = c.type;
  switch (type) {
    case 'id':
      return 'Caseport id';
    case 'days-to-expiry':
      return 'whole number (days)';
    case 'last-modified':
      return 'timestamp';
    default:
      if (c.column && c.column.type !== type) {
        throw new Error(
          `template docs: ${where} column ${c.name} is ${type} but its import column is ${c.column.type}`,
        );
      }
      return typeLabel(doc, where, c.column ?? { name: c.name, type });
  }
}

/** The Notes cell of an export column: where the value comes from. */
function exportNotes(doc: Doc, t: ExportTemplate, c: ExportColumn): string {
  const where = t.name;
  if (c.type === 'last-modified') {
    return (
      "ISO 8601 with the firm's offset (e.g. `2026-11-25T01:02:03-08:00`): the time of the latest change " +
      "that put the row in the export, its own or a shown record's"
    );
  }
  const source = c.source;
  if (!source) throw new Error(`template docs: ${where} column ${c.name} has no source`);
  const relation = RELATIONS[source.relation];
  if (!relation) {
    throw new Error(`template docs: ${where} column ${c.name} has the unknown relation ${source.relation}`);
  }
  if (c.type === 'id') {
    const of =
      source.field === 'id' ? relation.what : `the ${source.field.replace(/_id$/, '').replace(/_/g, ' ')}`;
    return `Caseport's own id of ${of}`;
  }
  if (c.type === 'days-to-expiry') {
    const from = t.twin.columns.find((x) => x.field === source.field);
    if (!from)
      throw new Error(`template docs: ${where} column ${c.name} counts to ${source.field}, no column`);
    return `whole days from today (the firm's time zone) to ${from.name}; negative once it has passed`;
  }
  if (c.column) {
    if (!t.twin.columns.includes(c.column)) {
      throw new Error(`template docs: ${where} column ${c.name} is not a column of ${t.twin.name}`);
    }
    return `as in ${code(t.twin.name)}`;
  }
  if (relation.list) {
    // A record of a firm's list, named by the row's KB column of that list.
    const list = doc.input.firmListTemplates.find((x) => x.name === relation.list);
    const by = t.twin.columns.find((x) => x.type === 'kb' && x.list === relation.list);
    if (!list || !by) {
      throw new Error(`template docs: ${where} column ${c.name} shows the ${relation.list} list, not found`);
    }
    const named = list.columns.find((x) => x.field === source.field);
    const what = named ? named.name : source.field.replace(/_/g, ' ');
    return `${what} of ${relation.what} that ${by.name} names (blank when none does)`;
  }
  if (!SHOWN_RELATIONS.includes(source.relation)) {
    throw new Error(
      `template docs: ${where} column ${c.name} reads ${source.field} of the ${source.relation}, no column`,
    );
  }
  // A record of another import template, found by the field it shows.
  const from = doc.input.importTemplates.find((x) => x.columns.some((col) => col.field === source.field));
  const named = from?.columns.find((col) => col.field === source.field);
  if (!from || !named)
    throw new Error(`template docs: ${where} column ${c.name} shows ${source.field}, no column`);
  return `${named.name} of ${relation.what} (${code(from.name)})`;
}

// ---------------------------------------------------------------------------------------------------------
// The document

function intro(doc: Doc): void {
  doc.add(
    '# Caseport file templates',
    '',
    '> Generated by `npm run docs:templates` from `src/templates` (scripts/build-template-docs.ts). Do not',
    '> edit by hand: change the templates, then run it again; `test/template-docs.test.ts` fails while this',
    '> file is out of date.',
    '',
    "This is the file contract that customers' HR systems are built against. Column names and order are part",
    'of it: once released they do not change.',
    '',
    '- [General rules](#general-rules)',
    '- [Import templates](#import-templates)',
    '- [Per-firm knowledge-base lists](#per-firm-knowledge-base-lists)',
    '- [Export templates](#export-templates)',
    '- [Knowledge-base lists](#knowledge-base-lists)',
    '',
  );
}

function generalRules(doc: Doc): void {
  const mib = MAX_ROW_CHARS % 1_048_576 === 0 ? ` (${MAX_ROW_CHARS / 1_048_576} MiB of ASCII text)` : '';
  const historical = doc.input.countries.filter((c) => c.historical).map((c) => c.name);
  doc.heading(2, 'General rules');
  doc.add(
    '- **Files.** CSV, RFC 4180 (comma, double-quote quoting, quotes doubled inside), one header row, LF or',
    '  CRLF line ends. UTF-8, with or without BOM. A file that is not valid UTF-8 is decoded as',
    '  Windows-1252 (what Excel writes on US machines) and its run carries a warning saying so. A leading',
    '  UTF-8 BOM is dropped whichever way the rest decodes.',
    "- **Header.** Exactly the template's columns, in the template's order. Names compare case-insensitively",
    '  and with surrounding spaces trimmed. Missing, extra or reordered columns: the whole file is refused',
    '  (Interrupted) with a message listing expected and found headers.',
    '- **Malformed lines.** A row with too few or too many cells is rejected with both counts. A stray quote',
    '  inside an unquoted cell is kept as a character. A quote that opens a cell and never closes on a line',
    '  that makes a well-formed row rejects only the row(s) it spans: the well-formed rows after it are read',
    "  and applied as usual, and reading them stays linear in the file's size. A file with a header and no",
    '  data rows is Completed with 0 rows.',
    `- **Limits.** A cell holds at most ${formatCount(MAX_CELL_CHARS)} characters (a spreadsheet cell's limit), a key at most`,
    `  ${formatCount(MAX_KEY_CHARS)}, a row at most ${formatCount(MAX_ROW_CHARS)} characters${mib} and ${formatCount(MAX_ROW_CELLS)} cells; past them the row is`,
    '  rejected, and reading never holds more than that of it in memory. A control character',
    '  (U+0000–U+001F, U+007F) rejects the row, except a tab or a line break inside a quoted cell of a',
    '  non-key column.',
    '- **Cells.** Surrounding spaces are trimmed. A blank cell overwrites the stored value with empty (not',
    '  for key or required columns, which reject the row). The keyword `Zoom No Update` (any case, any run',
    '  of spaces between the words) keeps the stored value; it is honoured only where the firm has it',
    '  enabled, and elsewhere rejects the row with an error saying the keyword is not enabled for this firm.',
    '  In a key column the keyword rejects the row (a key cannot be "kept"). In a required column it keeps',
    '  the stored value of an existing record; for a record that does not exist yet it counts as blank, so',
    '  the row is rejected.',
    '- **Dates.** `MM/DD/YYYY` (one-digit month and day too: `1/5/2026`, as Excel writes them) or',
    `  \`YYYY-MM-DD\`; impossible dates (02/30/2024) and years outside ${MIN_YEAR}–${MAX_YEAR} reject the row. Exports`,
    '  write `MM/DD/YYYY` unless the firm chooses ISO.',
    '- **Yes/No (Y/N).** `Y`, `N`, `Yes`, `No`, `True`, `False`, `1`, `0` (any case). Exports write `Y`/`N`.',
    "- **Countries.** A name or ISO 3166-1 alpha-2/alpha-3 code from the knowledge base's",
    `  [country list](#countries) (${doc.input.countries.length} entries: ISO 3166-1 plus the historical and other`,
    '  entries immigration records need:',
    `  ${series(historical)}).`,
    '  The canonical name is the common English short name used on US immigration forms (United States,',
    '  South Korea, Russia, Vietnam, Iran, Bolivia, Turkey...). Accepted as aliases: the alpha-2 and',
    '  alpha-3 codes, the ISO 3166-1 short name in its ISO form ("Korea (the Republic of)", "Bolivia',
    '  (Plurinational State of)") and the ISO full name ("Plurinational State of Bolivia", "Socialist',
    '  Republic of Viet Nam", "Republic of Türkiye"). Stored and exported as the canonical name.',
    `- **Numbers.** Whole numbers are digits with an optional sign, at most ${MAX_NUMBER_DIGITS} digits; amounts may have`,
    '  a decimal point. A thousands separator is not accepted (`5,4` and `15,20` reject the row): a value is',
    '  never changed to another.',
    '- **Patterns** (FEIN, SSN, A-Number, receipt number): letters in any case, stored upper-case.',
    '- **Keys** compare exactly as sent, after trimming (`E1` and `e1` are two employees).',
    "- **KB.** The column's value must be an entry of the named [knowledge-base list](#knowledge-base-lists)",
    "  (case-insensitive), stored in the list's spelling. The lists this document spells out are the",
    "  shipped entries; a firm's own entries (loaded by an operator) extend them. An inactive petition or",
    '  case manager cannot be used by a new case (the message says it is inactive); an existing case that',
    '  already names it can still be updated.',
    '- **File names.** `<prefix>_YYYYMMDD.csv` for imports, optionally `_<digits>` before `.csv` for several',
    '  files on one day; the date is a real calendar date. Exports: `<prefix>_YYYYMMDDHHMM.csv` in the',
    "  firm's time zone. Prefixes compare case-insensitively. A name that matches no template is refused.",
    '- **Billing.** The rows billed are the data rows actually read (blank lines are not rows), whatever a',
    "  stray quote does; a file that would exceed the firm's allowance is refused whole before anything is",
    "  applied, and a dry run reports that refusal as the real run would. Loading a firm's knowledge-base",
    '  lists is not billed. A repeated file is billed again (it is processed again).',
    '- **Row order.** Rows are applied in file order, with the meaning of applying them one by one: a later',
    "  row for the same key sees the earlier one's effect. A row with any invalid cell is rejected whole,",
    '  with every problem in it reported (row number, column, value, message), including what only the',
    '  store can tell (an unknown parent, a supervisor who is not one, a kept required value that does not',
    '  exist); the other rows are applied.',
    '- **Result file.** For a file with rejected rows, `<file name without .csv>_result.csv` holds the',
    '  rejected rows as sent, with the error columns added; a later file of the same name that completes',
    '  removes it.',
    '- **Row numbers** are the ones a spreadsheet shows: the header is row 1, the first data row is row 2,',
    '  and a line break inside a quoted cell does not start a new row (without such cells, the row number',
    '  is the line number).',
    '',
    'In the tables below, **Key** marks the columns that together identify a record (a row with the key of',
    'an existing record updates it), **Required** the columns that cannot be blank. `EmployerID` is the HR',
    "system's company code and `EmployeeID` the HR system's employee number, unique within the employer.",
    '',
  );
}

/** The parent line of an import template. */
function parentLine(doc: Doc, t: ImportTemplate): string {
  if (t.parent === 'none') return 'none (a record of its own)';
  const parent = doc.parentTemplate(t.parent);
  const keys = parent.columns.filter((c) => c.key).map((c) => c.name);
  const own = t.columns.filter((c) => c.parent).map((c) => c.name);
  if (own.join() !== keys.join()) {
    throw new Error(
      `template docs: ${t.name} names its parent with ${own.join(', ')} but ${parent.name}'s key is ${keys.join(', ')}`,
    );
  }
  return (
    `${PARENT_TABLES[t.parent].noun}, imported before with ${code(parent.name)}: ${series(keys.map(code))} ` +
    `must name an existing record, or the row is rejected`
  );
}

function columnTable(doc: Doc, t: ImportTemplate): string[] {
  return table(
    ['#', 'Column', 'Type', 'Key', 'Required', 'Notes'],
    t.columns.map((c, i) => {
      checkColumn(t.name, c);
      return [
        String(i + 1),
        c.name,
        typeLabel(doc, t.name, c),
        c.key ? 'yes' : '',
        c.required ? 'yes' : '',
        columnNotes(doc, t, c),
      ];
    }),
  );
}

function keyLine(t: ImportTemplate): string {
  const keys = t.columns.filter((c) => c.key).map((c) => code(c.name));
  if (keys.length === 0) throw new Error(`template docs: ${t.name} has no key column`);
  return series(keys);
}

/** Asserts that the file-name rule of src/templates/file-names.ts recognises the names this document shows. */
function checkImportFileNames(t: ImportTemplate): void {
  for (const name of [`${t.name}_20260120.csv`, `${t.name}_20260120_2.csv`]) {
    const recognised = recogniseFileName(name);
    if (recognised.template.name !== t.name) {
      throw new Error(`template docs: ${name} is recognised as ${recognised.template.name}, not ${t.name}`);
    }
  }
}

function importTemplates(doc: Doc): void {
  const templates = [...doc.input.importTemplates].sort((a, b) => a.order - b.order);
  doc.heading(2, 'Import templates');
  doc.add(
    `${plural(templates.length, 'template')}. Within a run, files are processed in this template order; within one template,`,
    'older file dates first, then by suffix as a number (no suffix first).',
    '',
  );
  for (const t of templates) {
    if (doc.input.importTemplates === IMPORT_TEMPLATES) checkImportFileNames(t);
    doc.heading(3, `${t.order}. ${code(t.name)}`);
    doc.add(
      `- **File name:** ${code(`${t.name}_YYYYMMDD.csv`)} (or ${code(`${t.name}_YYYYMMDD_<n>.csv`)})`,
      `- **Holds:** ${t.description}`,
      `- **Parent:** ${parentLine(doc, t)}`,
      `- **Key:** ${keyLine(t)}`,
      '',
      ...columnTable(doc, t),
      '',
    );
  }
}

function firmLists(doc: Doc): void {
  const withActive = doc.input.firmListTemplates.filter((t) =>
    t.columns.some((c) => c.name === 'Active' && c.type === 'yesno'),
  );
  doc.heading(2, 'Per-firm knowledge-base lists');
  doc.add(
    'Loaded with `caseport kb import <list> <file.csv> --firm F` (any file name), header row required,',
    'through the same pipeline and rules as the import templates. Loading them is not billed.',
  );
  if (withActive.length > 0) {
    doc.add(
      `In ${series(withActive.map((t) => code(t.name)))}, an entry whose \`Active\` is \`N\` is inactive (kept for`,
      'history, refused for a new case); a blank `Active` counts as `Y`.',
    );
  }
  doc.add('');
  for (const t of doc.input.firmListTemplates) {
    if (t.parent !== 'none') throw new Error(`template docs: the per-firm list ${t.name} has a parent`);
    doc.heading(3, code(t.name));
    doc.add(
      `- **Load:** ${code(`caseport kb import ${t.name} <file.csv> --firm F`)}`,
      `- **Holds:** ${t.description}`,
      `- **Key:** ${keyLine(t)}`,
      '',
      ...columnTable(doc, t),
      '',
    );
  }
}

function exportTemplates(doc: Doc): void {
  doc.heading(2, 'Export templates');
  doc.add(
    "Each carries the system's own ids beside the HR keys, and `LastModified` (ISO 8601 with offset). A",
    "task exports all rows, or only rows changed since that task's last successful export: each export task",
    'keeps its own mark, and an export run by hand (`caseport export --delta`) keeps one mark per template',
    "apart from the tasks'; a full export moves no mark. Several exports of one template in the same minute",
    'are named `_2`, `_3`... before `.csv`. `LastModified` is the time of the latest change that put the row',
    "in the export (its own or a child's). A cell that a spreadsheet would run as a formula (beginning with",
    "`=`, `+`, `-`, `@`, tab or carriage return) is written with a leading `'`, except a value that is a",
    'number, a date or a phone number (`-42`, `+1 555 0100`), which is written as is. An export with no',
    'rows still writes its file, header only, so the receiving system can tell "nothing changed" from "no',
    'run". Dates are written `MM/DD/YYYY` (or `YYYY-MM-DD` when the firm chooses ISO), Yes/No as `Y`/`N`,',
    'countries and KB values in their canonical spelling.',
    '',
  );
  doc.input.exportTemplates.forEach((t, i) => {
    const twinIsFirmList = doc.input.firmListTemplates.includes(t.twin);
    const back = twinIsFirmList
      ? `${code(`caseport kb import ${t.twin.name}`)} (the firm's ${code(t.twin.name)} list)`
      : code(t.twin.name);
    doc.heading(3, `${i + 1}. ${code(t.name)}`);
    doc.add(
      `- **File name:** ${code(`${t.name}_YYYYMMDDHHMM.csv`)} (the firm's time zone; ${code('_2')}, ${code('_3')}... before ${code('.csv')} for several in one minute)`,
      `- **Holds:** ${t.description}`,
      `- **Imports back with:** ${back}, once the export-only columns are dropped`,
      '',
      ...table(
        ['#', 'Column', 'Type', 'Notes'],
        t.columns.map((c, n) => {
          for (const prop of Object.keys(c)) {
            if (!EXPORT_COLUMN_PROPERTIES.has(prop)) {
              throw new Error(
                `template docs: ${t.name} column ${c.name} has the property "${prop}", which ` +
                  'scripts/build-template-docs.ts does not document yet: teach it, then run npm run docs:templates',
              );
            }
          }
          if (c.column) checkColumn(t.twin.name, c.column);
          return [String(n + 1), c.name, exportTypeLabel(doc, t.name, c), exportNotes(doc, t, c)];
        }),
      ),
      '',
    );
  });
}

function knowledgeBase(doc: Doc): void {
  const lists = Object.entries(doc.input.shippedLists);
  const extendable = lists.map(([name]) => name).filter((n) => doc.input.extendableLists.includes(n));
  const fixed = lists.map(([name]) => name).filter((n) => !doc.input.extendableLists.includes(n));
  const historical = doc.input.countries.filter((c) => c.historical).map((c) => c.name);
  doc.heading(2, 'Knowledge-base lists');
  doc.add(
    'The entries Caseport ships; a KB cell matches them case-insensitively and is stored in their spelling.',
    'A firm adds its own entries to these lists with a one-column `Value` file,',
    '`caseport kb import <list> <file.csv> --firm F`:',
    `${series(extendable.map(code))}.`,
  );
  if (fixed.length > 0) doc.add(`${series(fixed.map(code))} cannot be extended.`);
  doc.add(
    'The per-firm lists (petitions, case managers, custom fields) are [above](#per-firm-knowledge-base-lists).',
    "`caseport kb list <list> [--firm F]` prints a list with the firm's own entries.",
    '',
  );
  doc.heading(3, 'Countries');
  doc.add(
    `The country list has ${doc.input.countries.length} entries: ISO 3166-1 plus ${plural(historical.length, 'entry', 'entries')} that are not`,
    'current ISO 3166-1 entries but appear in immigration records:',
    `${series(historical)}.`,
    'It cannot be extended.',
    '`caseport kb export countries --format xlsx --out "Country List.xlsx"` (or `--format csv`) downloads',
    'it: the canonical name, the alpha-2 and alpha-3 codes and whether the entry is historical.',
    '',
  );
  for (const [name, entries] of lists) {
    doc.heading(3, code(name));
    doc.add(`${plural(entries.length, 'entry', 'entries')}: ${entries.map(code).join(', ')}.`, '');
  }
}

/** The document, from the templates as data. Pure and deterministic: the same input gives the same text. */
export function buildTemplateDocs(input: TemplateDocsInput = DEFAULT_INPUT): string {
  const doc = new Doc(input);
  intro(doc);
  generalRules(doc);
  importTemplates(doc);
  firmLists(doc);
  exportTemplates(doc);
  knowledgeBase(doc);
  while (doc.lines.at(-1) === '') doc.lines.pop();
  return `${doc.lines.join('\n')}\n`;
}

function main(): void {
  const text = buildTemplateDocs();
  writeFileSync(DOC_PATH, text);
  console.log(`wrote docs/templates.md (${text.split('\n').length - 1} lines)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
