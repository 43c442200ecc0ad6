// One file being uploaded to Import: bytes written at the client's offsets (in any order, many at once)
// into a private temp file, within the size limit. Any write refused or failed discards the whole
// upload, and one closed with bytes never written (a gap) is refused: a file is received whole or not.
import { ByteRanges, MAX_RANGES } from './byte-ranges.js';
import { failure, type Refusal } from './replies.js';
import { removeTempFile, type TempFile } from './temp-files.js';

/** Bytes of writes being written at once for one upload; past it a client is sending faster than disk. */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

export interface UploadTarget {
  firmId: string;
  name: string;
}

export class Upload {
  /** One past the furthest byte written. */
  private end: number;
  /** The bytes written so far: at CLOSE they must cover [0, end). */
  private readonly written = new ByteRanges();
  private readonly pending = new Set<Promise<void>>();
  private pendingBytes = 0;
  /** Set once the upload failed: it is (being) discarded and every later request is refused with it. */
  private failed: Refusal | undefined;
  private closing = false;
  private discarding: Promise<void> | undefined;

  constructor(
    readonly target: UploadTarget,
    private readonly file: TempFile,
    private readonly maxFileBytes: number,
    /** Writes go at the end whatever their offset (OPEN with APPEND). */
    private readonly append: boolean,
    startSize = 0,
  ) {
    this.end = startSize;
    // A staged upload taken up again was whole when it was closed.
    this.written.add(0, startSize);
  }

  get size(): number {
    return this.end;
  }

  get tempPath(): string {
    return this.file.path;
  }

  /** Why the upload failed, once it has. */
  get failure(): Refusal | undefined {
    return this.failed;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.closing) throw this.fail('the file was written while being closed; the upload was discarded');
    const at = this.append ? this.end : offset;
    if (!Number.isSafeInteger(at) || at < 0 || at + data.length > this.maxFileBytes) {
      throw this.fail(`file too large: the limit is ${this.maxFileBytes} bytes; the upload was discarded`);
    }
    if (this.pendingBytes + data.length > MAX_PENDING_BYTES) {
      throw this.fail('too many writes at once; the upload was discarded');
    }
    if (!this.written.add(at, at + data.length)) {
      throw this.fail(`written in more than ${MAX_RANGES} separate pieces at once; the upload was discarded`);
    }
    this.end = Math.max(this.end, at + data.length);
    const p = this.file.write(data, at);
    this.pendingBytes += data.length;
    this.pending.add(p);
    try {
      await p;
    } catch (e) {
      throw this.fail(`the file could not be written (${(e as Error).message}); the upload was discarded`, e);
    } finally {
      this.pending.delete(p);
      this.pendingBytes -= data.length;
    }
  }

  /** Refuses a write that never reached the upload (the session was too busy): the upload fails. */
  refuse(message: string): Refusal {
    return this.fail(`${message}; the upload was discarded`);
  }

  /**
   * Ends the writing (after every write under way has landed) and closes the file; the upload is then
   * whole in `tempPath`. Throws the upload's failure when it failed or has a gap (it is then discarded).
   */
  async finish(): Promise<{ tempPath: string; size: number }> {
    this.closing = true;
    await this.settle();
    const gap = this.written.firstGap(this.end);
    if (gap && !this.failed) {
      this.fail(
        `the upload has gaps: bytes ${gap[0]}–${gap[1] - 1} were never sent; the upload was discarded`,
      );
    }
    if (this.failed) {
      await this.discard();
      throw this.failed;
    }
    try {
      await this.file.close();
    } catch (e) {
      throw this.fail(`the file could not be written (${(e as Error).message}); the upload was discarded`, e);
    }
    return { tempPath: this.file.path, size: this.end };
  }

  /** Deletes the upload (session ended, the upload failed); safe to call more than once. */
  discard(): Promise<void> {
    this.closing = true;
    this.discarding ??= (async () => {
      await this.settle();
      await this.file.close().catch(() => {});
      await removeTempFile(this.file.path).catch(() => {});
    })();
    return this.discarding;
  }

  /** Marks the upload failed and starts discarding it; the refusal to answer with. */
  private fail(message: string, cause?: unknown): Refusal {
    if (!this.failed) {
      this.failed = failure(message);
      if (cause) this.failed.cause = cause;
      this.discard().catch(() => {});
    }
    return this.failed;
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
