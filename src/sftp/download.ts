// One file of Results or Export being downloaded: copied whole from the backend into a private temp
// file when opened, so that reads at any offset (clients read many blocks at once) are served from it.
import type { Readable } from 'node:stream';
import { removeTempFile, type TempFile, type TempFiles } from './temp-files.js';

/** Most bytes one READ answers, whatever the client asks for (OpenSSH asks 32 KiB, some more). */
export const MAX_READ_BYTES = 64 * 1024;

export class Download {
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly file: TempFile,
    readonly size: number,
    readonly modifiedAt: Date,
  ) {}

  /** Copies `source` into a new temp file under `dir`; the temp file is removed if the copy fails. */
  static async fetch(source: Readable, dir: string, tempFiles: TempFiles): Promise<Download> {
    const file = await tempFiles.create(dir, 'download');
    let size = 0;
    try {
      for await (const chunk of source) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        await file.write(buf, size);
        size += buf.length;
      }
    } catch (e) {
      source.destroy();
      await file.close().catch(() => {});
      await removeTempFile(file.path).catch(() => {});
      throw e;
    }
    return new Download(file, size, new Date());
  }

  get tempPath(): string {
    return this.file.path;
  }

  /** Up to `length` bytes from `offset` (at most MAX_READ_BYTES); undefined at or past the end. */
  async read(offset: number, length: number): Promise<Buffer | undefined> {
    if (offset >= this.size) return undefined;
    const buf = Buffer.allocUnsafe(Math.min(length, MAX_READ_BYTES, this.size - offset));
    const n = await this.file.read(buf, offset);
    return n === 0 ? undefined : buf.subarray(0, n);
  }

  /** Closes and removes the temp file; safe to call more than once. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.file.close().catch(() => {});
      await removeTempFile(this.file.path).catch(() => {});
    })();
    return this.closed;
  }
}
