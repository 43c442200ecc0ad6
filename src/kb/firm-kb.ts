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

export interface KbEntry {
  /** The list's own spelling. */
  value: string;
  /** False for an inactive petition or case manager: kept for the cases that name it, refused for new ones. */
  active: boolean;
}

export interface FirmKb {
  /** The canonical spelling of `value` in `list`, or undefined when it is not an entry. */
  lookup(list: KbListName, value: string): string | undefined;
  /** The entry `value` names in `list`, active or not. */
  entry(list: KbListName, value: string): KbEntry | undefined;
  customField(name: string): CustomFieldDef | undefined;
}

const fold = (s: string) => s.trim().toLowerCase();

function index(values: Iterable<string>, active = () => true): Map<string, KbEntry> {
  const m = new Map<string, KbEntry>();
  for (const v of values) if (!m.has(fold(v))) m.set(fold(v), { value: v, active: active() });
  return m;
}

/** Active entries first, so an active spelling wins over an inactive one that folds the same. */
function indexWithActivity(entries: Array<{ value: string; active: boolean }>): Map<string, KbEntry> {
  const m = new Map<string, KbEntry>();
  for (const e of [...entries].sort((a, b) => Number(b.active) - Number(a.active))) {
    if (!m.has(fold(e.value))) m.set(fold(e.value), { value: e.value, active: e.active });
  }
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
  const lists = new Map<string, Map<string, KbEntry>>();
  for (const [name, values] of Object.entries(SHIPPED_LISTS)) lists.set(name, index(values));
  for (const e of extra) {
    const m = lists.get(e.list_name);
    if (m && !m.has(fold(e.value))) m.set(fold(e.value), { value: e.value, active: true });
  }
  // Inactive petitions and case managers are kept for the cases that name them (see rows.ts).
  lists.set(
    'petitions',
    indexWithActivity(petitions.map((p) => ({ value: String(p.pet_id), active: p.active !== 0 }))),
  );
  lists.set(
    'case-managers',
    indexWithActivity(
      managers.filter((m) => m.email).map((m) => ({ value: String(m.email), active: m.active !== 0 })),
    ),
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
      return lists.get(list)?.get(fold(value))?.value;
    },
    entry(list, value) {
      if (list === 'countries') {
        const c = findCountry(value);
        return c ? { value: c.name, active: true } : undefined;
      }
      return lists.get(list)?.get(fold(value));
    },
    customField: (name) => custom.get(fold(name)),
  };
}
