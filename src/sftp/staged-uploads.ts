// Uploads closed under a temporary name (x.csv.filepart, .in.x.csv), held by this process until the
// client renames them to their final name. Keyed by firm, then name; each expires and its file is
// deleted after `ttlMs`.
import { removeTempFile } from './temp-files.js';

export interface StagedUpload {
  tempPath: string;
  size: number;
  stagedAt: Date;
}

interface Held extends StagedUpload {
  timer: NodeJS.Timeout;
}

export class StagedUploads {
  private readonly byFirm = new Map<string, Map<string, Held>>();

  constructor(
    private readonly ttlMs: number,
    /** Most uploads one firm may hold staged at once. */
    readonly maxPerFirm = 100,
    private readonly onExpired: (firmId: string, name: string) => void = () => {},
  ) {}

  get(firmId: string, name: string): StagedUpload | undefined {
    return this.byFirm.get(firmId)?.get(name);
  }

  list(firmId: string): Array<StagedUpload & { name: string }> {
    return [...(this.byFirm.get(firmId) ?? [])].map(([name, h]) => ({
      name,
      tempPath: h.tempPath,
      size: h.size,
      stagedAt: h.stagedAt,
    }));
  }

  count(firmId: string): number {
    return this.byFirm.get(firmId)?.size ?? 0;
  }

  /** Holds an upload under `name`; one already held under that name is replaced and its file deleted. */
  async put(firmId: string, name: string, upload: StagedUpload): Promise<void> {
    const replaced = this.take(firmId, name);
    let firm = this.byFirm.get(firmId);
    if (!firm) {
      firm = new Map();
      this.byFirm.set(firmId, firm);
    }
    const timer = setTimeout(() => {
      const gone = this.take(firmId, name);
      if (gone) {
        this.onExpired(firmId, name);
        removeTempFile(gone.tempPath).catch(() => {});
      }
    }, this.ttlMs);
    timer.unref();
    firm.set(name, { ...upload, timer });
    if (replaced && replaced.tempPath !== upload.tempPath) await removeTempFile(replaced.tempPath);
  }

  /** Takes an upload out of the table (its file is now the caller's); undefined when none is held. */
  take(firmId: string, name: string): StagedUpload | undefined {
    const firm = this.byFirm.get(firmId);
    const held = firm?.get(name);
    if (!firm || !held) return undefined;
    clearTimeout(held.timer);
    firm.delete(name);
    if (firm.size === 0) this.byFirm.delete(firmId);
    return { tempPath: held.tempPath, size: held.size, stagedAt: held.stagedAt };
  }

  /** Deletes every held upload (the server is closing). */
  async clear(): Promise<void> {
    const all = [...this.byFirm].flatMap(([firmId, firm]) => [...firm.keys()].map((n) => [firmId, n]));
    for (const [firmId, name] of all) {
      const gone = this.take(firmId, name);
      if (gone) await removeTempFile(gone.tempPath).catch(() => {});
    }
  }
}
