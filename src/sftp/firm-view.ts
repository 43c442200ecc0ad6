// A firm's home as one session sees it: the three folders, the backend's files in each and, in
// Import, the uploads this process holds staged under temporary names. Every backend call carries the
// logged-in firm's id and nothing else.
import type { Attributes, FileEntry } from 'ssh2';
import { fileAttrs, folderAttrs, nameEntry } from './attrs.js';
import { SITE_FOLDERS, type SiteBackend, type SiteFolder } from './site.js';
import type { StagedUploads } from './staged-uploads.js';

export class FirmView {
  constructor(
    readonly firmId: string,
    private readonly backend: SiteBackend,
    private readonly staged: StagedUploads,
  ) {}

  /** The entries of `/`: the three folders. */
  rootEntries(): FileEntry[] {
    return SITE_FOLDERS.map((f) => nameEntry(f, folderAttrs(), this.firmId));
  }

  /** The entries of a folder, sorted by name. */
  async folderEntries(folder: SiteFolder): Promise<FileEntry[]> {
    const now = new Date();
    const files = new Map<string, Attributes>();
    for (const e of await this.backend.list(this.firmId, folder)) {
      files.set(e.name, fileAttrs(e.size, e.modifiedAt));
    }
    if (folder === 'Import') {
      for (const s of this.staged.list(this.firmId)) {
        if (!files.has(s.name)) files.set(s.name, fileAttrs(s.size, s.stagedAt));
      }
    }
    return [...files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, attrs]) => nameEntry(name, attrs, this.firmId, now));
  }

  /** A file's attributes; undefined when the folder holds no such file. */
  async fileAttrs(folder: SiteFolder, name: string): Promise<Attributes | undefined> {
    if (folder === 'Import') {
      const s = this.staged.get(this.firmId, name);
      if (s) return fileAttrs(s.size, s.stagedAt);
    }
    const e = (await this.backend.list(this.firmId, folder)).find((x) => x.name === name);
    return e ? fileAttrs(e.size, e.modifiedAt) : undefined;
  }
}
