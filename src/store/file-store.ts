// Where the contents of files live: uploads waiting in Import, result files, export files. One
// interface, two homes. With SQLite, the data folder (one machine); with PostgreSQL, the database
// itself, in 1 MiB chunks, so a node needs no shared folder. A content is written once under a new key
// and never changed; the ledger row that names it is what makes it exist.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely, Transaction } from 'kysely';
import { CaseportError } from '../errors.js';
import { makeFolder } from '../folders.js';
import type { Engine } from './engine.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface StoredContent {
  key: string;
  size: number;
  sha256: string;
}

export interface FileStore {
  /**
   * Stores a local file under a new key. In the database, inside `db` (the caller's transaction: the
   * content and the ledger row commit together); in a folder, durably before the caller commits (a
   * content that no row names is swept later).
   */
  put(db: Db, localPath: string): Promise<StoredContent>;
  /** The content, from its start. */
  read(key: string): Readable;
  /** The content opened for reads at any offset (SFTP downloads), `size` bytes long. */
  openAt(key: string, size: number): Promise<RandomRead>;
  /** Writes the content to a new local file. */
  copyTo(key: string, localPath: string): Promise<void>;
  /** Removes contents no row names any more (in the database, inside `db`). */
  remove(db: Db, keys: readonly string[]): Promise<void>;
  /** Removes contents that no row names and that are older than `olderThanMs` (a killed process's). */
  sweep(named: (keys: string[]) => Promise<Set<string>>, olderThanMs: number): Promise<number>;
}

