// Applying a batch of checked rows to the system of record inside one transaction, with the meaning of
// applying them one by one in file order: resolve parents and references, load the stored records the
// batch touches, walk the rows (a later row sees an earlier one's effect), then write every touched
// record with one multi-row upsert and one audit row per changed field of an existing record.
// Rows that already have problems walk too, so that what only the store can tell (an unknown parent,
// a supervisor who is not one, a kept required value that does not exist) is reported with them.
import type { Expression, Kysely, SqlBool, Transaction } from 'kysely';
import type { RowError } from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import type { Database } from '../store/schema.js';
import {
  type ImportTemplate,
  keyFields,
  ownKeyFields,
  PARENT_FIELD,
  storedColumns,
} from '../templates/types.js';
import { KEEP, type StoredValue } from './cells.js';
import type { CheckedRow } from './rows.js';

type Db = Kysely<Database> | Transaction<Database>;
// biome-ignore lint/suspicious/noExplicitAny: record tables are addressed by template data
type AnyDb = Kysely<any> | Transaction<any>;

export interface RejectedRow {
  row: number;
  cells: string[];
  problems: RowError[];
}

export interface BatchOutcome {
  created: number;
  updated: number;
  unchanged: number;
  rejected: RejectedRow[];
}

export interface BatchTarget {
  template: ImportTemplate;
  firmId: string;
  runId: number | null;
  /** Who made the change: `run:<id>`, `dry-run` or `user:<name>`. */
  by: string;
  engine: Engine;
  /** Parents found so far in this run (see resolveParents). */
  parentCache: Map<string, Parent>;
}

export interface Parent {
  id: number;
  employerId: number;
}

interface RecordState {
  id?: number;
  fields: Record<string, StoredValue>;
  dirty: boolean;
}

/**
 * One Map key for a tuple of values, never the same for two different tuples: each part but the last
 * carries its length, so no character a value may hold can join two keys (as a separator could).
 */
export function tupleKey(parts: readonly unknown[]): string {
  let key = '';
  for (let i = 0; i < parts.length - 1; i++) {
    const p = String(parts[i]);
    key += `${p.length}:${p}`;
  }
  return key + String(parts[parts.length - 1]);
}

const PARENT_CACHE_LIMIT = 20_000; // a few MB: memory must not grow with the file
const AUDIT_COLUMNS = [
  'firm_id',
  'table_name',
  'record_id',
  'field',
  'old_value',
  'new_value',
  'changed_at',
  'run_id',
  'changed_by',
];

/** The parent keys of a row when every one of them parsed. */
function parentKeysOf(r: CheckedRow): string[] | undefined {
  return r.mapped && r.parentKeys.every((k) => k !== undefined) ? (r.parentKeys as string[]) : undefined;
}

/**
 * The parent (employer, or client) of each row, by its parent keys. Parents found are kept in the run's
 * cache: imports never delete or re-key an employer or a client, so a found parent stays valid for the
 * run, and a file that names the same clients batch after batch asks the database once. The cache is
 * emptied before the lookup, never between the lookup and its use.
 */
