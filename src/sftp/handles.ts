// The handles one SFTP session has open (folders being listed, uploads, downloads), each under a
// random id, at most MAX_OPEN_HANDLES at once counting those still being opened.
import { randomBytes } from 'node:crypto';
import type { FileEntry } from 'ssh2';
import type { Download } from './download.js';
import { failure } from './replies.js';
import type { Upload } from './upload.js';

/** Handles one session may hold open at once. */
export const MAX_OPEN_HANDLES = 64;

export type OpenHandle =
  | { kind: 'dir'; entries: FileEntry[]; next: number }
  | { kind: 'upload'; upload: Upload }
  | { kind: 'download'; download: Download };

export class HandleTable {
  private readonly byId = new Map<string, OpenHandle>();
  /** Handles being opened (counted against the limit before they exist). */
  private opening = 0;

  /** Opens a handle with `make`, within the limit; add() it, or dispose of it, next. */
  async open(make: () => Promise<OpenHandle>): Promise<OpenHandle> {
    if (this.byId.size + this.opening >= MAX_OPEN_HANDLES) {
      throw failure(`too many open files: at most ${MAX_OPEN_HANDLES} at once`);
    }
    this.opening++;
    try {
      return await make();
    } finally {
      this.opening--;
    }
  }

  /** Registers an open handle; the id the client names it by. */
  add(h: OpenHandle): Buffer {
    const id = randomBytes(8);
    this.byId.set(id.toString('hex'), h);
    return id;
  }

  /** The handle named `id`, or undefined. */
  find(id: Buffer): OpenHandle | undefined {
    return this.byId.get(id.toString('hex'));
  }

  /** The handle named `id`; an unknown one is refused. */
  get(id: Buffer): OpenHandle {
    const h = this.find(id);
    if (!h) throw failure('unknown handle');
    return h;
  }

  /** Takes the handle named `id` out of the table (CLOSE); an unknown one is refused. */
  take(id: Buffer): OpenHandle {
    const h = this.get(id);
    this.byId.delete(id.toString('hex'));
    return h;
  }

  /** Takes every handle out of the table (the session ended). */
  takeAll(): OpenHandle[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }
}
