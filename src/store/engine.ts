// The one place where SQLite and PostgreSQL differ. Everything above this module is engine-blind:
// it asks the Engine for what differs (id columns, parameter limits, closing) instead of branching.

import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import SqliteDatabase from 'better-sqlite3';
import {
  type ColumnDefinitionBuilder,
  type Compilable,
  CompiledQuery,
  type Expression,
  Kysely,
  PostgresDialect,
  type RawBuilder,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { configError } from '../errors.js';
import { makeFolderSync } from '../folders.js';
import type { Database } from './schema.js';
import { ROWS_AS_ARRAYS, SqliteStoreDialect } from './sqlite-driver.js';

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
  /** The database's clock, in milliseconds since 1970: one clock for every process sharing the store. */
  clockMs(): RawBuilder<number>;
  /**
   * The end of a queue's claim subquery: `for update skip locked` on PostgreSQL (claimers pass over
   * rows another is taking); nothing on SQLite, where the one writer at a time already serialises claims.
   */
  skipLocked(): RawBuilder<unknown>;
  /**
   * True when the database refused a statement because of the data in it (a value out of range, too
   * large, a constraint): the batch is split to find the row. False for anything else (a lost
   * connection, a bug in a statement), which must not be blamed on a row.
   */
  isRowDataError(e: unknown): boolean;
  /**
   * True when the database or the machine failed (connection lost, disk full, I/O error, server shut
   * down): the run stops Interrupted and resumes later. False for a bug (a statement that cannot run).
   */
  isOutage(e: unknown): boolean;
  /**
   * Statements that run in this process, synchronously, on the connection of the open transaction
   * `db`: where a statement costs no round trip (SQLite), one prepared statement per row is the
   * fastest way to read and write, and it applies rows one by one in file order by itself. Undefined
   * where every statement is a round trip (PostgreSQL) or `db` is no transaction: work in sets there.
   */
  rowStatements(db: Kysely<Database> | Transaction<Database>): RowStatements | undefined;
  /** Multi-row INSERT [RETURNING], or UPDATE by id: the bulk write path of imports. */
  bulkWrite(
    db: Kysely<Database> | Transaction<Database>,
    w: BulkWrite,
    rows: readonly unknown[][],
  ): Promise<ReturnedRow[]>;
  close(): Promise<void>;
}

/** Prepares (once per text) a statement of rowStatements. */
export type RowStatements = (sql: string) => RowStatement;

export interface RowStatement {
  /** The first row of a query, as an array of its columns; undefined if there is none. */
  get(params: readonly unknown[]): unknown[] | undefined;
  /** Runs a write: the rows changed, and the id of the row an INSERT made. */
  run(params: readonly unknown[]): { changes: number; lastId: number };
}

export interface BulkWrite {
  table: string;
  /** Insert columns, in the order of each row's values. */
  columns: readonly string[];
  /**
   * An update of stored rows instead of an insert: columns[0] is `id`, the row to change, and the other
   * columns are set from the row's values. Cheaper than an upsert by key where the ids are known.
   */
  byId?: boolean;
  returning?: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: returned columns are named by the caller
export type ReturnedRow = Record<string, any>;

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function writeHead(w: BulkWrite): string {
  return `insert into ${q(w.table)} (${w.columns.map(q).join(',')}) values `;
}

function writeTail(w: BulkWrite): string {
  return w.returning?.length ? ` returning ${w.returning.map(q).join(',')}` : '';
}

function writeSql(w: BulkWrite, rowCount: number): string {
  const one = `(${w.columns.map(() => '?').join(',')})`;
  const values = new Array(rowCount).fill(one).join(',');
  if (w.byId) {
    // SQLite names a VALUES list's columns column1, column2...
    const set = w.columns.slice(1).map((c, i) => `${q(c)}=v.column${i + 2}`);
    return `update ${q(w.table)} set ${set.join(',')} from (values ${values}) as v where ${q(w.table)}.id = v.column1`;
  }
  return writeHead(w) + values + writeTail(w);
}

// pg returns int8 (count(*), bigserial) as strings; our counts fit in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
// numeric as number: money-like columns are stored as double precision anyway.
pg.types.setTypeParser(1700, (v) => Number.parseFloat(v));

/** How long a write waits for another process's write lock (CASEPORT_SQLITE_LOCK_WAIT_MS). */
function lockWaitMs(): number {
  const v = Number(process.env.CASEPORT_SQLITE_LOCK_WAIT_MS);
  return Number.isFinite(v) && v > 0 ? v : 10 * 60_000;
}

const SQLITE_ROW_ERRORS = /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH|RANGE)/;
const SQLITE_OUTAGES =
  /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|NOMEM|INTERRUPT|PROTOCOL|CORRUPT|NOTADB)/;
