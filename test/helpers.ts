// Test support: a fresh store on each engine (a temporary SQLite file, or a new database on the
// machine's real PostgreSQL), temporary folders, and small CSV builders.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { addFirm, type Engine, type NewFirm, openStore } from '../src/store/index.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type EngineName = (typeof ENGINES)[number];

export const PG_ADMIN_URL = process.env.CASEPORT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let counter = 0;

export interface TestStore {
  engine: Engine;
  dataDir: string;
  dbUrl?: string;
  /** Opens a second connection to the same store (e.g. to re-run migrations). */
  reopen(): Promise<Engine>;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'caseport-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export async function openTestStore(kind: EngineName): Promise<TestStore> {
  const dataDir = tempDir();
  let dbUrl: string | undefined;
  let dbName: string | undefined;
  if (kind === 'postgres') {
    dbName = `caseport_test_${process.pid}_${Date.now()}_${counter++}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
  }
  const engine = await openStore({ dataDir, dbUrl });
  const opened: Engine[] = [engine];
  return {
    engine,
    dataDir,
    dbUrl,
    async reopen() {
      const e = await openStore({ dataDir, dbUrl });
      opened.push(e);
      return e;
    },
    async cleanup() {
      for (const e of opened) await e.close().catch(() => {});
      if (dbName) {
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query(`drop database if exists ${dbName} with (force)`);
        await admin.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function storeWithFirm(kind: EngineName, firm: Partial<NewFirm> = {}) {
  const store = await openTestStore(kind);
  await addFirm(store.engine, { id: 'acme', name: 'Acme', ...firm });
  return store;
}

/** Writes a CSV file (rows of cells, quoted where needed) into dir under name; returns its path. */
export function writeCsv(
  dir: string,
  name: string,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  eol = '\n',
): string {
  const quote = (c: string) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  const file = path.join(dir, name);
  writeFileSync(file, rows.map((r) => r.map(quote).join(',')).join(eol) + eol);
  return file;
}

export function writeRaw(dir: string, name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Everything a stream gives, as one buffer. */
export async function readAll(r: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}
