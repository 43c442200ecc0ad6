// Writing an export file so that a reader never sees half of it: rows go to a hidden temporary file in
// the target folder (CSV through papaparse, CRLF, quoted where needed), which is flushed to disk and
// then published under the first free name with a hard link, which fails instead of overwriting.
import { type FileHandle, link, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { isTemporaryName, temporaryRunId } from './file-name.js';

/** Untouched this long, a temporary file that names no run belongs to an export that died. */
const UNNAMED_STALE_MS = 60 * 60 * 1000;

export interface ExportFileOptions {
  dir: string;
  /** File-name prefix, for the temporary name and the sweep of stale temporary files. */
  prefix: string;
  header: readonly string[];
  /** The temporary file's name (see temporaryName). */
  name: string;
  /** Whether the export run that writes a temporary file is alive (its file is then left alone). */
  runAlive(runId: number): Promise<boolean>;
  /** Test hook: called after each chunk of rows is written; throwing from it fails the export. */
  afterChunk?(rowsWritten: number): void | Promise<void>;
}

export interface ExportFile {
  /** The temporary path being written. */
  readonly tmp: string;
  readonly rows: number;
  write(rows: string[][]): Promise<void>;
  /** Flushes, closes and publishes under the first of `names` that does not exist yet; returns its path. */
  publish(names: Iterable<string>): Promise<string>;
  /** Closes and removes the temporary file (after a failure). */
  discard(): Promise<void>;
}

const CSV = { newline: '\r\n', quotes: false, escapeFormulae: false } as const;

export async function openExportFile(o: ExportFileOptions): Promise<ExportFile> {
  await sweepStale(o.dir, o.prefix, o.runAlive);
  const tmp = path.join(o.dir, o.name);
  let fh: FileHandle | undefined = await open(tmp, 'wx');
  let rows = 0;
  const close = async () => {
    const h = fh;
    fh = undefined;
    await h?.close();
  };
  const write = async (text: string) => {
    if (!fh) throw new Error('the export file is closed');
    await fh.write(text);
  };
  try {
    await write(`${Papa.unparse([o.header as string[]], CSV)}\r\n`);
  } catch (e) {
    await close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  return {
    tmp,
    get rows() {
      return rows;
    },
    async write(chunk) {
      if (chunk.length === 0) return;
      await write(`${Papa.unparse(chunk, CSV)}\r\n`);
      rows += chunk.length;
      await o.afterChunk?.(rows);
    },
    async publish(names) {
      await fh!.sync();
      await close();
      const file = await publishNoClobber(tmp, o.dir, names);
      await syncDir(o.dir);
      return file;
    },
    async discard() {
      await close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}

/** Links tmp to the first free name (link never overwrites), then removes tmp. */
async function publishNoClobber(tmp: string, dir: string, names: Iterable<string>): Promise<string> {
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      await link(tmp, file);
      await unlink(tmp);
      return file;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
      // A file system without hard links: check, then rename (only racy against a second exporter there).
      if (await exists(file)) continue;
      await rename(tmp, file);
      return file;
    }
  }
  throw new Error(`no free export file name in ${dir}`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Makes the new directory entry durable, so a file whose mark has moved survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r').catch(() => undefined);
  if (!d) return;
  await d.sync().catch(() => {}); // not supported everywhere (Windows); the rename itself is still atomic
  await d.close();
}

/**
 * Removes temporary files that an export killed mid-way left behind: its run is no longer alive (the
 * ledger says, by the run's lease), or, for a name that names no run, it has been untouched for an hour.
 */
async function sweepStale(dir: string, prefix: string, runAlive: (runId: number) => Promise<boolean>) {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!isTemporaryName(name, prefix)) continue;
    const file = path.join(dir, name);
    const runId = temporaryRunId(name, prefix);
    if (runId !== undefined) {
      if (!(await runAlive(runId))) await unlink(file).catch(() => {});
      continue;
    }
    const st = await stat(file).catch(() => undefined);
    if (st && now - st.mtimeMs > UNNAMED_STALE_MS) await unlink(file).catch(() => {});
  }
}
