// The entries of a knowledge-base list as a firm sees them: the fixed Country List, a shipped list with
// the firm's own additions, or one of the firm's own lists (petitions, case managers, custom fields).
import { kbListUnknown, usageError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import { getFirm } from '../store/firms.js';
import { FIRM_LIST_TEMPLATES } from '../templates/index.js';
import { COUNTRIES } from './countries.js';
import { isShippedList, SHIPPED_LISTS } from './lists.js';

const FIRM_LISTS = FIRM_LIST_TEMPLATES.map((t) => t.name);
export const KB_LISTS = ['countries', ...Object.keys(SHIPPED_LISTS), ...FIRM_LISTS];

export type Entry = Record<string, string | number | boolean | null>;

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
