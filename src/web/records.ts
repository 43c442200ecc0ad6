// A firm's records as the reports show them: clients found by EmployeeID or name, and a client's page
// (its own fields, its passports, visas, expirations, addresses, education, supervisors, custom data and
// cases, each as the import template names its columns) with the audit trail of every field a run
// changed on any of them. Every query is scoped by the firm.
import { sql } from 'kysely';
import type { Engine } from '../store/engine.js';
import type { RecordTableName } from '../store/schema.js';
import { IMPORT_TEMPLATES, type ImportTemplate, storedColumns } from '../templates/index.js';

export interface ClientHit {
  id: number;
  employerCode: string;
  employeeId: string;
  name: string;
}

const clientTemplate = IMPORT_TEMPLATES.find((t) => t.table === 'clients')!;
/** The client's own records, in the order the page shows them. */
const CHILD_TEMPLATES = IMPORT_TEMPLATES.filter((t) => t.parent === 'client');

const fullName = (r: Record<string, unknown>) =>
  [r.first_name, r.middle_name, r.last_name].filter((v) => typeof v === 'string' && v !== '').join(' ');

/** Clients whose EmployeeID is the query, or whose first or last name starts with it (any case). */
export async function searchClients(
  engine: Engine,
  firmId: string,
  query: string,
  limit = 50,
): Promise<ClientHit[]> {
  const q = query.trim().slice(0, 100);
  if (!q) return [];
  const like = (t: string) => `${t.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const prefix = like(q);
  const words = q.split(/\s+/);
  // SQLite has no default escape character for LIKE; PostgreSQL's is the backslash: both named.
  // Lower-cased as JavaScript does (É is é): SQLite's own lower() knows ASCII letters only.
  const lower = sql.raw(engine.kind === 'sqlite' ? 'unicode_lower' : 'lower');
  const starts = (column: string, p: string) =>
    sql<boolean>`${lower}(${sql.ref(column)}) like ${p} escape '\\'`;
  const rows = await engine.db
    .selectFrom('clients')
    .innerJoin('employers', 'employers.id', 'clients.employer_id')
    .select([
      'clients.id',
      'employers.employer_code',
      'clients.employee_id',
      'clients.first_name',
      'clients.middle_name',
      'clients.last_name',
    ])
    .where('clients.firm_id', '=', firmId)
    .where((e) =>
      e.or([
        starts('clients.employee_id', prefix),
        starts('clients.first_name', prefix),
        starts('clients.last_name', prefix),
        // "Jane Do": a first name and a last name, each by its start.
        ...(words.length === 2
          ? [
              e.and([
                starts('clients.first_name', like(words[0])),
                starts('clients.last_name', like(words[1])),
              ]),
            ]
          : []),
      ]),
    )
    .orderBy('clients.last_name')
    .orderBy('clients.first_name')
    .orderBy('clients.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    employerCode: String(r.employer_code),
    employeeId: String(r.employee_id),
    name: fullName(r as Record<string, unknown>),
  }));
}

export interface RecordView {
  id: number;
  /** Column name (as the template spells it) → stored value. */
  fields: Array<{ column: string; value: unknown }>;
  createdAt: string;
  updatedAt: string;
  createdRunId: number | null;
  updatedRunId: number | null;
}

export interface AuditEntry {
  table: string;
  recordId: number;
  /** The template's column name of the field. */
  column: string;
  old: string | null;
  now: string | null;
  at: string;
  runId: number | null;
  by: string;
}

export interface ClientPage {
  id: number;
  employerCode: string;
  employeeId: string;
  name: string;
  client: RecordView;
  sections: Array<{ template: string; table: string; records: RecordView[] }>;
  audit: AuditEntry[];
  /** The file each run named on the page processed (a run is one file's import). */
  runFiles: Map<number, { fileId: number | null; name: string }>;
}

function view(t: ImportTemplate, r: Record<string, unknown>): RecordView {
  return {
    id: Number(r.id),
    fields: storedColumns(t).map((c) => ({ column: c.name, value: r[c.field!] ?? null })),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    createdRunId: (r.created_run_id as number | null) ?? null,
    updatedRunId: (r.updated_run_id as number | null) ?? null,
  };
}

/** Column names by table and field, for the audit trail. */
const COLUMN_NAMES = new Map<string, string>();
for (const t of IMPORT_TEMPLATES) {
  for (const c of storedColumns(t)) COLUMN_NAMES.set(`${t.table}.${c.field}`, c.name);
}

/** A client of the firm with its records and audit trail (newest first, at most `auditLimit`). */
export async function clientPage(
  engine: Engine,
  firmId: string,
  clientId: number,
  auditLimit = 500,
): Promise<ClientPage | undefined> {
  if (!Number.isSafeInteger(clientId)) return undefined;
  const c = await engine.db
    .selectFrom('clients')
    .selectAll()
    .where('firm_id', '=', firmId)
    .where('id', '=', clientId)
    .executeTakeFirst();
  if (!c) return undefined;
  const employer = await engine.db
    .selectFrom('employers')
    .select('employer_code')
    .where('id', '=', c.employer_id as number)
    .where('firm_id', '=', firmId)
    .executeTakeFirst();
  const sections: ClientPage['sections'] = [];
  const owned: Array<{ table: string; ids: number[] }> = [{ table: 'clients', ids: [clientId] }];
  for (const t of CHILD_TEMPLATES) {
    const rows = await engine.db
      .selectFrom(t.table as RecordTableName)
      .selectAll()
      .where('firm_id', '=', firmId)
      .where('client_id', '=', clientId)
      .orderBy('id')
      .execute();
    sections.push({
      template: t.name,
      table: t.table,
      records: rows.map((r) => view(t, r as Record<string, unknown>)),
    });
    if (rows.length > 0) owned.push({ table: t.table, ids: rows.map((r) => Number(r.id)) });
  }
  const audit = await engine.db
    .selectFrom('audit')
    .select([
      'table_name',
      'record_id',
      'field',
      'old_value',
      'new_value',
      'changed_at',
      'run_id',
      'changed_by',
    ])
    .where('firm_id', '=', firmId)
    .where((e) => e.or(owned.map((o) => e.and([e('table_name', '=', o.table), e('record_id', 'in', o.ids)]))))
    .orderBy('id', 'desc')
    .limit(auditLimit)
    .execute();
  const runIds = new Set<number>();
  for (const a of audit) if (a.run_id !== null) runIds.add(Number(a.run_id));
  const client = view(clientTemplate, c as Record<string, unknown>);
  for (const r of [client, ...sections.flatMap((sec) => sec.records)]) {
    if (r.createdRunId !== null) runIds.add(r.createdRunId);
    if (r.updatedRunId !== null) runIds.add(r.updatedRunId);
  }
  const runs =
    runIds.size === 0
      ? []
      : await engine.db
          .selectFrom('runs')
          .select(['id', 'file_id', 'file_name'])
          .where('firm_id', '=', firmId)
          .where('id', 'in', [...runIds])
          .execute();
  return {
    runFiles: new Map(
      runs.map((r) => [
        Number(r.id),
        { fileId: r.file_id === null ? null : Number(r.file_id), name: r.file_name },
      ]),
    ),
    id: clientId,
    employerCode: String(employer?.employer_code ?? ''),
    employeeId: String(c.employee_id),
    name: fullName(c as Record<string, unknown>),
    client,
    sections,
    audit: audit.map((a) => ({
      table: a.table_name,
      recordId: Number(a.record_id),
      column: COLUMN_NAMES.get(`${a.table_name}.${a.field}`) ?? a.field,
      old: a.old_value,
      now: a.new_value,
      at: a.changed_at,
      runId: a.run_id,
      by: a.changed_by,
    })),
  };
}
