// Streaming the rows of a snapshot in batches, through the one CSV reader (csv-reader.ts). The header
// is the first row. Memory holds one batch and the reader's bounded buffer.
import { createReadStream } from 'node:fs';
import { CsvReader, type CsvRow } from './csv-reader.js';
import type { Snapshot } from './snapshot.js';

/**
 * A batch ends at batchSize rows or at this many characters of cells, whichever comes first: rows may
 * legally be up to 1 MiB, and 2,000 of those would be gigabytes in memory.
 */
export const MAX_BATCH_CHARS = 2 * 1024 * 1024;

export interface RowBatch {
  rows: CsvRow[];
  /** Bytes of the file read so far, for progress. */
  bytesRead: number;
}

/** The rows of the file (header included) in batches of `batchSize`. */
export async function* readBatches(
  s: Snapshot,
  columns: number,
  batchSize: number,
): AsyncGenerator<RowBatch> {
  const reader = new CsvReader(columns);
  // The BOM was counted by the snapshot; it is dropped here whatever the encoding.
  const decoder = new TextDecoder(s.encoding, { ignoreBOM: true });
  let rows: CsvRow[] = [];
  let chars = 0;
  let bytesRead = s.bomBytes;
  // The header rides with the first batch on top of its batchSize data rows.
  let size = batchSize + 1;
  for await (const chunk of createReadStream(s.path, { start: s.bomBytes, highWaterMark: 1 << 16 })) {
    bytesRead += (chunk as Buffer).length;
    reader.push(decoder.decode(chunk as Buffer, { stream: true }));
    for (let r = reader.next(); r; r = reader.next()) {
      rows.push(r);
      for (const c of r.cells) chars += c.length;
      if (rows.length >= size || chars >= MAX_BATCH_CHARS) {
        yield { rows, bytesRead };
        rows = [];
        chars = 0;
        size = batchSize;
      }
    }
  }
  reader.push(decoder.decode());
  reader.end();
  for (let r = reader.next(); r; r = reader.next()) rows.push(r);
  if (rows.length > 0) yield { rows, bytesRead };
}

/** Data rows of the file as the import will read them: the same reader, so the count is exact. */
export async function countRows(s: Snapshot, columns: number): Promise<number> {
  let n = 0;
  for await (const b of readBatches(s, columns, 10_000)) n += b.rows.length;
  return Math.max(0, n - 1);
}