async function resolveParents(
  db: AnyDb,
  engine: Engine,
  t: ImportTemplate,
  firmId: string,
  rows: CheckedRow[],
  cache: Map<string, Parent>,
) {
  const found = new Map<string, Parent>();
  if (t.parent === 'none') return found;
  if (cache.size > PARENT_CACHE_LIMIT) cache.clear();
  const missing: string[][] = [];
  for (const r of rows) {
    const keys = parentKeysOf(r);
    if (keys && !cache.has(tupleKey(keys))) missing.push(keys);
  }
  if (t.parent === 'employer' && missing.length > 0) {
    const employers = [...new Set(missing.map((k) => k[0]))];
    const got = await db
      .selectFrom('employers')
      .select(['id', 'employer_code'])
      .where('firm_id', '=', firmId)
      .where(engine.inList('employer_code', employers))
      .execute();
    for (const e of got) cache.set(tupleKey([e.employer_code]), { id: e.id, employerId: e.id });
  }
  if (t.parent === 'client' && missing.length > 0) {
    const employees = [...new Set(missing.map((k) => k[1]))];
    const got = await db
      .selectFrom('clients')
      .innerJoin('employers', 'employers.id', 'clients.employer_id')
      .select(['clients.id', 'clients.employer_id', 'employers.employer_code', 'clients.employee_id'])
      .where('clients.firm_id', '=', firmId)
      .where(engine.inList('clients.employee_id', employees)) // one list: two are probed as their cross product
      .execute();
    for (const c of got) {
      cache.set(tupleKey([c.employer_code, c.employee_id]), { id: c.id, employerId: c.employer_id });
    }
  }
  // Only this batch's parents: callers list their ids.
  for (const r of rows) {
    const keys = parentKeysOf(r);
    if (!keys) continue;
    const key = tupleKey(keys);
    const p = cache.get(key);
    if (p) found.set(key, p);
  }
  return found;
}

function parentProblem(t: ImportTemplate, row: number, keys: string[]): RowError {
  if (t.parent === 'employer') {
    return {
      row,
      column: 'EmployerID',
      value: keys[0],
      message: `employer "${keys[0]}" does not exist for this firm (send it in company_Details_import first)`,
    };
  }
  return {
    row,
    column: 'EmployeeID',
    value: keys[1],
    message:
      `no client with EmployerID "${keys[0]}" and EmployeeID "${keys[1]}" ` +
      '(send it in fn_Details_Data_import first)',
  };
}

/** Per referencing column: the keys (employer id, value) that exist. */
async function resolveReferences(
  db: AnyDb,
  t: ImportTemplate,
  firmId: string,
  rows: CheckedRow[],
  parents: Map<string, Parent>,
) {
  const out = new Map<string, Set<string>>();
  for (const col of t.columns) {
    if (!col.ref) continue;
    const values = [...new Set(rows.map((r) => r.values[col.field!]).filter((v) => typeof v === 'string'))];
    const employerIds = [...new Set([...parents.values()].map((p) => p.employerId))];
    const have = new Set<string>();
    if (values.length > 0 && employerIds.length > 0) {
      let q = db
        .selectFrom(col.ref.table)
        .select(['employer_id', col.ref.field])
        .where('firm_id', '=', firmId)
        .where('employer_id', 'in', employerIds)
        .where(col.ref.field, 'in', values);
      for (const [f, v] of Object.entries(col.ref.where)) q = q.where(f, '=', v);
      for (const r of await q.execute()) have.add(tupleKey([r.employer_id, r[col.ref.field]]));
    }
    out.set(col.field!, have);
  }
  return out;
}

/** The record key of a row, when its parent is known and every key cell parsed. */
function recordKey(
  t: ImportTemplate,
  keys: readonly string[],
  parentField: string | undefined,
  r: CheckedRow,
  parent: Parent | undefined,
): string | undefined {
  if (parentField && !parent) return undefined;
  const parts: unknown[] = [];
  for (const k of keys) {
    const v = k === parentField ? parent!.id : (t.fixed?.[k] ?? r.values[k]);
    if (v === undefined || v === null || v === KEEP) return undefined;
    parts.push(v);
  }
  return tupleKey(parts);
}