export interface RandomRead {
  /** Up to `length` bytes from `offset`: fewer only at the end, empty at or past it. */
  readAt(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Bytes per file_chunks row: every row but a content's last holds exactly this many. */
const CHUNK = 1 << 20;
const newKey = () => `${Date.now().toString(36)}-${randomBytes(12).toString('hex')}`;
const KEY = /^[0-9a-z]+-[0-9a-f]{24}$/;

function storageError(what: string, e: unknown): CaseportError {
  const why = e instanceof Error ? e.message : String(e);
  return new CaseportError('STORAGE', `${what}: ${why}`);
}

/** Files in `<data>/files/`, written to a temporary name, flushed, then renamed. */
export function folderFileStore(dir: string): FileStore {
  const where = (key: string) => {
    if (!KEY.test(key)) throw new Error(`not a file store key: ${JSON.stringify(key)}`);
    return path.join(dir, key);
  };
  return {
    async put(_db, localPath) {
      await makeFolder(dir).catch((e) => {
        throw storageError(`the file store ${dir} cannot be created`, e);
      });
      const key = newKey();
      const tmp = `${where(key)}.tmp`;
      const hash = createHash('sha256');
      let size = 0;
      try {
        await pipeline(
          createReadStream(localPath),
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const c of chunks) {
              hash.update(c);
              size += c.length;
              yield c;
            }
          },
          createWriteStream(tmp, { flags: 'wx' }),
        );
        const fh = await open(tmp, 'r+');
        await fh.sync().finally(() => fh.close());
        await rename(tmp, where(key));
      } catch (e) {
        await unlink(tmp).catch(() => {});
        throw storageError(`the file could not be stored in ${dir}`, e);
      }
      return { key, size, sha256: hash.digest('hex') };
    },
    read(key) {
      return createReadStream(where(key));
    },
    async openAt(key) {
      const fh = await open(where(key), 'r');
      return {
        async readAt(offset, length) {
          const buf = Buffer.alloc(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        },
        close: () => fh.close(),
      };
    },
    async copyTo(key, localPath) {
      await pipeline(createReadStream(where(key)), createWriteStream(localPath, { flags: 'wx' }));
    },
    async remove(_db, keys) {
      for (const k of keys) await rm(where(k), { force: true });
    },
    async sweep(named, olderThanMs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      const keys = names.map((n) => n.replace(/\.tmp$/, '')).filter((k) => KEY.test(k));
      const kept = await named([...new Set(keys)]);
      let removed = 0;
      for (const n of names) {
        const k = n.replace(/\.tmp$/, '');
        if (!KEY.test(k) || kept.has(k)) continue;
        const s = await stat(path.join(dir, n)).catch(() => undefined);
        if (!s || Date.now() - s.mtimeMs < olderThanMs) continue;
        await rm(path.join(dir, n), { force: true });
        removed++;
      }
      return removed;
    },
  };
}

/** Files in the database's file_chunks table, 1 MiB a row, written in the caller's transaction. */
export function databaseFileStore(engine: Engine): FileStore {
  /** Row `seq` of a content; undefined past its end. */
  const chunkAt = async (key: string, seq: number) =>
    (
      await engine.db
        .selectFrom('file_chunks')
        .select('data')
        .where('content_key', '=', key)
        .where('seq', '=', seq)
        .executeTakeFirst()
    )?.data;
  return {
    async put(db, localPath) {
      const key = newKey();
      const hash = createHash('sha256');
      let size = 0;
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // Rows of exactly CHUNK bytes (the last one shorter): a read at any offset finds its row by division.
      const flush = async (all: boolean) => {
        let buf = Buffer.concat(pending, pendingBytes);
        while (buf.length >= CHUNK || (all && (buf.length > 0 || seq === 0))) {
          const data = buf.subarray(0, Math.min(CHUNK, buf.length));
          buf = buf.subarray(data.length);
          await db.insertInto('file_chunks').values({ content_key: key, seq: seq++, data }).execute();
          if (data.length === 0) break;
        }
        pending = buf.length > 0 ? [buf] : [];
        pendingBytes = buf.length;
      };
      for await (const c of createReadStream(localPath, {
        highWaterMark: 256 * 1024,
      }) as AsyncIterable<Buffer>) {
        hash.update(c);
        size += c.length;
        pending.push(c);
        pendingBytes += c.length;
        if (pendingBytes >= CHUNK) await flush(false);
      }
      await flush(true);
      return { key, size, sha256: hash.digest('hex') };
    },
    read(key) {
      // One chunk in memory at a time.
      return Readable.from(
        (async function* () {
          for (let seq = 0; ; seq++) {
            const data = await chunkAt(key, seq);
            if (!data) {
              if (seq === 0) throw new Error(`no stored file ${key}`);
              return;
            }
            yield data;
          }
        })(),
      );
    },
    async copyTo(key, localPath) {
      await pipeline(this.read(key), createWriteStream(localPath, { flags: 'wx' }));
    },
    async openAt(key, size) {
      let cached: { seq: number; data: Buffer } | undefined;
      const chunk = async (seq: number) => {
        if (cached?.seq !== seq) cached = { seq, data: (await chunkAt(key, seq)) ?? Buffer.alloc(0) };
        return cached.data;
      };
      return {
        async readAt(offset, length) {
          const parts: Buffer[] = [];
          let at = offset;
          const end = Math.min(size, offset + length);
          while (at < end) {
            const data = await chunk(Math.floor(at / CHUNK));
            const from = at % CHUNK;
            const part = data.subarray(from, Math.min(data.length, from + (end - at)));
            if (part.length === 0) break;
            parts.push(part);
            at += part.length;
          }
          return Buffer.concat(parts);
        },
        async close() {
          cached = undefined;
        },
      };
    },
    async remove(db, keys) {
      if (keys.length > 0)
        await db.deleteFrom('file_chunks').where(engine.inList('content_key', keys)).execute();
    },
    async sweep(named, olderThanMs) {
      const cutoff = (Date.now() - olderThanMs).toString(36);
      const rows = await engine.db
        .selectFrom('file_chunks')
        .select('content_key')
        .where('seq', '=', 0)
        .execute();
      // Keys begin with their creation time in base 36 (same length for centuries): older sorts first.
      const old = rows.map((r) => r.content_key).filter((k) => k.split('-')[0] < cutoff);
      const kept = await named(old);
      const gone = old.filter((k) => !kept.has(k));
      await this.remove(engine.db, gone);
      return gone.length;
    },
  };
}

/** The file store that goes with the engine: the database for PostgreSQL, the data folder for SQLite. */
export function openFileStore(engine: Engine, dataDir: string): FileStore {
  return engine.kind === 'postgres'
    ? databaseFileStore(engine)
    : folderFileStore(path.join(dataDir, 'files'));
}
