// Applying a batch of checked rows to the system of record inside one transaction, with the meaning of
// applying them one by one in file order: resolve parents and references, load the stored records the
// batch touches, walk the rows (a later row sees an earlier one's effect), then write every touched
// record (row by row, or in sets: updates by id and inserts) and one audit row per changed field of
// an existing record.
// Rows that already have problems walk too, so that what only the store can tell (an unknown parent,
// a supervisor who is not one, a kept required value that does not exist) is reported with them.
import type { Expression, Kysely, SqlBool, Transaction } from 'kysely';
import type { RowError } from '../ledger/runs.js';
import type { BulkWrite, Engine, RowStatements } from '../store/engine.js';
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
  /** At most how many rows the file holds: a large file has every parent loaded at once. */
  rowsBound?: number;
  /** Every parent of the firm, once loaded (see preloadParents); null when the run looks them up. */
  allParents?: AllParents | null;
}

/** Every parent of a firm, compactly: employer ids by code, and client ids by employer code and employee id. */
interface AllParents {
  employers: Map<string, number>;
  clients: Map<string, Map<string, number>>;
}

export interface Parent {
  id: number;
  employerId: number;
}

/** The parent of a row of the batch, once resolved (resolveParents), or undefined if it has none. */
type ParentOf = (r: CheckedRow) => Parent | undefined;

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
/**
 * A file of more rows than the cache holds, of a firm with at most this many parents, loads them all
 * with one query (about 25 MB at the limit): a batch-by-batch lookup costs an index probe per row
 * on PostgreSQL (about 20 s for a million rows), a whole-firm read well under a second.
 */
const PARENT_PRELOAD_LIMIT = 250_000;
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

/** The Map key of a row's parent keys (tupleKey), made once per row; undefined if one did not parse. */
function parentKeyOf(r: CheckedRow): string | undefined {
  if (r.parentKey === undefined) {
    const keys = parentKeysOf(r);
    r.parentKey = keys ? tupleKey(keys) : null;
  }
  return r.parentKey ?? undefined;
}

/**
 * The parent (employer, or client) of each row, by its parent keys. Parents found are kept in the run's
 * cache: imports never delete or re-key an employer or a client, so a found parent stays valid for the
 * run, and a file that names the same clients batch after batch asks the database once. The cache is
 * emptied before the lookup, never between the lookup and its use.
 */
async function resolveParents(
  db: AnyDb,
  target: BatchTarget,
  rows: CheckedRow[],
  rowwise: RowStatements | undefined,
): Promise<ParentOf> {
  const { engine, template: t, firmId, parentCache: cache } = target;
  const found = new Map<string, Parent>();
  const inFound: ParentOf = (r) => {
    const key = parentKeyOf(r);
    return key === undefined ? undefined : found.get(key);
  };
  if (t.parent === 'none') return () => undefined;
  if (rowwise) {
    // A seek per parent costs no round trip here: nothing to cache between batches.
    const find = rowwise(
      t.parent === 'employer'
        ? 'select id, id from employers where firm_id = ? and employer_code = ?'
        : 'select c.id, c.employer_id from clients c join employers e on e.id = c.employer_id ' +
            'where c.firm_id = ? and c.employee_id = ? and e.employer_code = ?',
    );
    for (const r of rows) {
      const keys = parentKeysOf(r);
      if (!keys) continue;
      const key = parentKeyOf(r)!;
      if (found.has(key)) continue;
      const got = find.get(t.parent === 'employer' ? [firmId, keys[0]] : [firmId, keys[1], keys[0]]);
      if (got) found.set(key, { id: got[0] as number, employerId: got[1] as number });
    }
    return inFound;
  }
  if (target.allParents === undefined) target.allParents = await preloadParents(db, target);
  const all = target.allParents;
  if (all) {
    // Looked up by the cells themselves: no key to build per row.
    return (r) => {
      if (!r.mapped) return undefined;
      const code = r.parentKeys[0];
      const employerId = code === undefined ? undefined : all.employers.get(code);
      if (employerId === undefined) return undefined;
      if (t.parent === 'employer') return { id: employerId, employerId };
      const employee = r.parentKeys[1];
      const id = employee === undefined ? undefined : all.clients.get(code!)?.get(employee);
      return id === undefined ? undefined : { id, employerId };
    };
  }
  if (cache.size > PARENT_CACHE_LIMIT) cache.clear();
  const missing: string[][] = [];
  for (const r of rows) {
    const key = parentKeyOf(r);
    if (key !== undefined && !cache.has(key)) missing.push(r.parentKeys as string[]);
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
    const key = parentKeyOf(r);
    const p = key === undefined ? undefined : cache.get(key);
    if (p) found.set(key!, p);
  }
  return inFound;
}