const codeOf = (e: unknown) => {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' ? c : '';
};
/** A system error of the machine: ENOSPC, EIO, ECONNRESET... */
const SYSTEM_ERROR = /^E[A-Z0-9]+$/;

export function openSqlite(file: string): Engine {
  makeFolderSync(path.dirname(path.resolve(file)));
  const sqlite = new SqliteDatabase(file);
  // Opening may wait for another process that is opening (switching a new file to WAL takes a lock).
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -16384');
  // Checkpoint the WAL into the database every 64 MB rather than every 4 MB: a checkpoint syncs the
  // file, and a million-row import paid about 2.5 s for a checkpoint every few batches.
  sqlite.pragma('wal_autocheckpoint = 16384');
  // Then a short one: waiting for another process's write lock is done by the driver, asynchronously.
  sqlite.pragma('busy_timeout = 50');
  // SQLite's lower() changes ASCII letters only: searches by name use this one (as PostgreSQL's lower).
  sqlite.function('unicode_lower', { deterministic: true }, (v: unknown) =>
    typeof v === 'string' ? v.toLowerCase() : v,
  );
  const db = new Kysely<Database>({ dialect: new SqliteStoreDialect(sqlite, { lockWaitMs: lockWaitMs() }) });
  const maxParams = 32766;
  const prepared = new Map<string, RowStatement>();
  const rowStatement = (text: string): RowStatement => {
    let st = prepared.get(text);
    if (!st) {
      const s = sqlite.prepare(text);
      const reader = s.reader;
      if (reader) s.raw(true);
      st = {
        get: (params) => s.get(params as unknown[]) as unknown[] | undefined,
        run: (params) => {
          const r = s.run(params as unknown[]);
          return { changes: r.changes, lastId: Number(r.lastInsertRowid) };
        },
      };
      prepared.set(text, st);
    }
    return st;
  };
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
    clockMs: () => sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`,
    skipLocked: () => sql``,
    // One connection: a Kysely transaction is a transaction of that connection (BEGIN IMMEDIATE, so
    // it already holds the write lock and no statement in it waits for another process).
    rowStatements: (trx) => (trx.isTransaction && sqlite.inTransaction ? rowStatement : undefined),
    isRowDataError: (e) => SQLITE_ROW_ERRORS.test(codeOf(e)),
    isOutage: (e) => SQLITE_OUTAGES.test(codeOf(e)) || SYSTEM_ERROR.test(codeOf(e)),
    // Through the given connection or transaction (the driver prepares each statement text once).
    async bulkWrite(trx, w, rows) {
      const per = Math.max(1, Math.min(500, Math.floor(maxParams / w.columns.length)));
      const out: ReturnedRow[] = [];
      for (let i = 0; i < rows.length; i += per) {
        const part = rows.slice(i, i + per);
        const r = await trx.executeQuery<ReturnedRow>(
          CompiledQuery.raw(writeSql(w, part.length), part.flat()),
        );
        if (w.returning?.length) out.push(...r.rows);
      }
      return out;
    },
    async close() {
      await db.executeQuery(CompiledQuery.raw('pragma optimize')).catch(() => {}); // fresh planner statistics, as SQLite recommends on close
      await db.destroy();
    },
  };
}

/**
 * A query's rows as arrays of its columns, in select order, in chunks of up to chunkSize (better-sqlite3
 * raw mode, pg's array row mode): a large read builds no object per row. Through Kysely's connection,
 * which the query holds until the loop over the chunks ends.
 */
export async function* streamArrays(
  db: Kysely<Database>,
  query: Compilable,
  chunkSize: number,
): AsyncGenerator<unknown[][]> {
  const c = query.compile();
  const marked = CompiledQuery.raw(ROWS_AS_ARRAYS + c.sql, [...c.parameters]);
  for await (const r of db.getExecutor().stream(marked, chunkSize)) yield r.rows as unknown[][];
}

/** pg-cursor, reading rows as arrays for queries marked so (see streamArrays). */
class ArrayAwareCursor extends Cursor {
  constructor(text: string, values?: unknown[]) {
    super(text, values, text.startsWith(ROWS_AS_ARRAYS) ? { rowMode: 'array' } : undefined);
  }
}

/**
 * Starts a `COPY ... FROM STDIN` whose one parameter is the data, in COPY's text format: a client of the
 * pool runs it through pg-copy-streams (see copyIn). Kysely has no COPY; this keeps it on Kysely's
 * connection, inside whatever transaction that connection holds.
 */
const COPY_IN = '/* copy in */ ';

/** A value in COPY's text format: \N for null; backslash, tab, line feed and carriage return escaped. */
function copyText(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : s;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** About how many characters of COPY data go to the server at a time. */
const COPY_CHUNK_CHARS = 1 << 20;

type QueryFn = (text: string, values?: unknown[]) => Promise<unknown>;

/**
 * Runs a COPY_IN statement on a pg client: the rows encoded and streamed in chunks, waiting for the
 * socket when it is full (a batch's audit rows carry old values too, and as one string they could pass
 * V8's limit on a string's length); a result shaped as pg's.
 */
async function copyIn(client: pg.PoolClient, text: string, rows: readonly unknown[][]) {
  const stream = client.query(copyFrom(text.slice(COPY_IN.length)));
  const done = finished(stream);
  done.catch(() => {}); // awaited below; the server may refuse the data while it is still being sent
  let chunk = '';
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) chunk += (i === 0 ? '' : '\t') + copyText(r[i]);
    chunk += '\n';
    if (chunk.length >= COPY_CHUNK_CHARS) {
      const more = stream.write(chunk);
      chunk = '';
      if (!more) await Promise.race([once(stream, 'drain'), done]);
      if (stream.destroyed) break;
    }
  }
  if (!stream.destroyed) stream.end(chunk);
  await done;
  return { command: 'COPY', rowCount: stream.rowCount, rows: [] };
}

/** Lets a pool client run COPY_IN statements (every other query goes to pg as it is). */
function allowCopyIn(client: pg.PoolClient): void {
  const query = client.query.bind(client) as unknown as QueryFn;
  (client as unknown as { query: QueryFn }).query = (text, values) =>
    typeof text === 'string' && text.startsWith(COPY_IN)
      ? copyIn(client, text, (values?.[0] ?? []) as unknown[][])
      : query(text, values);
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

/** How long a session may sit idle inside a transaction (CASEPORT_PG_IDLE_TX_MS, default 2 minutes). */
function pgIdleInTransactionMs(): number {
  const v = Number(process.env.CASEPORT_PG_IDLE_TX_MS);
  return Number.isInteger(v) && v >= 100 ? v : 120_000;
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
  // A process that stalls inside a transaction (paused, partitioned) would hold its row locks for ever,
  // and the import that took over its lease would wait on them for ever. The server ends a session idle
  // in a transaction this long, and a statement waits for a lock at most lock_timeout (then it is an
  // outage: the batch is retried after a back-off).
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    idle_in_transaction_session_timeout: pgIdleInTransactionMs(),
    lock_timeout: 10 * 60_000,
  });
  // A socket error (the server restarted, the connection was killed) must not crash the process: an idle
  // client's goes to the pool, a checked-out client's to the client itself, and its query fails with it.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    allowCopyIn(client);
  });
  // cursor: Kysely's .stream() reads a large result in pages instead of all at once.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: ArrayAwareCursor }) });
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
    clockMs: () => sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,
    skipLocked: () => sql`for update skip locked`,
    rowStatements: () => undefined,
    // Data exceptions (22), integrity constraints (23) and program limits such as an index row too
    // large (54): each says something about a row. Connection, resource and syntax errors do not.
    isRowDataError: (e) => /^(22|23|54)/.test(codeOf(e)),
    // Connection (08), transaction rollback (40: deadlock, serialization), resources (53), operator
    // intervention (57: shutdown), system (58: I/O), and the driver's own socket errors.
    isOutage: (e) =>
      /^(08|40|53|57|58)/.test(codeOf(e)) ||
      codeOf(e) === '55P03' || // lock_timeout: a stalled session held the rows
      codeOf(e) === '25P03' || // this session sat idle in its transaction too long (see openPostgres)
      SYSTEM_ERROR.test(codeOf(e)) ||
      /Connection terminated|connection is closed|connection error and is not queryable/i.test(
        e instanceof Error ? e.message : '',
      ),
    // One array parameter per column through unnest(): the statement text depends only on the
    // columns, and PostgreSQL parses 5,000 rows as 15 parameters instead of 75,000.
    async bulkWrite(trx, w, rows) {
      if (!w.byId && !w.returning?.length) {
        // A plain insert: COPY, the server's own bulk path (no array literals to build and parse).
        if (rows.length === 0) return [];
        const text = `${COPY_IN}copy ${q(w.table)} (${w.columns.map(q).join(',')}) from stdin`;
        await trx.executeQuery(CompiledQuery.raw(text, [rows]));
        return [];
      }
      const types = await columnTypes(trx, w.table);
      const casts = w.columns.map((c) => {
        const t = types.get(c);
        if (!t) throw new Error(`bulk write: no column ${c} in ${w.table}`);
        return sql.raw(`::${t}[]`);
      });
      const v = w.columns.map(q).join(',');
      const head = sql.raw(
        w.byId
          ? `update ${q(w.table)} t set ${w.columns
              .slice(1)
              .map((c) => `${q(c)}=v.${q(c)}`)
              .join(',')} from unnest(`
          : `${writeHead(w).replace(/ values $/, '')} select * from unnest(`,
      );
      const tail = sql.raw(w.byId ? `) as v(${v}) where t.id = v.id` : `)${writeTail(w)}`);
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
