// The one place where SQLite and PostgreSQL differ. Everything above this module is engine-blind:
// it asks the Engine for what differs (id columns, parameter limits, closing) instead of branching.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { type ColumnDefinitionBuilder, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
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
  close(): Promise<void>;
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
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    kind: 'sqlite',
    location: path.resolve(file),
    db,
    maxParams: 32766,
    idType: 'integer',
    idColumn: (col) => col.primaryKey().autoIncrement(),
    close: () => db.destroy(),
  };
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    location: safe,
    db,
    maxParams: 65535,
    idType: 'serial',
    idColumn: (col) => col.primaryKey(),
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
