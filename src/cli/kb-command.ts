// `caseport kb list|import|export`: the knowledge base's shipped lists, a firm's own entries and its
// per-firm lists (petitions, case managers, custom fields).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { fileUnreadable, kbListUnknown, usageError } from '../errors.js';
import { importFile } from '../ingest/index.js';
import { COUNTRIES } from '../kb/countries.js';
import { EXTENDABLE_LISTS, isShippedList, SHIPPED_LISTS } from '../kb/lists.js';
import { firmFolders } from '../paths.js';
import { type Engine, getFirm } from '../store/index.js';
import { FIRM_LIST_TEMPLATES } from '../templates/index.js';
import { exitCodeOf, printSummary } from './import-command.js';
import { EXIT, printJson, say } from './output.js';

const FIRM_LISTS = FIRM_LIST_TEMPLATES.map((t) => t.name);
export const KB_LISTS = ['countries', ...Object.keys(SHIPPED_LISTS), ...FIRM_LISTS];

type Entry = Record<string, string | number | boolean | null>;

export async function kbEntries(engine: Engine, list: string, firmId?: string): Promise<Entry[]> {
  if (firmId) await getFirm(engine, firmId);
  if (list === 'countries') {
    return COUNTRIES.map((c) => ({ name: c.name, iso2: c.iso2, iso3: c.iso3, historical: c.historical }));
  }
  if (isShippedList(list)) {
    const out: Entry[] = SHIPPED_LISTS[list].map((value) => ({ value, source: 'shipped' }));
    if (firmId) {
      const extra = await engine.db
        .selectFrom('kb_entries')
        .select('value')
        .where('firm_id', '=', firmId)
        .where('list_name', '=', list)
        .orderBy('value')
        .execute();
      for (const e of extra) out.push({ value: e.value, source: 'firm' });
    }
    return out;
  }
  const template = FIRM_LIST_TEMPLATES.find((t) => t.name === list);
  if (!template) throw kbListUnknown(list, KB_LISTS);
  if (!firmId) throw usageError(`the ${list} list belongs to a firm: add --firm <firmId>`);
  const rows = await engine.db
    .selectFrom(template.table)
    .selectAll()
    .where('firm_id', '=', firmId)
    .orderBy('id')
    .execute();
  return rows.map((r) =>
    Object.fromEntries(
      template.columns.map((c) => [
        c.name,
        c.type === 'yesno' ? (r[c.field!] === null ? null : r[c.field!] ? 'Y' : 'N') : r[c.field!],
      ]),
    ),
  );
}

export async function kbList(
  engine: Engine,
  list: string,
  o: { firm?: string; json?: boolean },
): Promise<number> {
  const entries = await kbEntries(engine, list, o.firm);
  if (o.json) printJson(entries);
  else
    for (const e of entries)
      say(
        Object.values(e)
          .filter((v) => v !== null && v !== '')
          .join(' · '),
      );
  return EXIT.ok;
}

/** A firm's additions to a shipped list: a CSV with one column, Value. */
async function importListEntries(engine: Engine, list: string, file: string, firmId: string, json?: boolean) {
  if (!EXTENDABLE_LISTS.includes(list as never))
    throw usageError(`the ${list} list cannot be extended by a firm`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw fileUnreadable(path.basename(file), e instanceof Error ? e.message : String(e));
  }
  const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), {
    skipEmptyLines: 'greedy',
    delimiter: ',',
  });
  const [header, ...rows] = parsed.data;
  if (header?.length !== 1 || header[0].trim().toLowerCase() !== 'value') {
    throw usageError(
      `${path.basename(file)}: expected a header with one column, Value; found: ${(header ?? []).join(',')}`,
    );
  }
  const known = new Set(SHIPPED_LISTS[list as keyof typeof SHIPPED_LISTS].map((v) => v.toLowerCase()));
  const errors: Array<{ row: number; column: string; value: string; message: string }> = [];
  let added = 0;
  let unchanged = 0;
  for (const [i, cells] of rows.entries()) {
    const value = (cells[0] ?? '').trim();
    const row = i + 2;
    if (cells.length !== 1)
      errors.push({ row, column: 'Value', value, message: `expected 1 cell, found ${cells.length}` });
    else if (!value) errors.push({ row, column: 'Value', value, message: 'Value is required' });
    else if (known.has(value.toLowerCase())) unchanged++;
    else {
      const r = await engine.db
        .insertInto('kb_entries')
        .values({ firm_id: firmId, list_name: list, value, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['firm_id', 'list_name', 'value']).doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) added++;
      else unchanged++;
      known.add(value.toLowerCase());
    }
  }
  const out = { list, file: path.resolve(file), added, unchanged, rejected: errors.length, errors };
  if (json) printJson(out);
  else {
    say(`${list}: ${added} added, ${unchanged} already present, ${errors.length} rejected`);
    for (const e of errors) say(`  row ${e.row}, ${e.column}: ${e.message}`);
  }
  return errors.length > 0 ? EXIT.incomplete : EXIT.ok;
}

export async function kbImport(
  engine: Engine,
  dataDir: string,
  list: string,
  file: string,
  o: { firm?: string; json?: boolean; dryRun?: boolean },
): Promise<number> {
  if (!KB_LISTS.includes(list)) throw kbListUnknown(list, KB_LISTS);
  if (!o.firm) throw usageError('kb import needs --firm <firmId>: entries are added for one firm');
  await getFirm(engine, o.firm);
  if (list === 'countries')
    throw usageError('the country list is the fixed 256-entry list and cannot be imported');
  const template = FIRM_LIST_TEMPLATES.find((t) => t.name === list);
  if (!template) return importListEntries(engine, list, file, o.firm, o.json);
  const result = await importFile(engine, {
    firmId: o.firm,
    file,
    template,
    dryRun: o.dryRun,
    resultDir: firmFolders(dataDir, o.firm).results,
  });
  if (o.json) printJson(result);
  else printSummary(result);
  return exitCodeOf([result]);
}

export async function exportCountries(format: string, out: string): Promise<number> {
  const header = ['Name', 'ISO2', 'ISO3', 'Historical'];
  const rows = COUNTRIES.map((c) => [c.name, c.iso2 ?? '', c.iso3, c.historical ? 'Y' : 'N']);
  if (format === 'csv') {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(out, `${Papa.unparse([header, ...rows])}\r\n`);
  } else if (format === 'xlsx') {
    const { default: ExcelJS } = await import('exceljs'); // heavy: loaded only for this command
    const wb = new ExcelJS.Workbook();
    wb.creator = 'Caseport';
    const ws = wb.addWorksheet('Country List');
    ws.columns = [
      { header: 'Name', key: 'name', width: 40 },
      { header: 'ISO2', key: 'iso2', width: 8 },
      { header: 'ISO3', key: 'iso3', width: 8 },
      { header: 'Historical', key: 'historical', width: 11 },
    ];
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    for (const r of rows) ws.addRow(r);
    await wb.xlsx.writeFile(out);
  } else throw usageError(`--format must be xlsx or csv, not "${format}"`);
  say(`${COUNTRIES.length} countries written to ${path.resolve(out)}`);
  return EXIT.ok;
}
