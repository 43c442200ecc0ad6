// The one place where SQLite and PostgreSQL differ. Everything above this module is engine-blind:
// it asks the Engine for what differs (id columns, parameter limits, closing) instead of branching.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  type ColumnDefinitionBuilder,
  type Expression,
  Kysely,
  PostgresDialect,
  type SqlBool,
  SqliteDialect,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { configError } from '../errors.js';
import type { Database } from './schema.js';

export type EngineKind = 'sqlite' | 'postgres';

export interface Engine {
  readonly kind: EngineKind;
  /** Where the data lives, for messages: a file path or a URL without its password. */
  readonly location: string;
  readonly db: Kysely<Database>;
  /** Most bind parameters one statement may carry. */
  readonly maxParams: number;
  /** Column type of an auto-numbered primary key. */
  readonly idType: 'integer' | 'serial';
  /** Applies the engine's auto-number clause to an id column. */
  idColumn(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** `column IN values` bound as one parameter (json_each / = any), so the statement text never varies. */
  inList(column: string, values: readonly unknown[]): Expression<SqlBool>;
  /** Rows whose (idColumn, textColumn) may be one of pairs (at least those): a parent id and a text key. */
  inPairs(
    idColumn: string,
    textColumn: string,
    pairs: ReadonlyArray<readonly [number, string]>,
  ): Expression<SqlBool>;
  /** Multi-row INSERT [ON CONFLICT DO UPDATE] [RETURNING]: the bulk write path of imports. */
  bulkWrite(
    db: Kysely<Database> | Transaction<Database>,
    w: BulkWrite,
    rows: readonly unknown[][],
  ): Promise<ReturnedRow[]>;
  close(): Promise<void>;
}

export interface BulkWrite {
  table: string;
  /** Insert columns, in the order of each row's values. */
  columns: readonly string[];
  /** An upsert: the unique key the conflict is on, and the columns set from the new row. */
  upsert?: { conflict: readonly string[]; update: readonly string[] };
  returning?: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: returned columns are named by the caller
export type ReturnedRow = Record<string, any>;

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function writeHead(w: BulkWrite): string {
  return `insert into ${q(w.table)} (${w.columns.map(q).join(',')}) values `;
}

function writeTail(w: BulkWrite): string {
  const up = w.upsert
    ? ` on conflict (${w.upsert.conflict.map(q).join(',')}) do update set ` +
      w.upsert.update.map((c) => `${q(c)}=excluded.${q(c)}`).join(',')
    : '';
  return up + (w.returning?.length ? ` returning ${w.returning.map(q).join(',')}` : '');
}

function writeSql(w: BulkWrite, rowCount: number): string {
  const one = `(${w.columns.map(() => '?').join(',')})`;
  return writeHead(w) + new Array(rowCount).fill(one).join(',') + writeTail(w);
}

// pg returns int8 (count(*), bigserial) as strings; our counts fit in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
// numeric as number: money-like columns are stored as double precision anyway.
pg.types.setTypeParser(1700, (v) => Number.parseFloat(v));

export function openSqlite(file: string): Engine {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('cache_size = -16384');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Prepared once per shape and reused: preparing a statement of thousands of parameters costs more
  // than running it. Runs on the one connection, so inside whatever transaction Kysely has open.
  const statements = new Map<string, SqliteDatabase.Statement>();
  const prepared = (text: string) => {
    let st = statements.get(text);
    if (!st) {
      if (statements.size > 64) statements.clear();
      st = sqlite.prepare(text);
      statements.set(text, st);
    }
    return st;
  };
  const maxParams = 32766;
  return {
    kind: 'sqlite',
    location: path.resolve(file),
    db,
    maxParams,
    idType: 'integer',
    idColumn: (col) => col.primaryKey().autoIncrement(),
    inList: (column, values) =>
      sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`,
    // A row-value IN over json_each is slow in SQLite (~10x); seek on the id list and only filter on
    // the text list (unary + keeps that column out of the index probe). A superset of the pairs: the
    // caller matches whole keys.
    inPairs: (a, b, pairs) =>
      sql<SqlBool>`${sql.ref(a)} in (select value from json_each(${JSON.stringify(pairs.map((p) => p[0]))})) and +${sql.ref(b)} in (select value from json_each(${JSON.stringify(pairs.map((p) => p[1]))}))`,
    async bulkWrite(_db, w, rows) {
      const per = Math.max(1, Math.min(500, Math.floor(maxParams / w.columns.length)));
      const out: ReturnedRow[] = [];
      for (let i = 0; i < rows.length; i += per) {
        const part = rows.slice(i, i + per);
        const st = prepared(writeSql(w, part.length));
        if (st.reader) out.push(...(st.all(...part.flat()) as ReturnedRow[]));
        else st.run(...part.flat());
      }
      return out;
    },
    async close() {
      statements.clear();
      sqlite.pragma('optimize'); // keeps the planner's statistics fresh, as SQLite recommends on close
      await db.destroy();
    },
  };
}

const tableTypes = new Map<string, Map<string, string>>();

/** Column name -> PostgreSQL type name of a table, read once from the catalogue. */
async function columnTypes(db: Kysely<Database> | Transaction<Database>, table: string) {
  let types = tableTypes.get(table);
  if (!types) {
    const r = await sql<{ column_name: string; data_type: string }>`
      select column_name, data_type from information_schema.columns
      where table_schema = current_schema() and table_name = ${table}`.execute(db);
    types = new Map(r.rows.map((c) => [c.column_name, c.data_type]));
    tableTypes.set(table, types);
  }
  return types;
}

export function openPostgres(url: string): Engine {
  let safe: string;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    safe = u.toString();
  } catch {
    throw configError(`--db: "${url}" is not a valid postgres:// URL`);
  }
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {}); // an idle client's socket error must not crash the process
  // cursor: Kysely's .stream() reads a large result in pages instead of all at once.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  const maxParams = 65535;
  return {
    kind: 'postgres',
    location: safe,
    db,
    maxParams,
    idType: 'serial',
    idColumn: (col) => col.primaryKey(),
    inList: (column, values) => sql<SqlBool>`${sql.ref(column)} = any(${values})`,
    inPairs: (a, b, pairs) =>
      sql<SqlBool>`(${sql.ref(a)}, ${sql.ref(b)}) in (select * from unnest(${pairs.map((p) => p[0])}::int[], ${pairs.map((p) => p[1])}::text[]))`,
    // One array parameter per column through unnest(): the statement text depends only on the
    // columns, and PostgreSQL parses 5,000 rows as 15 parameters instead of 75,000.
    async bulkWrite(trx, w, rows) {
      const types = await columnTypes(trx, w.table);
      const casts = w.columns.map((c) => {
        const t = types.get(c);
        if (!t) throw new Error(`bulk write: no column ${c} in ${w.table}`);
        return sql.raw(`::${t}[]`);
      });
      const head = sql.raw(`${writeHead(w).replace(/ values $/, '')} select * from unnest(`);
      const tail = sql.raw(`)${writeTail(w)}`);
      const out: ReturnedRow[] = [];
      for (let i = 0; i < rows.length; i += 5000) {
        const part = rows.slice(i, i + 5000);
        const arrays = w.columns.map((_, c) => sql`${part.map((r) => r[c])}${casts[c]}`);
        out.push(...(await sql<ReturnedRow>`${head}${sql.join(arrays)}${tail}`.execute(trx)).rows);
      }
      return out;
    },
    close: () => db.destroy(),
  };
}

/** Opens the store named by a --db URL, or the embedded SQLite file in the data folder. */
export function openEngine(opts: { dataDir: string; dbUrl?: string }): Engine {
  const url = opts.dbUrl?.trim();
  if (!url) return openSqlite(path.join(opts.dataDir, 'caseport.db'));
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url);
  if (/^sqlite:/i.test(url)) return openSqlite(url.replace(/^sqlite:(\/\/)?/i, ''));
  throw configError(`--db: "${url}" is not supported; use postgres://user@host:port/db or sqlite:FILE`);
}
