// First pass over a file's bytes, before anything is applied: fingerprint (sha256), what it really is
// (refusing ZIP, UTF-16 and binary data), its encoding (UTF-8 or the Windows-1252 fallback) and how
// many rows it holds, so billing can refuse a file before it starts. Flat memory: one chunk at a time.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { encodingRefused, fileEmpty, fileUnreadable } from '../errors.js';

export type FileEncoding = 'utf-8' | 'windows-1252';

export interface FileScan {
  bytes: number;
  sha256: string;
  encoding: FileEncoding;
  /** Set when the file is not valid UTF-8 and was read as Windows-1252. */
  encodingWarning?: string;
  /** Non-blank records, header included (a quoted line break does not start a record). */
  records: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** Counts non-blank CSV records across chunks; a quote toggles the quoted state ("" toggles twice). */
export class RecordCounter {
  records = 0;
  private inQuotes = false;
  private lineHasContent = false;
  private lastWasCr = false;

  push(buf: Uint8Array): void {
    let { inQuotes, lineHasContent, lastWasCr, records } = this;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (b === QUOTE) {
        inQuotes = !inQuotes;
        lineHasContent = true;
        lastWasCr = false;
      } else if (!inQuotes && (b === LF || b === CR)) {
        if (!(b === LF && lastWasCr) && lineHasContent) records++;
        if (b === LF && lastWasCr) {
          // the LF of a CRLF: the CR already ended the record
        }
        lineHasContent = false;
        lastWasCr = b === CR;
      } else {
        lineHasContent = true;
        lastWasCr = false;
      }
    }
    Object.assign(this, { inQuotes, lineHasContent, lastWasCr, records });
  }

  end(): number {
    if (this.lineHasContent) this.records++;
    this.lineHasContent = false;
    return this.records;
  }
}

function refuseWhatIsNotText(name: string, head: Uint8Array): void {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    throw encodingRefused(name, 'is a ZIP archive (an .xlsx or .zip renamed to .csv?), not a CSV text file');
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw encodingRefused(name, 'is UTF-16 text; save it as "CSV UTF-8" (or plain CSV) and resend it');
  }
}

export async function scanFile(file: string): Promise<FileScan> {
  const name = path.basename(file);
  let bytes: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw fileUnreadable(name, 'it is not a regular file');
    bytes = st.size;
  } catch (e) {
    if (e instanceof Error && 'code' in e)
      throw fileUnreadable(name, (e as NodeJS.ErrnoException).code ?? e.message);
    throw e;
  }
  if (bytes === 0) throw fileEmpty(name);
  const hash = createHash('sha256');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const counter = new RecordCounter();
  let validUtf8 = true;
  let firstBad = -1;
  let offset = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) {
      const buf = chunk as Buffer;
      if (offset === 0) refuseWhatIsNotText(name, buf);
      const nul = buf.indexOf(0);
      if (nul >= 0) {
        throw encodingRefused(
          name,
          `holds binary data (a NUL byte at byte ${offset + nul}); it is not a CSV text file`,
        );
      }
      hash.update(buf);
      counter.push(buf);
      if (validUtf8) {
        try {
          utf8.decode(buf, { stream: true });
        } catch {
          validUtf8 = false;
          firstBad = offset;
        }
      }
      offset += buf.length;
    }
    if (validUtf8) {
      try {
        utf8.decode();
      } catch {
        validUtf8 = false;
        firstBad = offset;
      }
    }
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof (e as NodeJS.ErrnoException).code === 'string') {
      throw fileUnreadable(name, e.message);
    }
    throw e;
  }
  const records = counter.end();
  return {
    bytes,
    sha256: hash.digest('hex'),
    encoding: validUtf8 ? 'utf-8' : 'windows-1252',
    encodingWarning: validUtf8
      ? undefined
      : `the file is not valid UTF-8 (first bad byte in the chunk starting at byte ${firstBad}); ` +
        'it was read as Windows-1252: check accented letters',
    records,
  };
}
