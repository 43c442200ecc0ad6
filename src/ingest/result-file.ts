// The result file: each rejected row as it was sent, plus ErrorRow, ErrorColumn and ErrorMessage,
// so the HR team can fix just those rows and send them again. Written to a temporary name, then renamed.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import type { RowError } from '../ledger/runs.js';

export function resultFileName(original: string): string {
  return `${path.basename(original).replace(/\.csv$/i, '')}_result.csv`;
}

export async function writeResultFile(
  dir: string,
  original: string,
  header: readonly string[],
  rows: Map<number, string[]>,
  errors: readonly RowError[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.resolve(dir, resultFileName(original));
  const tmp = `${file}.${process.pid}.tmp`;
  const byRow = new Map<number, RowError[]>();
  for (const e of errors) {
    const list = byRow.get(e.row) ?? [];
    list.push(e);
    byRow.set(e.row, list);
  }
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${Papa.unparse([[...header, 'ErrorRow', 'ErrorColumn', 'ErrorMessage']])}\r\n`);
  let lines: string[][] = [];
  for (const [row, cells] of rows) {
    const problems = byRow.get(row) ?? [];
    const sent = header.map((_, i) => cells[i] ?? '');
    lines.push([
      ...sent,
      String(row),
      problems.map((p) => p.column).join('; '),
      problems.map((p) => p.message).join('; '),
    ]);
    if (lines.length >= 1000) {
      await write(`${Papa.unparse(lines)}\r\n`);
      lines = [];
    }
  }
  if (lines.length > 0) await write(`${Papa.unparse(lines)}\r\n`);
  out.end();
  await once(out, 'finish');
  await rename(tmp, file);
  return file;
}
