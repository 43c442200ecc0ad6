// One file of Results or Export being downloaded: the backend's file read at the client's offsets (many
// blocks at once), never copied. Downloads open at once are bounded per connection (DownloadSlots).
import { failure } from './replies.js';
import type { SiteDownload } from './site.js';

/** Most bytes one READ answers, whatever the client asks for (OpenSSH asks 32 KiB, some more). */
export const MAX_READ_BYTES = 64 * 1024;
/** Files one connection may have open for download at once, over all its sessions. */
export const MAX_OPEN_DOWNLOADS = 16;

export class Download {
  private readonly reading = new Set<Promise<Buffer>>();
  private closed: Promise<void> | undefined;

  /** `release` is called once, when the file is closed (its slot given back). */
  constructor(
    private readonly file: SiteDownload,
    private readonly release: () => void,
  ) {}

  get size(): number {
    return this.file.size;
  }

  get modifiedAt(): Date {
    return this.file.modifiedAt;
  }

  /** Up to `length` bytes from `offset` (at most MAX_READ_BYTES); undefined at or past the end. */
  async read(offset: number, length: number): Promise<Buffer | undefined> {
    if (this.closed) throw failure('the file is closed');
    // An offset past 2^53 (rounded by ssh2) is past any file served here.
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size) return undefined;
    const want = Math.min(length, MAX_READ_BYTES, this.size - offset);
    if (want <= 0) return undefined;
    const p = this.file.readAt(offset, want);
    this.reading.add(p);
    try {
      const data = await p;
      return data.length === 0 ? undefined : data.subarray(0, want);
    } finally {
      this.reading.delete(p);
    }
  }

  /** Closes the backend's file once the reads under way are done; safe to call more than once. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      try {
        while (this.reading.size > 0) await Promise.allSettled([...this.reading]);
        await this.file.close();
      } finally {
        this.release();
      }
    })();
    return this.closed;
  }
}

/** The downloads one connection has open (or is opening): at most MAX_OPEN_DOWNLOADS. */
export class DownloadSlots {
  private taken = 0;

  constructor(readonly max = MAX_OPEN_DOWNLOADS) {}

  get inUse(): number {
    return this.taken;
  }

  /**
   * Opens a download with `open` within the limit; the slot is given back when it is closed, or at
   * once when there is no such file or opening fails.
   */
  async open(openFile: () => Promise<SiteDownload | undefined>): Promise<Download | undefined> {
    if (this.taken >= this.max) {
      throw failure(`too many files open for download: at most ${this.max} at once; close one first`);
    }
    this.taken++;
    let file: SiteDownload | undefined;
    try {
      file = await openFile();
    } finally {
      if (!file) this.taken--;
    }
    return file && new Download(file, () => this.taken--);
  }
}
