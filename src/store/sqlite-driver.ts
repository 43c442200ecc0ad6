// Kysely's driver for better-sqlite3, made for several processes on one database file:
// - write transactions begin IMMEDIATE (a deferred transaction that reads, then writes, fails with
//   "database is locked" at once when another process wrote in between: SQLite cannot wait there);
// - while another process holds the write lock, waiting happens here, asynchronously, so the event
//   loop keeps running (leases keep their heartbeat); better-sqlite3's own busy timeout would block it;
// - statements are prepared once per text and reused (preparing a bulk statement costs more than
//   running it), and every statement runs on Kysely's connection, inside whatever transaction it holds;
// - streamed reads come in chunks of rows rather than one row per await.
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from 'kysely';
import { CaseportError } from '../errors.js';

/** Starts a query whose rows are wanted as arrays of their columns (see streamArrays in engine.ts). */
export const ROWS_AS_ARRAYS = '/* rows as arrays */ ';

export interface SqliteWaitOptions {
  /** How long to wait for another process's write lock before giving up. */
  lockWaitMs: number;
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']);
const isBusy = (e: unknown) => BUSY.has((e as { code?: string })?.code ?? '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

class Connection implements DatabaseConnection {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly wait: SqliteWaitOptions,
  ) {}

  /** A prepared statement for `text`: the cached one unless it is busy (a stream still reading it). */
  private prepare(text: string): BetterSqlite3.Statement {
    const cached = this.statements.get(text);
    if (cached && !cached.busy) return cached;
    const st = this.db.prepare(text);
    if (!cached) {
      if (this.statements.size >= 200) this.statements.clear();
      this.statements.set(text, st);
    }
    return st;
  }

  /** Runs `fn`, waiting out another process's write lock when no transaction of ours is open. */
  async retryBusy<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.wait.lockWaitMs;
    let pause = 5;
    for (;;) {
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e) || this.db.inTransaction) throw e;
        if (Date.now() > deadline) {
          throw new CaseportError(
            'DATABASE',
            `the database is busy: another process has held its write lock for more than ${Math.round(this.wait.lockWaitMs / 1000)} s`,
          );
        }
        await sleep(pause + Math.random() * pause);
        pause = Math.min(pause * 2, 200);
      }
    }
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const st = this.prepare(q.sql);
    const params = q.parameters as unknown[];
    if (st.reader) return { rows: (await this.retryBusy(() => st.all(params))) as R[] };
    const { changes, lastInsertRowid } = await this.retryBusy(() => st.run(params));
    return {
      numAffectedRows: BigInt(changes),
      insertId: lastInsertRowid === undefined ? undefined : BigInt(lastInsertRowid),
      rows: [],
    };
  }

  async *streamQuery<R>(q: CompiledQuery, chunkSize = 1000): AsyncIterableIterator<QueryResult<R>> {
    const st = this.db.prepare(q.sql);
    if (q.sql.startsWith(ROWS_AS_ARRAYS)) st.raw(true);
    let rows: R[] = [];
    for (const row of st.iterate(q.parameters as unknown[])) {
      rows.push(row as R);
      if (rows.length >= chunkSize) {
        yield { rows };
        rows = [];
      }
    }
    if (rows.length > 0) yield { rows };
  }
}

class Driver_ implements Driver {
  private readonly mutex = new Mutex();
  private release: (() => void) | undefined;
  private readonly connection: Connection;

  constructor(
    private readonly db: BetterSqlite3.Database,
    wait: SqliteWaitOptions,
  ) {
    this.connection = new Connection(db, wait);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.release = await this.mutex.lock();
    return this.connection;
  }

  async beginTransaction(c: DatabaseConnection, _s: TransactionSettings): Promise<void> {
    await (c as Connection).retryBusy(() => this.db.exec('begin immediate'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {
    this.db.close();
  }
}

/**
 * SQLite runs DDL inside transactions: saying so makes Kysely's migrator run each migration in one, and
 * with the driver's BEGIN IMMEDIATE, processes that start together on a new store migrate one at a time
 * (Kysely's own SQLite migration lock does nothing: it assumes one process).
 */
class SqliteStoreAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely's SQLite dialect with the driver above. */
export class SqliteStoreDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly wait: SqliteWaitOptions,
  ) {
    super({ database: sqlite as unknown as SqliteDatabase });
  }

  override createDriver(): Driver {
    return new Driver_(this.sqlite, this.wait);
  }

  override createQueryCompiler() {
    return new SqliteQueryCompiler();
  }

  override createAdapter() {
    return new SqliteStoreAdapter();
  }

  override createIntrospector(db: Parameters<SqliteDialect['createIntrospector']>[0]) {
    return new SqliteIntrospector(db);
  }
}