async function loadExisting(
  db: AnyDb,
  engine: Engine,
  t: ImportTemplate,
  firmId: string,
  rows: CheckedRow[],
  parents: Map<string, Parent>,
) {
  const keys = keyFields(t);
  const existing = new Map<string, RecordState>();
  // One list parameter per query (SQLite probes two IN lists as their cross product). A client's own
  // records by (client id, first own key); an employer's contacts and clients by their own key alone
  // (an employer has many); anything else by its key. Then matched on the whole key below.
  const fields = storedColumns(t).map((c) => c.field!);
  const fixed = Object.keys(t.fixed ?? {});
  const cols = t.parent === 'none' ? ['id', ...fixed, ...fields] : ['id', PARENT_FIELD[t.parent], ...fields];
  const own = ownKeyFields(t)[0];
  const parentOf = (r: CheckedRow) => {
    const k = parentKeysOf(r);
    return k ? parents.get(tupleKey(k)) : undefined;
  };
  let where: Expression<SqlBool>;
  if (t.parent === 'client' && own) {
    const pairs = new Map<string, readonly [number, string]>();
    for (const r of rows) {
      const p = parentOf(r);
      const v = r.values[own];
      if (p && typeof v === 'string') pairs.set(tupleKey([p.id, v]), [p.id, v]);
    }
    if (pairs.size === 0) return existing;
    where = engine.inPairs(PARENT_FIELD.client, own, [...pairs.values()]);
  } else if (t.parent === 'client') {
    const ids = [...new Set([...parents.values()].map((p) => p.id))];
    if (ids.length === 0) return existing;
    where = engine.inList(PARENT_FIELD.client, ids);
  } else {
    const values = [...new Set(rows.map((r) => r.values[own]).filter((v) => typeof v === 'string'))];
    if (values.length === 0) return existing;
    where = engine.inList(own, values);
  }
  let q = db.selectFrom(t.table).select(cols).where('firm_id', '=', firmId).where(where);
  for (const [f, v] of Object.entries(t.fixed ?? {})) q = q.where(f, '=', v);
  for (const r of await q.execute()) {
    const { id, ...rest } = r;
    existing.set(tupleKey(keys.map((k) => rest[k])), { id, fields: rest, dirty: false });
  }
  for (const v of t.shipped ?? []) {
    const fields: Record<string, StoredValue> = { ...t.fixed, [own]: v };
    const key = tupleKey(keys.map((k) => fields[k]));
    if (!existing.has(key)) existing.set(key, { fields, dirty: false });
  }
  return existing;
}

