// The result file: each rejected row as it was sent, plus ErrorRow, ErrorColumn and ErrorMessage, so the
// HR team can fix just those rows and send them again. Written row by row to a short hidden temporary
// name in the Results folder, then renamed, so a reader never sees half of it. Cells a spreadsheet
// would run as a formula are neutralised as in exports.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { neutraliseFormula } from '../export/format.js';
import { makeFolder } from '../folders.js';
import type { RowError } from '../ledger/runs.js';

export function resultFileName(original: string): string {
  return `${path.basename(original).replace(/\.csv$/i, '')}_result.csv`;
}

export interface ResultFile {
  write(row: { row: number; cells: string[]; problems: RowError[] }): Promise<void>;
  /** Flushes and publishes the file under its final name; returns its path. */
  finish(): Promise<string>;
  /** Removes the temporary file (after a failure). */
  discard(): Promise<void>;
}

const CSV = { newline: '\r\n', quotes: false, escapeFormulae: false } as const;

/**
 * The cells of a rejected row under the template's columns: a row with more cells than columns keeps
 * the rest, joined by commas as sent, in its last column, so nothing it held is lost.
 */
function asSent(cells: readonly string[], width: number): string[] {
  const out = Array.from({ length: width }, (_, i) => cells[i] ?? '');
  if (cells.length > width) out[width - 1] = Papa.unparse([cells.slice(width - 1)], CSV);
  return out;
}

/** Removes temporary result files a killed process left in `dir` (call under the firm's lease). */
export async function sweepResultTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (/^\.result-[0-9a-f]+\.tmp$/.test(name)) await unlink(path.join(dir, name)).catch(() => {});
  }
}

/** Opens the result file of `original` in `dir` (the firm's Results folder). */
export async function openResultFile(
  dir: string,
  original: string,
  header: readonly string[],
): Promise<ResultFile> {
  await makeFolder(dir);
  const file = path.resolve(dir, resultFileName(original));
  // Short, so that a long file name that fits the folder still gets a temporary name that does.
  const tmp = path.join(dir, `.result-${randomBytes(6).toString('hex')}.tmp`);
  const fh: FileHandle = await open(tmp, 'wx');
  // Rows go out in small groups: a rejected row may hold a megabyte as sent.
  let pending: string[][] = [];
  let chars = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await fh.write(`${Papa.unparse(pending, CSV)}\r\n`);
    pending = [];
    chars = 0;
  };
  try {
    await fh.write(`${Papa.unparse([[...header, 'ErrorRow', 'ErrorColumn', 'ErrorMessage']], CSV)}\r\n`);
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  return {
    async write(r) {
      const sent = asSent(r.cells, header.length).map(neutraliseFormula);
      pending.push([
        ...sent,
        String(r.row),
        neutraliseFormula(r.problems.map((p) => p.column).join('; ')),
        neutraliseFormula(r.problems.map((p) => p.message).join('; ')),
      ]);
      for (const c of sent) chars += c.length;
      if (pending.length >= 500 || chars >= 1 << 20) await flush();
    },
    async finish() {
      await flush();
      await fh.sync();
      await fh.close();
      await rename(tmp, file);
      return file;
    },
    async discard() {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}

/** Removes the result file of an earlier file of the same name: its rows have been sent again whole. */
export async function removeResultFile(dir: string, original: string): Promise<boolean> {
  try {
    await unlink(path.resolve(dir, resultFileName(original)));
    return true;
  } catch {
    return false;
  }
}
