// `caseport kb list|import|export`: the knowledge base's shipped lists, a firm's own entries and its
// per-firm lists (petitions, case managers, custom fields).
import { kbListUnknown, usageError } from '../errors.js';
import { importFile } from '../ingest/index.js';
import { KB_LISTS, kbEntries } from '../kb/entries.js';
import { EXTENDABLE_LISTS, isShippedList } from '../kb/lists.js';
import { firmFolders, spoolFolder } from '../paths.js';
import { type Engine, getFirm } from '../store/index.js';
import { FIRM_LIST_TEMPLATES, listEntriesTemplate } from '../templates/index.js';
import { exitCodeOf, printSummary } from './import-command.js';
import { EXIT, printJson, say, warn } from './output.js';

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
