// Reading the records of an export template from the store: one query in key order (the record
// table's natural key, served by its unique index), joined to what the template shows, streamed (a
// server-side cursor on PostgreSQL, stepping the statement on SQLite), so memory holds about two
// chunks whatever the size of the export and the whole file comes from one snapshot. The SQL of every
// export is built here from the template's data; it is plain SQL that SQLite and PostgreSQL both run.
import { type AliasedExpression, type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import { streamArrays } from '../store/engine.js';
import type { Database } from '../store/schema.js';
import type { ExportRelation, ExportTemplate } from '../templates/export-templates.js';
import { keyFields } from '../templates/types.js';
import { type ExportRecord, recordLayout, relationsOf } from './record.js';

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

export interface RecordQuery {
  firmId: string;
  /** Only rows changed at or after this ISO UTC instant (the row or what it shows); null = all rows. */
  since: string | null;
  /** Rows per chunk handed out (and per read from a PostgreSQL cursor). */
  chunkSize: number;
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
 * updated_at is compared through coalesce so that no engine answers it from the (firm_id, updated_at)
 * index and sorts every changed row: the rows follow the key index, so a delta costs one pass over the
 * firm's rows whatever its size, and starts streaming at once.
 */
function changedSince(t: ExportTemplate, since: string): Expression<SqlBool> {
  const { shown } = recordLayout(t);
  const parts = [sql<SqlBool>`coalesce(r.updated_at, '') >= ${since}`];
  for (const rel of shown) parts.push(sql<SqlBool>`${sql.ref(`${ALIAS[rel]}.updated_at`)} >= ${since}`);
  if (shown.includes('case-manager')) {
    // A manager whose email changed away from the case's no longer matches: the audit trail remembers it.
    parts.push(sql<SqlBool>`exists (select 1 from audit a where a.firm_id = r.firm_id and a.table_name = 'case_managers'
      and a.field = 'email' and a.changed_at >= ${since} and lower(a.old_value) = lower(r.case_manager_email))`);
  }
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}

/** The one query of an export: the record layout's columns, the firm's rows (changed ones), in key order. */
export function recordQuery(
  db: Kysely<Database>,
  t: ExportTemplate,
  q: Pick<RecordQuery, 'firmId' | 'since'>,
) {
  const layout = recordLayout(t);
  const select: AliasedExpression<unknown, string>[] = [];
  t.columns.forEach((c, i) => {
    const key = layout.values[i];
    if (!c.source || key === undefined) return;
    const { relation, field } = c.source;
    const computed = COMPUTED[relation]?.[field];
    select.push(sql`${computed ?? sql.ref(`${ALIAS[relation]}.${field}`)}`.as(`c${key}`));
  });
  const rels: ExportRelation[] = ['row', ...layout.shown];
  rels.forEach((rel, j) => {
    select.push(sql.ref(`${ALIAS[rel]}.updated_at`).as(`c${layout.updated[j]}`));
  });

  let query = fromClause(db as AnyDb, t)
    .select(select)
    .where('r.firm_id', '=', q.firmId);
  if (q.since !== null) query = query.where(changedSince(t, q.since));
  for (const k of keyFields(t.twin)) query = query.orderBy(`r.${k}`);
  return query;
}

/**
 * The records in key order, as arrays, in chunks of `chunkSize`, from one streamed query. While a chunk
 * is being written the next is already asked for (a PostgreSQL cursor read goes out at once), so the
 * database works while we format. The query holds its connection until the loop over the chunks ends
 * (on SQLite the store's only one: nothing else may query the store inside that loop).
 */
export async function* readRecords(
  db: Kysely<Database>,
  t: ExportTemplate,
  q: RecordQuery,
): AsyncGenerator<ExportRecord[]> {
  const chunks = streamArrays(db, recordQuery(db, t, q), Math.max(1, q.chunkSize))[Symbol.asyncIterator]();
  try {
    let ahead = chunks.next();
    for (;;) {
      const r = await ahead;
      if (r.done) return;
      ahead = chunks.next();
      ahead.catch(() => {}); // awaited above on the next turn; this only keeps it from being "unhandled"
      yield r.value;
    }
  } finally {
    await chunks.return(undefined);
  }
}
