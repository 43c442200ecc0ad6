// Reading the records of an export template from the store, in pages in key order (the record table's
// natural key, served by its unique index), joined to what the template shows. The SQL of every export
// is built here from the template's data; it is plain SQL that SQLite and PostgreSQL both run.
import { type AliasedExpression, type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import type { Database } from '../store/schema.js';
import { type ExportRelation, type ExportTemplate, SHOWN_RELATIONS } from '../templates/export-templates.js';
import { keyFields } from '../templates/types.js';
import type { ExportRecord } from './format.js';

// biome-ignore lint/suspicious/noExplicitAny: record tables are addressed by template data
type AnyDb = Kysely<any>;

const ALIAS: Record<ExportRelation, string> = {
  row: 'r',
  employer: 'e',
  client: 'c',
  supervisor: 's',
  petition: 'p',
  'case-manager': 'm',
};

/** Fields a relation computes instead of reading a column. */
const COMPUTED: Partial<Record<ExportRelation, Record<string, Expression<unknown>>>> = {
  'case-manager': { full_name: sql`trim(coalesce(m.first_name, '') || ' ' || coalesce(m.last_name, ''))` },
};

export interface PageQuery {
  firmId: string;
  /** Only rows changed at or after this ISO UTC instant (the row or what it shows); null = all rows. */
  since: string | null;
  pageSize: number;
}

function relationsOf(t: ExportTemplate): ExportRelation[] {
  const used = new Set<ExportRelation>();
  for (const c of t.columns) if (c.source) used.add(c.source.relation);
  return [...used];
}

function shownOf(t: ExportTemplate): ExportRelation[] {
  const used = relationsOf(t);
  return SHOWN_RELATIONS.filter((r) => used.includes(r));
}

function fromClause(db: AnyDb, t: ExportTemplate) {
  const used = relationsOf(t);
  const parent = t.twin.parent;
  let q = db.selectFrom(`${t.twin.table} as r`);
  if (used.includes('client')) {
    if (parent !== 'client')
      throw new Error(`${t.name}: shows a client but its records do not hang from one`);
    q = q.innerJoin('clients as c', 'c.id', 'r.client_id');
  }
  if (used.includes('employer')) {
    if (parent === 'none')
      throw new Error(`${t.name}: shows an employer but its records do not hang from one`);
    if (parent === 'client' && !used.includes('client'))
      q = q.innerJoin('clients as c', 'c.id', 'r.client_id');
    q = q.innerJoin('employers as e', 'e.id', parent === 'client' ? 'c.employer_id' : 'r.employer_id');
  }
  // A client's supervisor link (one per client).
  if (used.includes('supervisor')) {
    q = q.leftJoin('supervisor_links as s', (j) =>
      j.onRef('s.firm_id', '=', 'r.firm_id').onRef('s.client_id', '=', 'r.id'),
    );
  }
  // A case's petition, by PetID (unique per firm).
  if (used.includes('petition')) {
    q = q.leftJoin('petitions as p', (j) =>
      j.onRef('p.firm_id', '=', 'r.firm_id').onRef('p.pet_id', '=', 'r.pet_id'),
    );
  }
  // A case's manager: the first one whose email matches (emails are not a key, so pick one).
  if (used.includes('case-manager')) {
    q = q.leftJoin('case_managers as m', (j) =>
      j.on(
        sql<SqlBool>`m.id = (select min(mm.id) from case_managers mm where mm.firm_id = r.firm_id and lower(mm.email) = lower(r.case_manager_email))`,
      ),
    );
  }
  return q;
}

/**
 * The change condition: the row, or a record it shows, was written at or after `since`. The row's own
 * updated_at is compared through coalesce so that no engine answers a page from the (firm_id,
 * updated_at) index and sorts every changed row again for each page: pages follow the key index, so a
 * delta costs one pass over the firm's rows whatever its size.
 */
function changedSince(t: ExportTemplate, since: string): Expression<SqlBool> {
  const parts = [sql<SqlBool>`coalesce(r.updated_at, '') >= ${since}`];
  for (const rel of shownOf(t)) parts.push(sql<SqlBool>`${sql.ref(`${ALIAS[rel]}.updated_at`)} >= ${since}`);
  if (shownOf(t).includes('case-manager')) {
    // A manager whose email changed away from the case's no longer matches: the audit trail remembers it.
    parts.push(sql<SqlBool>`exists (select 1 from audit a where a.firm_id = r.firm_id and a.table_name = 'case_managers'
      and a.field = 'email' and a.changed_at >= ${since} and lower(a.old_value) = lower(r.case_manager_email))`);
  }
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}

function pageQuery(db: AnyDb, t: ExportTemplate, q: PageQuery, after: unknown[] | undefined) {
  const keys = keyFields(t.twin);
  const shown = shownOf(t);
  const select: AliasedExpression<unknown, string>[] = [];
  t.columns.forEach((c, i) => {
    if (!c.source) return;
    const { relation, field } = c.source;
    const computed = COMPUTED[relation]?.[field];
    select.push(sql`${computed ?? sql.ref(`${ALIAS[relation]}.${field}`)}`.as(`v${i}`));
  });
  for (const [j, k] of keys.entries()) select.push(sql.ref(`r.${k}`).as(`k${j}`));
  select.push(sql.ref('r.updated_at').as('u0'));
  for (const [j, rel] of shown.entries()) select.push(sql.ref(`${ALIAS[rel]}.updated_at`).as(`u${j + 1}`));

  let query = fromClause(db, t).select(select).where('r.firm_id', '=', q.firmId);
  if (q.since !== null) query = query.where(changedSince(t, q.since));
  if (after) {
    const refs = sql.join(keys.map((k) => sql.ref(`r.${k}`)));
    query = query.where(sql<SqlBool>`(${refs}) > (${sql.join(after)})`);
  }
  for (const k of keys) query = query.orderBy(`r.${k}`);
  return query.limit(q.pageSize);
}

/**
 * Pages of records in key order; each page is one query resuming after the last key of the previous.
 * The next page is asked for before this one is handed out, so the database works while it is written.
 */
export async function* readPages(
  db: Kysely<Database>,
  t: ExportTemplate,
  q: PageQuery,
): AsyncGenerator<ExportRecord[]> {
  const cursorKeys = keyFields(t.twin).map((_, j) => `k${j}`);
  const valueKeys = t.columns.map((c, i) => (c.source ? `v${i}` : undefined));
  const updateKeys = ['u0', ...shownOf(t).map((_, j) => `u${j + 1}`)];
  const fetch = (after: unknown[] | undefined) => {
    const p = pageQuery(db as AnyDb, t, q, after).execute() as Promise<Record<string, unknown>[]>;
    p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being "unhandled"
    return p;
  };
  let pending = fetch(undefined);
  for (;;) {
    const rows = await pending;
    if (rows.length === 0) return;
    const full = rows.length >= q.pageSize;
    if (full) {
      const last = rows[rows.length - 1];
      pending = fetch(cursorKeys.map((k) => last[k]));
    }
    const records = new Array<ExportRecord>(rows.length);
    for (let n = 0; n < rows.length; n++) {
      const r = rows[n];
      const values = new Array<unknown>(valueKeys.length);
      for (let i = 0; i < valueKeys.length; i++) {
        const k = valueKeys[i];
        values[i] = k === undefined ? undefined : r[k];
      }
      const updated = new Array<string | null>(updateKeys.length);
      for (let j = 0; j < updateKeys.length; j++) updated[j] = (r[updateKeys[j]] as string | null) ?? null;
      records[n] = { values, updated };
    }
    yield records;
    if (!full) return;
  }
}
