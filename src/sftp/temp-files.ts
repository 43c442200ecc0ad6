// The server's private files under uploadDir: uploads being written and downloads being served. Each
// has a random name of ours (never the client's) and mode 0600; stale ones of a crashed process are
// swept at start.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

const PREFIX = 'caseport-sftp-';

export type TempKind = 'upload' | 'download';

/** An open private file: what uploads and downloads need of it. */
export interface TempFile {
  readonly path: string;
  /** Writes all of `data` at `position`. */
  write(data: Buffer, position: number): Promise<void>;
  /** Reads into `buffer` from `position`; the number of bytes read (0 at the end). */
  read(buffer: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

/** How the server makes its temp files: replaced in tests by one that fails as a full disk does. */
export interface TempFiles {
  /** A new empty private file under `dir`, open for reading and writing. */
  create(dir: string, kind: TempKind): Promise<TempFile>;
  /** A temp file made earlier (a staged upload taken up again), open for reading and writing. */
  reopen(path: string): Promise<TempFile>;
}

function wrap(p: string, fh: FileHandle): TempFile {
  return {
    path: p,
    async write(data, position) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
        done += bytesWritten;
      }
    },
    async read(buffer, position) {
      return (await fh.read(buffer, 0, buffer.length, position)).bytesRead;
    },
    close: () => fh.close(),
  };
}

export const diskTempFiles: TempFiles = {
  async create(dir, kind) {
    const p = path.join(dir, `${PREFIX}${kind}-${randomBytes(12).toString('hex')}`);
    return wrap(p, await open(p, 'wx+', 0o600));
  },
  async reopen(p) {
    return wrap(p, await open(p, 'r+'));
  },
};

/** Removes a temp file; one already gone (taken by the backend, removed at another end) is fine. */
export async function removeTempFile(p: string): Promise<void> {
  await unlink(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/** Removes this server's temp files under `dir` not modified for `olderThanMs` (left by a crash). */
export async function sweepTempFiles(dir: string, olderThanMs: number): Promise<number> {
  let swept = 0;
  const before = Date.now() - olderThanMs;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(PREFIX)) continue;
    const p = path.join(dir, name);
    try {
      if ((await stat(p)).mtimeMs < before) {
        await removeTempFile(p);
        swept++;
      }
    } catch {
      // gone meanwhile, or not ours to judge: left alone
    }
  }
  return swept;
}
