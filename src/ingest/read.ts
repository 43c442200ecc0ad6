// Streaming the rows of a CSV file with papaparse, in batches, with the spreadsheet row number of
// each row (header = 1). Memory holds one batch. A quote that never closes swallows the rest of the
// file into one cell in any RFC 4180 parser; we salvage the lines it swallowed so valid rows are kept.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import Papa from 'papaparse';
import type { FileEncoding } from './scan.js';

export interface SourceRow {
  /** The row number a spreadsheet shows: header = 1, first data row = 2. */
  row: number;
  cells: string[];
  /** Set when the parser found the row malformed (quotes). */
  parseError?: string;
}

export interface ReadOptions {
  encoding: FileEncoding;
  batchSize: number;
  onHeader(cells: string[]): boolean | Promise<boolean>;
  onBatch(rows: SourceRow[]): Promise<void>;
}

async function* decode(file: string, encoding: FileEncoding): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding); // strips a UTF-8 BOM
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) {
    const text = decoder.decode(chunk as Buffer, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

const isBlank = (cells: string[]) => cells.length === 1 && cells[0].trim() === '';

/** Rows of a swallowed remainder: the first line belongs to the broken row, the rest are re-read. */
function salvage(rest: string, firstRow: number): SourceRow[] {
  const lines = rest.split(/\r\n|\n|\r/);
  const out: SourceRow[] = [];
  let row = firstRow;
  let i = 1;
  while (i < lines.length) {
    const text = lines.slice(i).join('\n');
    const parsed = Papa.parse<string[]>(text, { preview: 1, delimiter: ',' });
    const cells = parsed.data[0] ?? [''];
    const quoteErr = parsed.errors.find((e) => e.code === 'MissingQuotes');
    if (quoteErr) {
      out.push({ row, cells: lines[i].split(','), parseError: unterminated });
      row++;
      i++;
      continue;
    }
    const used = Math.max(1, (cells.join(',').match(/\r\n|\n|\r/g) ?? []).length + 1);
    if (!isBlank(cells)) out.push({ row, cells, parseError: parsed.errors[0]?.message });
    row += used;
    i += used;
  }
  return out;
}

const unterminated =
  'a quoted cell is never closed (unbalanced quote); the row was not applied and the lines after it were ' +
  'read again as rows of their own';

export function readRows(file: string, opts: ReadOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let row = 0;
    let header = true;
    let batch: SourceRow[] = [];
    let failed = false;
    const fail = (e: unknown, parser?: Papa.Parser) => {
      if (failed) return;
      failed = true;
      parser?.abort();
      reject(e);
    };
    const flush = async (parser: Papa.Parser | undefined, more: SourceRow[] = []) => {
      const rows = batch.concat(more);
      batch = [];
      if (rows.length === 0) return;
      // papaparse never pauses a Node stream it reads: pause the source too, or it reads the whole file
      // into its queue while a batch is being applied.
      parser?.pause();
      source.pause();
      try {
        await opts.onBatch(rows);
        source.resume();
        parser?.resume();
      } catch (e) {
        fail(e, parser);
      }
    };
    const source = Readable.from(decode(file, opts.encoding), { highWaterMark: 1 });
    Papa.parse<string[]>(source, {
      delimiter: ',', // the contract is comma-separated: never guess from a pipe or tab in the data
      step(res, parser) {
        if (failed) return;
        row++;
        const cells = res.data;
        if (header) {
          header = false;
          parser.pause();
          Promise.resolve(opts.onHeader(cells)).then(
            (go) => {
              if (go) return parser.resume();
              parser.abort();
              resolve();
            },
            (e) => fail(e, parser),
          );
          return;
        }
        if (isBlank(cells)) return;
        const missing = res.errors.some((e) => e.code === 'MissingQuotes');
        const last = cells[cells.length - 1] ?? '';
        if (missing && /[\r\n]/.test(last)) {
          const broken: SourceRow = { row, cells, parseError: unterminated };
          const rest = salvage(last, row + 1);
          row = rest.length > 0 ? rest[rest.length - 1].row : row;
          batch.push(broken);
          void flush(parser, rest);
          return;
        }
        const parseError = res.errors.find((e) => e.type === 'Quotes')?.message;
        batch.push(
          parseError ? { row, cells, parseError: `malformed quotes: ${parseError}` } : { row, cells },
        );
        if (batch.length >= opts.batchSize) void flush(parser);
      },
      complete() {
        if (failed) return;
        if (header) {
          resolve(); // no rows at all
          return;
        }
        flush(undefined).then(() => {
          if (!failed) resolve();
        }, reject);
      },
      error(e: Error) {
        fail(e);
      },
    });
  });
}
