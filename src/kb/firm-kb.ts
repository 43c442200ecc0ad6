// One firm's view of the knowledge base, loaded once per run: shipped lists plus the firm's own
// entries, its petitions, case managers and custom field definitions. Lookups are case-insensitive.
import type { Engine } from '../store/engine.js';
import type { KbListName } from '../templates/types.js';
import { findCountry } from './countries.js';
import { SHIPPED_LISTS } from './lists.js';

export interface CustomFieldDef {
  name: string;
  type: 'text' | 'number' | 'date' | 'yesno' | 'list';
  listValues: string[];
}

export interface FirmKb {
  /** The canonical spelling of `value` in `list`, or undefined when it is not an entry. */
  lookup(list: KbListName, value: string): string | undefined;
  customField(name: string): CustomFieldDef | undefined;
}

const fold = (s: string) => s.trim().toLowerCase();

function index(values: Iterable<string>): Map<string, string> {
  const m = new Map<string, string>();
  for (const v of values) if (!m.has(fold(v))) m.set(fold(v), v);
  return m;
}

export async function loadFirmKb(engine: Engine, firmId: string): Promise<FirmKb> {
  const db = engine.db;
  const [extra, petitions, managers, fields] = await Promise.all([
    db.selectFrom('kb_entries').select(['list_name', 'value']).where('firm_id', '=', firmId).execute(),
    db.selectFrom('petitions').select(['pet_id', 'active']).where('firm_id', '=', firmId).execute(),
    db.selectFrom('case_managers').select(['email', 'active']).where('firm_id', '=', firmId).execute(),
    db
      .selectFrom('custom_fields')
      .select(['field_name', 'field_type', 'list_values'])
      .where('firm_id', '=', firmId)
      .execute(),
  ]);
  const lists = new Map<string, Map<string, string>>();
  for (const [name, values] of Object.entries(SHIPPED_LISTS)) lists.set(name, index(values));
  for (const e of extra) {
    const m = lists.get(e.list_name);
    if (m && !m.has(fold(e.value))) m.set(fold(e.value), e.value);
  }
  // Inactive petitions and case managers are kept for history but refused for new data.
  lists.set('petitions', index(petitions.filter((p) => p.active !== 0).map((p) => String(p.pet_id))));
  lists.set(
    'case-managers',
    index(managers.filter((m) => m.active !== 0 && m.email).map((m) => String(m.email))),
  );
  const custom = new Map<string, CustomFieldDef>();
  for (const f of fields) {
    custom.set(fold(f.field_name), {
      name: f.field_name,
      type: f.field_type,
      listValues: f.list_values
        ? String(f.list_values)
            .split('|')
            .map((v: string) => v.trim())
        : [],
    });
  }
  return {
    lookup(list, value) {
      if (list === 'countries') return findCountry(value)?.name;
      return lists.get(list)?.get(fold(value));
    },
    customField: (name) => custom.get(fold(name)),
  };
}
