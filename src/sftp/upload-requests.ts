// The requests that change Import (and Export): opening an upload, writing it, closing it (held
// staged under a temporary name, else received by the backend), renaming a staged upload to its final
// name, and removing files. Writes go to Import only; nothing else a firm sees can be changed. An
// upload's name leaves room for its result file's (whyUploadNameRefused).
import type { Attributes } from 'ssh2';
import { isCaseportError } from '../errors.js';
import { fileAttrs } from './attrs.js';
import { denied, failure, noSuchFile, OPEN_MODE, ok, Refusal, type Reply, STATUS } from './replies.js';
import type { SessionContext } from './sftp-session.js';
import {
  isTemporaryName,
  resolveSitePath,
  type SitePath,
  shownName,
  whyUploadNameRefused,
} from './site-path.js';
import { removeTempFile } from './temp-files.js';
import { Upload } from './upload.js';

export class UploadRequests {
  constructor(private readonly c: SessionContext) {}

  private get firmId(): string {
    return this.c.view.firmId;
  }

  detail(name: string): Record<string, unknown> {
    return { firm: this.firmId, address: this.c.address, name };
  }

  /** A new upload of `name` to Import, or a staged one taken up again (OPEN without TRUNC). */
  async open(name: string, flags: number): Promise<Upload> {
    refuseLongName(name);
    const staged = this.c.staged.get(this.firmId, name);
    if (flags & OPEN_MODE.EXCL && (staged || (await this.c.view.fileAttrs('Import', name)))) {
      throw failure(`${shownName(name)} already exists`);
    }
    const append = (flags & OPEN_MODE.APPEND) !== 0;
    const target = { firmId: this.firmId, name };
    if (staged && !(flags & OPEN_MODE.TRUNC)) {
      const taken = this.c.staged.take(this.firmId, name);
      if (taken) {
        const file = await this.c.tempFiles.reopen(taken.tempPath).catch(async (e) => {
          await removeTempFile(taken.tempPath).catch(() => {});
          throw e;
        });
        return new Upload(target, file, this.c.maxFileBytes, append, taken.size);
      }
    }
    if (!staged && !(flags & OPEN_MODE.CREAT)) throw noSuchFile();
    const file = await this.c.tempFiles.create(this.c.uploadDir);
    // Opened with TRUNC over a staged upload: that one is replaced now, not when this one closes.
    const replaced = staged && this.c.staged.take(this.firmId, name);
    if (replaced) await removeTempFile(replaced.tempPath).catch(() => {});
    return new Upload(target, file, this.c.maxFileBytes, append);
  }

  async write(upload: Upload, offset: number, data: Buffer): Promise<void> {
    await this.logFailure(upload, () => upload.write(offset, data));
  }

  /** A WRITE refused before it reached the upload (too many requests at once): the upload fails. */
  refuseWrite(upload: Upload, message: string): Refusal {
    const failedBefore = upload.failure !== undefined;
    const refusal = upload.refuse(message);
    if (!failedBefore) this.logRefused(upload, refusal);
    return refusal;
  }

  attrs(upload: Upload): Attributes {
    return fileAttrs(upload.size, new Date());
  }

  /** CLOSE of an upload: staged when its name is temporary, else received; OK only once it is. */
  async close(upload: Upload): Promise<void> {
    const { name } = upload.target;
    const { tempPath, size } = await this.logFailure(upload, () => upload.finish());
    if (!isTemporaryName(name)) return this.receive(name, tempPath, size);
    const replacing = this.c.staged.get(this.firmId, name) !== undefined;
    if (!replacing && this.c.staged.count(this.firmId) >= this.c.staged.maxPerFirm) {
      await removeTempFile(tempPath).catch(() => {});
      throw failure(
        `too many unfinished uploads (at most ${this.c.staged.maxPerFirm}): rename or remove one first; ` +
          `${shownName(name)} was discarded`,
      );
    }
    await this.c.staged.put(this.firmId, name, { tempPath, size, stagedAt: new Date() });
    this.c.log('sftp.upload_staged', { ...this.detail(name), size });
  }