/** The distinct parents of rows. */
function distinctParents(rows: CheckedRow[], parentOf: ParentOf): Parent[] {
  const byId = new Map<number, Parent>();
  for (const r of rows) {
    const p = parentOf(r);
    if (p) byId.set(p.id, p);
  }
  return [...byId.values()];
}

/**
 * Every parent of the firm, when the file is larger than the cache and the firm has few enough (a firm's
 * imports run one at a time and none deletes or re-keys a parent, so the set stays true for the run).
 */
async function preloadParents(db: AnyDb, target: BatchTarget): Promise<AllParents | null> {
  const { template: t, firmId } = target;
  if ((target.rowsBound ?? 0) <= PARENT_CACHE_LIMIT) return null;
  const table = t.parent === 'employer' ? 'employers' : 'clients';
  const { n } = await db
    .selectFrom(table)
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('firm_id', '=', firmId)
    .executeTakeFirstOrThrow();
  if (Number(n) > PARENT_PRELOAD_LIMIT) return null;
  const all: AllParents = { employers: new Map(), clients: new Map() };
  const codes = new Map<number, Map<string, number>>();
  const employers = db.selectFrom('employers').select(['id', 'employer_code']).where('firm_id', '=', firmId);
  for await (const e of employers.stream(2000)) {
    all.employers.set(e.employer_code, e.id);
    if (t.parent === 'client') {
      const byEmployee = new Map<string, number>();
      all.clients.set(e.employer_code, byEmployee);
      codes.set(e.id, byEmployee);
    }
  }
  if (t.parent === 'client') {
    const clients = db
      .selectFrom('clients')
      .select(['id', 'employer_id', 'employee_id'])
      .where('firm_id', '=', firmId);
    for await (const c of clients.stream(2000)) codes.get(c.employer_id)?.set(c.employee_id, c.id);
  }
  return all;
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
  parentOf: ParentOf,
) {
  const out = new Map<string, Set<string>>();
  let employerIds: number[] | undefined;
  for (const col of t.columns) {
    if (!col.ref) continue;
    const values = [...new Set(rows.map((r) => r.values[col.field!]).filter((v) => typeof v === 'string'))];
    employerIds ??= [...new Set(distinctParents(rows, parentOf).map((p) => p.employerId))];
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

/** The record key of a row (its values in keyFields order), when its parent is known and every key cell parsed. */
function recordKey(
  t: ImportTemplate,
  keys: readonly string[],
  parentField: string | undefined,
  r: CheckedRow,
  parent: Parent | undefined,
): StoredValue[] | undefined {
  if (parentField && !parent) return undefined;
  const parts: StoredValue[] = [];
  for (const k of keys) {
    const v = k === parentField ? parent!.id : (t.fixed?.[k] ?? r.values[k]);
    if (v === undefined || v === null || v === KEEP) return undefined;
    parts.push(v);
  }
  return parts;
}

/** A change of one field of an existing record. */
type FieldChange = [field: string, old: StoredValue, now: StoredValue];

/**
 * Where the row walk finds records and leaves what it does to them. Two ways, one meaning (rows applied
 * one by one in file order): row by row in the store, where statements cost no round trip (SQLite), or
 * a batch's records loaded at once and written back in sets (PostgreSQL).
 */
interface Records {
  /** The record of a key as it stands after the earlier rows, or undefined if there is none. */
  find(key: StoredValue[]): RecordState | undefined;
  /** A new record (every stored field set). */
  create(key: StoredValue[], fields: Record<string, StoredValue>): void;
  /**
   * Creates the record unless one with its key exists (then nothing is written): false if it exists.
   * Offered where it costs less than a lookup (one statement instead of two for a new record).
   */
  tryCreate?(key: StoredValue[], fields: Record<string, StoredValue>): boolean;
  /** Changes of an existing record, each audited. */
  change(rec: RecordState, changes: FieldChange[]): void;
  /** Writes what is still held. */
  flush(): Promise<void>;
}

/** The columns a record is read with: its parent (or fixed values) and its stored fields. */
function readColumns(t: ImportTemplate): string[] {
  const fields = storedColumns(t).map((c) => c.field!);
  return t.parent === 'none'
    ? [...Object.keys(t.fixed ?? {}), ...fields]
    : [PARENT_FIELD[t.parent], ...fields];
}

/** A shipped list entry that exists without a stored row (see ImportTemplate.shipped). */
function shippedRecord(
  t: ImportTemplate,
  keys: readonly string[],
  key: StoredValue[],
): RecordState | undefined {
  const own = ownKeyFields(t)[0];
  const v = key[keys.indexOf(own)];
  if (!t.shipped || typeof v !== 'string' || !t.shipped.includes(v)) return undefined;
  return { fields: { ...t.fixed, [own]: v }, dirty: false };
}

/** The fields a record is written with: its parent, fixed values and stored fields. */
function writtenFields(t: ImportTemplate): string[] {
  const fields = storedColumns(t).map((c) => c.field!);
  const parent = t.parent === 'none' ? [] : [PARENT_FIELD[t.parent]];
  return [...parent, ...Object.keys(t.fixed ?? {}), ...fields];
}

/** The columns a new record is inserted with (see recordValues). */
function recordColumns(all: readonly string[]): string[] {
  return ['firm_id', ...all, 'created_at', 'updated_at', 'created_run_id', 'updated_run_id', 'updated_by'];
}

/** A new record's values, in recordColumns order. */
function recordValues(
  target: BatchTarget,
  all: readonly string[],
  fields: Record<string, StoredValue>,
  now: string,
): unknown[] {
  const values: unknown[] = [target.firmId];
  for (const f of all) values.push(fields[f] ?? null);
  values.push(now, now, target.runId, target.runId, target.by);
  return values;
}

/** An audit row of one changed field, in AUDIT_COLUMNS order. */
function auditValues(
  target: BatchTarget,
  recordId: number,
  field: string,
  old: StoredValue,
  value: StoredValue,
  now: string,
): unknown[] {
  const text = (v: StoredValue) => (v === null ? null : String(v));
  return [
    target.firmId,
    target.template.table,
    recordId,
    field,
    text(old),
    text(value),
    now,
    target.runId,
    target.by,
  ];
}

/** Records read and written one row at a time through prepared statements (see Engine.rowStatements). */
function rowByRowRecords(st: RowStatements, target: BatchTarget, now: string): Records {
  const { template: t, firmId } = target;
  const q = (name: string) => `"${name}"`;
  const keys = keyFields(t);
  const cols = readColumns(t);
  const fields = storedColumns(t).map((c) => c.field!);
  const all = writtenFields(t);
  const update = fields.filter((f) => !keys.includes(f));
  const find = st(
    `select id, ${cols.map(q).join(',')} from ${q(t.table)} where firm_id = ? ${keys.map((k) => `and ${q(k)} = ?`).join(' ')}`,
  );
  const insertCols = recordColumns(all);
  const insert = st(
    `insert into ${q(t.table)} (${insertCols.map(q).join(',')}) values (${insertCols.map(() => '?').join(',')})`,
  );
  const set = [...update, 'updated_at', 'updated_run_id', 'updated_by'];
  const updateById = st(`update ${q(t.table)} set ${set.map((c) => `${q(c)} = ?`).join(',')} where id = ?`);
  const insertNew = st(
    `insert into ${q(t.table)} (${insertCols.map(q).join(',')}) values (${insertCols.map(() => '?').join(',')}) on conflict do nothing`,
  );
  const audit = st(
    `insert into audit (${AUDIT_COLUMNS.join(',')}) values (${AUDIT_COLUMNS.map(() => '?').join(',')})`,
  );
  const insertValues = (fields: Record<string, StoredValue>) => recordValues(target, all, fields, now);
  const write = (rec: RecordState) => {
    if (rec.id === undefined) {
      rec.id = insert.run(insertValues(rec.fields)).lastId;
      return;
    }
    const values: unknown[] = [];
    for (const f of update) values.push(rec.fields[f] ?? null);
    values.push(now, target.runId, target.by, rec.id);
    updateById.run(values);
  };
  return {
    find(key) {
      const row = find.get([firmId, ...key]);
      if (!row) return shippedRecord(t, keys, key);
      const rec: RecordState = { id: row[0] as number, fields: {}, dirty: false };
      for (let i = 0; i < cols.length; i++) rec.fields[cols[i]] = row[i + 1] as StoredValue;
      return rec;
    },
    create(_key, fields) {
      write({ fields, dirty: true });
    },
    // A shipped entry exists without a row: only a stored row can say "exists" here.
    tryCreate: t.shipped ? undefined : (_key, fields) => insertNew.run(insertValues(fields)).changes === 1,
    change(rec, changes) {
      for (const [f, , v] of changes) rec.fields[f] = v;
      write(rec);
      for (const [f, old, v] of changes) {
        audit.run(auditValues(target, rec.id!, f, old, v, now));
      }
    },
    flush: async () => {},
  };
}

/** A batch's records loaded with one query, changed in memory, and written back in sets. */
async function setRecords(
  db: AnyDb,
  target: BatchTarget,
  rows: CheckedRow[],
  parentOf: ParentOf,
  now: string,
): Promise<Records> {
  const { template: t, firmId } = target;
  const state = await loadExisting(db, target.engine, t, firmId, rows, parentOf);
  const keys = keyFields(t);
  const fields = storedColumns(t).map((c) => c.field!);
  const all = writtenFields(t);
  const audits: Array<{ rec: RecordState; field: string; old: StoredValue; now: StoredValue }> = [];
  // The walk creates a record right after finding none under the same key: its Map key is made once.
  let lastKey: StoredValue[] | undefined;
  let lastMapKey = '';
  const mapKey = (key: StoredValue[]) => {
    if (key !== lastKey) {
      lastKey = key;
      lastMapKey = tupleKey(key);
    }
    return lastMapKey;
  };
  return {
    find: (key) => state.get(mapKey(key)),
    create(key, fields) {
      state.set(mapKey(key), { fields, dirty: true });
    },
    change(rec, changes) {
      for (const [field, old, v] of changes) {
        audits.push({ rec, field, old, now: v });
        rec.fields[field] = v;
      }
      rec.dirty = true;
    },
    async flush() {
      await writeRecords(
        db,
        target,
        [...state.values()].filter((s) => s.dirty),
        new Set(audits.map((a) => a.rec)),
        keys,
        all,
        fields.filter((f) => !keys.includes(f)),
        now,
      );
      const auditRows = audits.map((a) => auditValues(target, a.rec.id!, a.field, a.old, a.now, now));
      if (auditRows.length > 0) {
        await target.engine.bulkWrite(db as Db, { table: 'audit', columns: AUDIT_COLUMNS }, auditRows);
      }
    },
  };
}

async function loadExisting(
  db: AnyDb,
  engine: Engine,
  t: ImportTemplate,
  firmId: string,
  rows: CheckedRow[],
  parentOf: ParentOf,
) {
  const keys = keyFields(t);
  const existing = new Map<string, RecordState>();
  // One list parameter per query (SQLite probes two IN lists as their cross product). A client's own
  // records by (client id, first own key); an employer's contacts and clients by their own key alone
  // (an employer has many); anything else by its key. Then matched on the whole key below.
  const cols = ['id', ...readColumns(t)];
  const own = ownKeyFields(t)[0];
  let where: Expression<SqlBool>;
  if (t.parent === 'client' && own) {
    const pairs = new Map<string, readonly [number, string]>();
    for (const r of rows) {
      const p = parentOf(r);
      const v = r.values[own];
      if (p && typeof v === 'string') pairs.set(`${p.id}:${v}`, [p.id, v]); // an id has no ':'
    }
    if (pairs.size === 0) return existing;
    where = engine.inPairs(PARENT_FIELD.client, own, [...pairs.values()]);
  } else if (t.parent === 'client') {
    const ids = distinctParents(rows, parentOf).map((p) => p.id);
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
  const rowwise = target.engine.rowStatements(db);
  const parentOf = await resolveParents(adb, target, mapped, rowwise);
  const refs = await resolveReferences(adb, t, firmId, mapped, parentOf);
  const records = rowwise
    ? rowByRowRecords(rowwise, target, now)
    : await setRecords(adb, target, mapped, parentOf, now);
  const keys = keyFields(t);
  const stored = storedColumns(t);
  const fields = stored.map((c) => c.field!);
  const fixed = Object.entries(t.fixed ?? {});
  const required = stored.filter((c) => c.required);
  const refColumns = t.columns.filter((c) => c.ref);
  const parentField = t.parent === 'none' ? undefined : PARENT_FIELD[t.parent];
  let expectNew = true;

  for (const r of rows) {
    const problems: RowError[] = r.problems.map((p) => ({ row: r.row, ...p }));
    if (!r.mapped) {
      outcome.rejected.push({ row: r.row, cells: r.cells, problems });
      continue;
    }
    let parent: Parent | undefined;
    if (t.parent !== 'none') {
      parent = parentOf(r);
      const keys = parent ? undefined : parentKeysOf(r);
      if (keys) problems.push(parentProblem(t, r.row, keys));
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
    const createdFields = () => {
      const created: Record<string, StoredValue> = {};
      if (parentField) created[parentField] = parent!.id;
      for (const [f, v] of fixed) created[f] = v;
      for (const f of fields) created[f] = incoming[f] === KEEP ? null : (incoming[f] as StoredValue);
      return created;
    };
    // A row that would be valid whether its record is new or not: when the rows before it were new
    // records, try to create its record first and look it up only if it exists.
    if (
      key !== undefined &&
      records.tryCreate &&
      expectNew &&
      problems.length === 0 &&
      !r.inactive &&
      !required.some((c) => incoming[c.field!] === KEEP)
    ) {
      if (records.tryCreate(key, createdFields())) {
        outcome.created++;
        continue;
      }
      expectNew = false;
    }
    const rec = key === undefined ? undefined : records.find(key);
    if (key !== undefined) expectNew = !rec;
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
      records.create(key, createdFields());
      outcome.created++;
      continue;
    }
    const changes: FieldChange[] = [];
    for (const f of fields) {
      const v = incoming[f];
      if (v === KEEP) continue;
      const old = rec.fields[f] ?? null;
      if (old !== v) changes.push([f, old, v]);
    }
    if (changes.length > 0) {
      records.change(rec, changes);
      outcome.updated++;
    } else outcome.unchanged++;
  }
  await records.flush();
  return outcome;
}

/**
 * Writes a batch's changed records: the stored ones updated by id (loadExisting read them), the new ones
 * inserted, with no conflict clause (loadExisting read every stored record of the batch's keys, and
 * the firm's import lease keeps other writers out). Only new records that an audit row names are
 * inserted returning their ids.
 */
async function writeRecords(
  db: AnyDb,
  target: BatchTarget,
  dirty: RecordState[],
  audited: Set<RecordState>,
  keys: string[],
  all: string[],
  update: string[],
  now: string,
): Promise<void> {
  if (dirty.length === 0) return;
  const values = (s: RecordState) => recordValues(target, all, s.fields, now);
  const write = (rows: RecordState[], w: Omit<BulkWrite, 'table' | 'columns'>) =>
    rows.length === 0
      ? Promise.resolve([])
      : target.engine.bulkWrite(
          db as Kysely<Database>,
          {
            table: target.template.table,
            columns: recordColumns(all),
            ...w,
          },
          rows.map(values),
        );
  const stored = dirty.filter((s) => s.id !== undefined);
  const fresh = dirty.filter((s) => s.id === undefined && !audited.has(s));
  const named = dirty.filter((s) => s.id === undefined && audited.has(s));
  if (stored.length > 0) {
    const set = [...update, 'updated_at', 'updated_run_id', 'updated_by'];
    await target.engine.bulkWrite(
      db as Kysely<Database>,
      { table: target.template.table, columns: ['id', ...set], byId: true },
      stored.map((s) => [s.id, ...update.map((f) => s.fields[f] ?? null), now, target.runId, target.by]),
    );
  }
  await write(fresh, {});
  const returned = await write(named, { returning: ['id', ...keys] });
  const byKey = new Map(named.map((s) => [tupleKey(keys.map((k) => s.fields[k])), s]));
  for (const r of returned) {
    const s = byKey.get(tupleKey(keys.map((k) => r[k])));
    if (s) s.id = r.id;
  }
}
