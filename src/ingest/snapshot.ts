// The first pass over a file, before anything is applied: a private copy that cannot change under the
// run (what is hashed, counted and applied is the same bytes), its fingerprint (sha256), what it really
// is (refusing ZIP, UTF-16 and binary data), its encoding (UTF-8 or the Windows-1252 fallback) and an
// upper bound on its rows (its line breaks). Flat memory: one 64 KiB chunk at a time.
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CaseportError, encodingRefused, fileEmpty, fileUnreadable } from '../errors.js';
import { makeFolder } from '../folders.js';

export type FileEncoding = 'utf-8' | 'windows-1252';

export interface Snapshot {
  /** The private copy the run reads. */
  path: string;
  bytes: number;
  sha256: string;
  encoding: FileEncoding;
  /** Set when the file is not valid UTF-8 and was read as Windows-1252. */
  encodingWarning?: string;
  /** Bytes of a leading UTF-8 BOM (0 or 3), dropped whichever way the rest decodes. */
  bomBytes: number;
  /** Line breaks + 1: a file never holds more rows than this, whatever its quotes do. */
  lineBound: number;
  /** Removes the private copy. */
  remove(): Promise<void>;
}

const CHUNK = 1 << 16;

/** What an errno means to a person. */
function reason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the file name is too long';
    case 'EIO':
      return 'an input/output error from the disk';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return e.message;
  }
}

const isErrno = (e: unknown): e is NodeJS.ErrnoException =>
  e instanceof Error &&
  typeof (e as NodeJS.ErrnoException).code === 'string' &&
  !('name' in e && e.name === 'CaseportError');

function refuseWhatIsNotText(head: Uint8Array): void {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    throw encodingRefused(
      'the file is a ZIP archive (an .xlsx or .zip renamed to .csv?), not a CSV text file',
    );
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw encodingRefused('the file is UTF-16 text; save it as "CSV UTF-8" (or plain CSV) and send it again');
  }
  // A NUL in the header line: a binary file, or UTF-16 without its byte-order mark.
  const lf = head.indexOf(0x0a);
  const nul = head.indexOf(0);
  if (nul >= 0 && (lf < 0 || nul < lf)) {
    throw encodingRefused(
      `the file holds binary data (a NUL byte at byte ${nul} of its first line); it is not CSV text`,
    );
  }
}

/**
 * Removes copies that a process killed mid-run left behind. `dir` is one firm's spool, swept under the
 * firm's import lease: no other import of the firm is running, so every copy in it is a leftover.
 */
async function sweep(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith('.snapshot')) await unlink(path.join(dir, name)).catch(() => {});
  }
}

/** The spool (the store's own folder) failed, not the customer's file. */
const spoolFailed = (dir: string, e: unknown) =>
  new CaseportError(
    'STORAGE',
    `the spool folder ${dir} cannot hold a copy of the file: ${isErrno(e) ? reason(e) : String(e)}`,
  );

/** Copies `file` into `spoolDir` and reads what the run needs to know before it starts. */
export async function takeSnapshot(file: string, spoolDir: string): Promise<Snapshot> {
  let src: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking: opening a FIFO would otherwise wait for a writer for ever (regular files ignore it).
    src = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw isErrno(e) ? fileUnreadable(reason(e)) : e;
  }
  const copy = path.join(spoolDir, `${process.pid}-${randomBytes(6).toString('hex')}.snapshot`);
  const remove = () => unlink(copy).catch(() => {});
  let dst: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const st = await src.stat();
    if (!st.isFile()) throw fileUnreadable('it is not a regular file');
    try {
      await makeFolder(spoolDir);
      await sweep(spoolDir);
      dst = await open(copy, 'wx');
    } catch (e) {
      throw spoolFailed(spoolDir, e);
    }
    const hash = createHash('sha256');
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const buf = Buffer.allocUnsafe(CHUNK);
    let validUtf8 = true;
    let firstBad = -1;
    let bytes = 0;
    let breaks = 0;
    let bomBytes = 0;
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await src.read(buf, 0, CHUNK, null));
      } catch (e) {
        throw isErrno(e) ? fileUnreadable(reason(e)) : e;
      }
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (bytes === 0) {
        refuseWhatIsNotText(chunk);
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) bomBytes = 3;
      }
      hash.update(chunk);
      await dst.write(chunk).catch((e) => {
        throw spoolFailed(spoolDir, e);
      });
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) breaks++;
      for (let i = chunk.indexOf(0x0d); i >= 0; i = chunk.indexOf(0x0d, i + 1)) breaks++;
      if (validUtf8) {
        try {
          utf8.decode(chunk, { stream: true });
        } catch {
          validUtf8 = false;
          firstBad = bytes;
        }
      }
      bytes += bytesRead;
    }
    if (validUtf8) {
      try {
        utf8.decode();
      } catch {
        validUtf8 = false;
        firstBad = bytes;
      }
    }
    if (bytes === 0) throw fileEmpty();
    await dst.close().catch((e) => {
      throw spoolFailed(spoolDir, e);
    });
    dst = undefined;
    return {
      path: copy,
      bytes,
      sha256: hash.digest('hex'),
      encoding: validUtf8 ? 'utf-8' : 'windows-1252',
      encodingWarning: validUtf8
        ? undefined
        : `the file is not valid UTF-8 (first bad byte in the 64 KiB starting at byte ${firstBad}); ` +
          'it was read as Windows-1252: check accented letters',
      bomBytes,
      lineBound: breaks + 1,
      remove,
    };
  } catch (e) {
    await dst?.close().catch(() => {});
    await remove();
    throw e;
  } finally {
    await src.close().catch(() => {});
  }
}
