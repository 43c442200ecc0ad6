// `caseport kb list|import|export`: the knowledge base's shipped lists, a firm's own entries and its
// per-firm lists (petitions, case managers, custom fields).
import { kbListUnknown, usageError } from '../errors.js';
import { importFile } from '../ingest/index.js';
import { COUNTRIES } from '../kb/countries.js';
import { EXTENDABLE_LISTS, isShippedList, SHIPPED_LISTS } from '../kb/lists.js';
import { firmFolders, spoolFolder } from '../paths.js';
import { type Engine, getFirm } from '../store/index.js';
import { FIRM_LIST_TEMPLATES, listEntriesTemplate } from '../templates/index.js';
import { exitCodeOf, printSummary } from './import-command.js';
import { EXIT, printJson, say, warn } from './output.js';

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
      // A firm's entry that repeats a shipped one (in another case) adds nothing to the list.
      const shipped = new Set(SHIPPED_LISTS[list].map((v) => v.toLowerCase()));
      for (const e of extra)
        if (!shipped.has(e.value.toLowerCase())) out.push({ value: e.value, source: 'firm' });
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
  let template = FIRM_LIST_TEMPLATES.find((t) => t.name === list);
  if (!template) {
    if (!isShippedList(list) || !EXTENDABLE_LISTS.includes(list)) {
      throw usageError(`the ${list} list cannot be extended by a firm`);
    }
    template = listEntriesTemplate(list);
  }
  const result = await importFile(engine, {
    firmId: o.firm,
    file,
    template,
    dryRun: o.dryRun,
    resultDir: firmFolders(dataDir, o.firm).results,
    spoolDir: spoolFolder(dataDir),
    onWait: () => warn(`waiting: another import of firm ${o.firm} is running; it finishes first`),
  });
  if (o.json) printJson(result);
  else printSummary(result);
  return exitCodeOf([result]);
}
