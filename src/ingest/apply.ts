// Applying a batch of valid rows to the system of record inside one transaction, with the meaning of
// applying them one by one in file order: resolve parents and references, load the stored records the
// batch touches, walk the rows (a later row sees an earlier one's effect), then write every touched
// record with one multi-row upsert and one audit row per changed field of an existing record.
import type { Expression, Kysely, SqlBool, Transaction } from 'kysely';
import type { RowError } from '../ledger/runs.js';
import type { Engine } from '../store/engine.js';
import type { Database } from '../store/schema.js';
import { type ImportTemplate, keyFields, PARENT_FIELD, storedColumns } from '../templates/types.js';
import { KEEP, type StoredValue } from './cells.js';
import type { ValidRow } from './rows.js';

type Db = Kysely<Database> | Transaction<Database>;
// biome-ignore lint/suspicious/noExplicitAny: record tables are addressed by template data
type AnyDb = Kysely<any> | Transaction<any>;

export interface PendingRow {
  row: number;
  cells: string[];
  valid: ValidRow;
}

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

const SEP = '\u0001';
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

/**
 * The parent (employer, or client) of each row, by its parent keys. Parents found are kept in the run's
 * cache: imports never delete or re-key an employer or a client, so a found parent stays valid for the
 * run, and a file that names the same clients batch after batch asks the database once.
 */
async function resolveParents(
  db: AnyDb,
  engine: Engine,
  t: ImportTemplate,
  firmId: string,
  rows: PendingRow[],
  cache: Map<string, Parent>,
) {
  const found = new Map<string, Parent>();
  if (t.parent === 'none') return found;
  const missing = rows.filter((r) => !cache.has(r.valid.parentKeys.join(SEP)));
  if (cache.size > PARENT_CACHE_LIMIT) cache.clear();
  if (t.parent === 'employer' && missing.length > 0) {
    const employers = [...new Set(missing.map((r) => r.valid.parentKeys[0]))];
    const got = await db
      .selectFrom('employers')
      .select(['id', 'employer_code'])
      .where('firm_id', '=', firmId)
      .where(engine.inList('employer_code', employers))
      .execute();
    for (const e of got) cache.set(e.employer_code, { id: e.id, employerId: e.id });
  }
  if (t.parent === 'client' && missing.length > 0) {
    const employees = [...new Set(missing.map((r) => r.valid.parentKeys[1]))];
    const got = await db
      .selectFrom('clients')
      .innerJoin('employers', 'employers.id', 'clients.employer_id')
      .select(['clients.id', 'clients.employer_id', 'employers.employer_code', 'clients.employee_id'])
      .where('clients.firm_id', '=', firmId)
      .where(engine.inList('clients.employee_id', employees)) // one list: two are probed as their cross product
      .execute();
    for (const c of got)
      cache.set(c.employer_code + SEP + c.employee_id, { id: c.id, employerId: c.employer_id });
  }
  // Only this batch's parents: callers list their ids.
  for (const r of rows) {
    const key = r.valid.parentKeys.join(SEP);
    const p = cache.get(key);
    if (p) found.set(key, p);
  }
  return found;
}

function parentProblem(t: ImportTemplate, keys: string[]): RowError {
  if (t.parent === 'employer') {
    return {
      row: 0,
      column: 'EmployerID',
      value: keys[0],
      message: `employer "${keys[0]}" does not exist for this firm (send it in company_Details_import first)`,
    };
  }
  return {
    row: 0,
    column: 'EmployeeID',
    value: keys[1],
    message:
      `no client with EmployerID "${keys[0]}" and EmployeeID "${keys[1]}" ` +
      '(send it in fn_Details_Data_import first)',
  };
}

/** Per referencing column: the set of `employerId SEP value` that exist. */
async function resolveReferences(
  db: AnyDb,
  t: ImportTemplate,
  firmId: string,
  rows: PendingRow[],
  parents: Map<string, Parent>,
) {
  const out = new Map<string, Set<string>>();
  for (const col of t.columns) {
    if (!col.ref) continue;
    const values = [
      ...new Set(rows.map((r) => r.valid.values[col.field!]).filter((v) => typeof v === 'string')),
    ];
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
      for (const r of await q.execute()) have.add(r.employer_id + SEP + r[col.ref.field]);
    }
    out.set(col.field!, have);
  }
  return out;
}