  /** RENAME within Import of an upload held under a temporary name: to its final name, it is received. */
  async rename(from: SitePath, to: SitePath): Promise<Reply> {
    for (const p of [from, to]) if (p.kind === 'refused') throw denied(`name refused: ${p.why}`);
    const refused = denied('only an upload held under a temporary name can be renamed, within /Import');
    if (from.kind !== 'file' || to.kind !== 'file' || from.folder !== 'Import' || to.folder !== 'Import') {
      throw refused;
    }
    if (!isTemporaryName(from.name) || !this.c.staged.get(this.firmId, from.name)) throw refused;
    if (from.name === to.name) return ok();
    if (!isTemporaryName(to.name)) refuseLongName(to.name);
    const staged = this.c.staged.take(this.firmId, from.name);
    if (!staged) throw refused;
    if (isTemporaryName(to.name)) {
      await this.c.staged.put(this.firmId, to.name, staged);
      return ok();
    }
    await this.receive(to.name, staged.tempPath, staged.size);
    return ok();
  }

  /** posix-rename@openssh.com (its request data: two SSH strings, from and to): a plain rename. */
  async posixRename(data: Buffer): Promise<Reply> {
    const from = readSshString(data, 0);
    const to = from && readSshString(data, from.next);
    if (!from || !to) throw new Refusal(STATUS.BAD_MESSAGE, 'malformed posix-rename request');
    return this.rename(resolveSitePath(from.text), resolveSitePath(to.text));
  }

  /** REMOVE: an export file, or an upload still held staged; nothing else. */
  async remove(p: SitePath): Promise<Reply> {
    if (p.kind === 'refused') throw denied(`name refused: ${p.why}`);
    if (p.kind === 'outside') throw noSuchFile();
    if (p.kind !== 'file') throw denied('folders cannot be removed');
    if (p.folder === 'Results') throw denied('result files cannot be deleted');
    if (p.folder === 'Import') {
      const staged = isTemporaryName(p.name) ? this.c.staged.take(this.firmId, p.name) : undefined;
      if (!staged) throw denied('files in /Import cannot be deleted: they have been received for import');
      await removeTempFile(staged.tempPath);
      this.c.log('sftp.upload_discarded', { ...this.detail(p.name), reason: 'removed by the client' });
      return ok();
    }
    if (!(await this.c.backend.removeExport(this.firmId, p.name))) throw noSuchFile();
    this.c.log('sftp.export_removed', this.detail(p.name));
    return ok();
  }

  /** Runs `work` on `upload`; the refusal that first fails the upload is logged. */
  private async logFailure<T>(upload: Upload, work: () => Promise<T>): Promise<T> {
    const failedBefore = upload.failure !== undefined;
    try {
      return await work();
    } catch (e) {
      if (!failedBefore && e instanceof Refusal) this.logRefused(upload, e);
      throw e;
    }
  }

  private logRefused(upload: Upload, refusal: Refusal): void {
    this.c.log('sftp.upload_refused', { ...this.detail(upload.target.name), reason: refusal.message });
  }

  /** Hands a whole upload to the backend; its temp file is removed if the backend refuses it. */
  private async receive(name: string, tempPath: string, size: number): Promise<void> {
    try {
      await this.c.backend.receive(this.firmId, name, tempPath, size);
    } catch (e) {
      await removeTempFile(tempPath).catch(() => {});
      const reason = isCaseportError(e) ? e.message : 'the file could not be stored';
      this.c.log(isCaseportError(e) ? 'sftp.upload_refused' : 'sftp.upload_failed', {
        ...this.detail(name),
        size,
        reason: isCaseportError(e) ? reason : String((e as Error)?.stack ?? e),
      });
      throw failure(`${shownName(name)} was not received: ${reason}`);
    }
    this.c.log('sftp.upload_received', { ...this.detail(name), size });
  }
}

function refuseLongName(name: string): void {
  const why = whyUploadNameRefused(name);
  if (why) throw denied(`name refused: ${why}`);
}

function readSshString(buf: Buffer, at: number): { text: string; next: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(at);
  if (at + 4 + len > buf.length) return undefined;
  return { text: buf.toString('utf8', at + 4, at + 4 + len), next: at + 4 + len };
}