export async function applyBatch(
  db: Db,
  target: BatchTarget,
  rows: CheckedRow[],
  now: string,
): Promise<BatchOutcome> {
  const { template: t, firmId } = target;
  const adb = db as AnyDb;
  const outcome: BatchOutcome = { created: 0, updated: 0, unchanged: 0, rejected: [] };
  const mapped = rows.filter((r) => r.mapped);
  const parents = await resolveParents(adb, target.engine, t, firmId, mapped, target.parentCache);
  const refs = await resolveReferences(adb, t, firmId, mapped, parents);
  const state = await loadExisting(adb, target.engine, t, firmId, mapped, parents);
  const keys = keyFields(t);
  const stored = storedColumns(t);
  const fields = stored.map((c) => c.field!);
  const fixed = Object.entries(t.fixed ?? {});
  const required = stored.filter((c) => c.required);
  const refColumns = t.columns.filter((c) => c.ref);
  const parentField = t.parent === 'none' ? undefined : PARENT_FIELD[t.parent];
  const audits: Array<{ rec: RecordState; field: string; old: StoredValue; now: StoredValue }> = [];

  for (const r of rows) {
    const problems: RowError[] = r.problems.map((p) => ({ row: r.row, ...p }));
    if (!r.mapped) {
      outcome.rejected.push({ row: r.row, cells: r.cells, problems });
      continue;
    }
    let parent: Parent | undefined;
    if (t.parent !== 'none') {
      const pk = parentKeysOf(r);
      parent = pk ? parents.get(tupleKey(pk)) : undefined;
      if (pk && !parent) problems.push(parentProblem(t, r.row, pk));
    }
    for (const col of refColumns) {
      const v = r.values[col.field!];
      if (!col.ref || !parent || typeof v !== 'string') continue;
      if (!refs.get(col.field!)!.has(tupleKey([parent.employerId, v]))) {
        problems.push({ row: r.row, column: col.name, value: v, message: `"${v}" ${col.ref.message}` });
      }
    }
    const incoming = r.values; // the row's own object: nothing reads it after this batch
    const key = recordKey(t, keys, parentField, r, parent);
    const rec = key === undefined ? undefined : state.get(key);
    if (key !== undefined && !rec) {
      for (const col of required) {
        if (incoming[col.field!] === KEEP) {
          problems.push({
            row: r.row,
            column: col.name,
            value: String(r.cells[t.columns.indexOf(col)] ?? ''),
            message: `${col.name} is required: "Zoom No Update" keeps a stored value, and this record is new`,
          });
        }
      }
    }
    for (const ref of r.inactive ?? []) {
      // An inactive petition or case manager stays on the records that already name it.
      if (key !== undefined && rec?.fields[ref.field] === ref.value) continue;
      problems.push({
        row: r.row,
        column: ref.column,
        value: ref.value,
        message: `"${ref.value}" is inactive: only a record that already names it can keep it`,
      });
    }
    if (problems.length > 0 || key === undefined) {
      outcome.rejected.push({ row: r.row, cells: r.cells, problems });
      continue;
    }
    if (!rec) {
      const created: RecordState = { fields: {}, dirty: true };
      if (parentField) created.fields[parentField] = parent!.id;
      for (const [f, v] of fixed) created.fields[f] = v;
      for (const f of fields) created.fields[f] = incoming[f] === KEEP ? null : (incoming[f] as StoredValue);
      state.set(key, created);
      outcome.created++;
      continue;
    }
    let changed = false;
    for (const f of fields) {
      const v = incoming[f];
      if (v === KEEP) continue;
      const old = rec.fields[f] ?? null;
      if (old !== v) {
        audits.push({ rec, field: f, old, now: v });
        rec.fields[f] = v;
        changed = true;
      }
    }
    if (changed) {
      rec.dirty = true;
      outcome.updated++;
    } else outcome.unchanged++;
  }

  const all = [...(parentField ? [parentField] : []), ...fixed.map(([f]) => f), ...fields];
  await writeRecords(
    adb,
    target,
    [...state.values()].filter((s) => s.dirty),
    keys,
    all,
    fields.filter((f) => !keys.includes(f)),
    now,
  );
  const auditRows = audits.map((a) => [
    firmId,
    t.table,
    a.rec.id!,
    a.field,
    a.old === null ? null : String(a.old),
    a.now === null ? null : String(a.now),
    now,
    target.runId,
    target.by,
  ]);
  if (auditRows.length > 0) {
    await target.engine.bulkWrite(db, { table: 'audit', columns: AUDIT_COLUMNS }, auditRows);
  }
  return outcome;
}

async function writeRecords(
  db: AnyDb,
  target: BatchTarget,
  dirty: RecordState[],
  keys: string[],
  all: string[],
  update: string[],
  now: string,
): Promise<void> {
  if (dirty.length === 0) return;
  const rows = dirty.map((s) => {
    const row: unknown[] = [target.firmId];
    for (const f of all) row.push(s.fields[f] ?? null);
    row.push(now, now, target.runId, target.runId, target.by);
    return row;
  });
  const returned = await target.engine.bulkWrite(
    db as Kysely<Database>,
    {
      table: target.template.table,
      columns: [
        'firm_id',
        ...all,
        'created_at',
        'updated_at',
        'created_run_id',
        'updated_run_id',
        'updated_by',
      ],
      upsert: {
        conflict: ['firm_id', ...keys],
        update: [...update, 'updated_at', 'updated_run_id', 'updated_by'],
      },
      returning: ['id', ...keys],
    },
    rows,
  );
  const byKey = new Map(dirty.map((s) => [tupleKey(keys.map((k) => s.fields[k])), s]));
  for (const r of returned) {
    const s = byKey.get(tupleKey(keys.map((k) => r[k])));
    if (s) s.id = r.id;
  }
}