async function loadExisting(
  db: AnyDb,
  engine: Engine,
  t: ImportTemplate,
  firmId: string,
  rows: PendingRow[],
  parents: Map<string, Parent>,
) {
  const keys = keyFields(t);
  const existing = new Map<string, RecordState>();
  // One list parameter per query (SQLite probes two IN lists as their cross product). A client's own
  // records by (client id, first own key); an employer's contacts and clients by their own key alone
  // (an employer has many); anything else by its key. Then matched on the whole key below.
  const fields = storedColumns(t).map((c) => c.field!);
  const cols = t.parent === 'none' ? ['id', ...fields] : ['id', PARENT_FIELD[t.parent], ...fields];
  const own = keys[t.parent === 'none' ? 0 : 1];
  let where: Expression<SqlBool>;
  if (t.parent === 'client' && own) {
    const pairs = new Map<string, readonly [number, string]>();
    for (const r of rows) {
      const p = parents.get(r.valid.parentKeys.join(SEP));
      const v = r.valid.values[own];
      if (p && typeof v === 'string') pairs.set(p.id + SEP + v, [p.id, v]);
    }
    if (pairs.size === 0) return existing;
    where = engine.inPairs(PARENT_FIELD.client, own, [...pairs.values()]);
  } else if (t.parent === 'client') {
    const ids = [...new Set([...parents.values()].map((p) => p.id))];
    if (ids.length === 0) return existing;
    where = engine.inList(PARENT_FIELD.client, ids);
  } else {
    const values = [...new Set(rows.map((r) => r.valid.values[own]))];
    if (values.length === 0) return existing;
    where = engine.inList(own, values);
  }
  const got = await db.selectFrom(t.table).select(cols).where('firm_id', '=', firmId).where(where).execute();
  for (const r of got) {
    const { id, ...rest } = r;
    existing.set(keys.map((k) => rest[k]).join(SEP), { id, fields: rest, dirty: false });
  }
  return existing;
}

export async function applyBatch(
  db: Db,
  target: BatchTarget,
  rows: PendingRow[],
  now: string,
): Promise<BatchOutcome> {
  const { template: t, firmId } = target;
  const adb = db as AnyDb;
  const outcome: BatchOutcome = { created: 0, updated: 0, unchanged: 0, rejected: [] };
  if (rows.length === 0) return outcome; // `in ()` is an error on PostgreSQL
  const parents = await resolveParents(adb, target.engine, t, firmId, rows, target.parentCache);
  const refs = await resolveReferences(adb, t, firmId, rows, parents);
  const state = await loadExisting(adb, target.engine, t, firmId, rows, parents);
  const keys = keyFields(t);
  const stored = storedColumns(t);
  const fields = stored.map((c) => c.field!);
  const required = stored.filter((c) => c.required);
  const refColumns = t.columns.filter((c) => c.ref);
  const parentField = t.parent === 'none' ? undefined : PARENT_FIELD[t.parent];
  const audits: Array<{ rec: RecordState; field: string; old: StoredValue; now: StoredValue }> = [];

  for (const r of rows) {
    const problems: RowError[] = [];
    let parent: Parent | undefined;
    if (t.parent !== 'none') {
      parent = parents.get(r.valid.parentKeys.join(SEP));
      if (!parent) problems.push({ ...parentProblem(t, r.valid.parentKeys), row: r.row });
    }
    for (const col of refColumns) {
      const v = r.valid.values[col.field!];
      if (!col.ref || !parent || typeof v !== 'string') continue;
      if (!refs.get(col.field!)!.has(parent.employerId + SEP + v)) {
        problems.push({ row: r.row, column: col.name, value: v, message: `"${v}" ${col.ref.message}` });
      }
    }
    const incoming = r.valid.values; // the row's own object: nothing reads it after this batch
    if (parentField && parent) incoming[parentField] = parent.id;
    const key = keys.map((k) => incoming[k]).join(SEP);
    const rec = problems.length === 0 ? state.get(key) : undefined;
    if (problems.length === 0 && !rec) {
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
    if (problems.length > 0) {
      outcome.rejected.push({ row: r.row, cells: r.cells, problems });
      continue;
    }
    if (!rec) {
      const rec2: RecordState = { fields: {}, dirty: true };
      if (parentField) rec2.fields[parentField] = parent!.id;
      for (const f of fields) rec2.fields[f] = incoming[f] === KEEP ? null : (incoming[f] as StoredValue);
      state.set(key, rec2);
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

  await writeRecords(
    adb,
    target,
    [...state.values()].filter((s) => s.dirty),
    keys,
    parentField,
    fields,
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
  parentField: string | undefined,
  fields: string[],
  now: string,
): Promise<void> {
  if (dirty.length === 0) return;
  const all = parentField ? [parentField, ...fields] : fields;
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
        update: [...fields.filter((f) => !keys.includes(f)), 'updated_at', 'updated_run_id', 'updated_by'],
      },
      returning: ['id', ...keys],
    },
    rows,
  );
  const byKey = new Map(dirty.map((s) => [keys.map((k) => s.fields[k]).join(SEP), s]));
  for (const r of returned) {
    const s = byKey.get(keys.map((k) => r[k]).join(SEP));
    if (s) s.id = r.id;
  }
}
