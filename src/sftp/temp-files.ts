// The server's private files under uploadDir: uploads being written (downloads are read from the
// backend, never copied here). Each has a random name of ours (never the client's) and mode 0600;
// stale ones of a crashed process are swept at start.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

const PREFIX = 'caseport-sftp-';

/** An open private file: what an upload needs of it. */
export interface TempFile {
  readonly path: string;
  /** Writes all of `data` at `position`. */
  write(data: Buffer, position: number): Promise<void>;
  close(): Promise<void>;
}

/** How the server makes its temp files: replaced in tests by one that fails as a full disk does. */
export interface TempFiles {
  /** A new empty private file under `dir`, open for writing. */
  create(dir: string): Promise<TempFile>;
  /** A temp file made earlier (a staged upload taken up again), open for writing. */
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
    close: () => fh.close(),
  };
}

export const diskTempFiles: TempFiles = {
  async create(dir) {
    const p = path.join(dir, `${PREFIX}upload-${randomBytes(12).toString('hex')}`);
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
