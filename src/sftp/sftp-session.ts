// One SFTP channel of a logged-in firm: its open handles and the answer to each request. Requests are
// read against the firm's virtual home (site-path.ts); anything refused is answered with a status and
// a message, and nothing a client sends can throw past this file.
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import { isCaseportError } from '../errors.js';
import { fileAttrs, folderAttrs } from './attrs.js';
import type { DownloadSlots } from './download.js';
import type { FirmView } from './firm-view.js';
import { HandleTable, type OpenHandle } from './handles.js';
import {
  denied,
  eof,
  failure,
  noSuchFile,
  OPEN_MODE,
  ok,
  Refusal,
  type Reply,
  STATUS,
  unsupported,
} from './replies.js';
import type { SiteBackend, SiteFolder } from './site.js';
import { resolveSitePath, type SitePath, shownName, sitePathText } from './site-path.js';
import type { StagedUploads } from './staged-uploads.js';
import type { TempFiles } from './temp-files.js';
import { UploadRequests } from './upload-requests.js';

/** Requests one session may have under way at once. */
const MAX_REQUESTS_IN_FLIGHT = 512;
/** Entries sent in one READDIR answer. */
const READDIR_BATCH = 100;
/** Requests refused whatever they name. */
const REFUSED_REQUESTS: ReadonlyArray<[string, string]> = [
  ['MKDIR', 'folders cannot be made here: the folders are /Import, /Results and /Export'],
  ['RMDIR', 'folders cannot be removed'],
  ['SYMLINK', 'links cannot be made here'],
  ['READLINK', 'there are no links here'],
];

export type SiteLog = (event: string, detail: Record<string, unknown>) => void;

export interface SessionContext {
  view: FirmView;
  address: string;
  backend: SiteBackend;
  staged: StagedUploads;
  tempFiles: TempFiles;
  /** Where uploads are written while under way. */
  uploadDir: string;
  maxFileBytes: number;
  /** The downloads open on this session's connection, over all its sessions. */
  downloads: DownloadSlots;
  log: SiteLog;
  /** Called around every request, so that a connection busy with one is not idle. */
  activity: { begin(): void; end(): void };
}

export class SftpSession {
  private readonly handles = new HandleTable();
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private ended = false;
  private readonly uploads: UploadRequests;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly c: SessionContext,
  ) {
    this.uploads = new UploadRequests(c);
    /** `busy` makes the refusal of a request over MAX_REQUESTS_IN_FLIGHT (a WRITE's fails its upload). */
    const on = (
      event: string,
      work: (...args: never[]) => Promise<Reply>,
      busy: (...args: never[]) => Refusal = () => failure('too many requests at once'),
    ) =>
      sftp.on(event, (reqId: number, ...args: never[]) => {
        const overloaded = () => this.inFlight > MAX_REQUESTS_IN_FLIGHT;
        // run() answers every error itself; the catch only keeps a bug in it from crashing the process.
        const p = this.run(event, reqId, () => (overloaded() ? Promise.reject(busy(...args)) : work(...args)))
          .catch((e) => this.c.log('sftp.bug', { event, error: String((e as Error)?.stack ?? e) }))
          .finally(() => this.running.delete(p));
        this.running.add(p);
      });
    on('OPEN', (p: string, flags: number) => this.open(p, flags));
    on('CLOSE', (h: Buffer) => this.close(h));
    on('READ', (h: Buffer, offset: number, len: number) => this.read(h, offset, len));
    on(
      'WRITE',
      (h: Buffer, offset: number, data: Buffer) => this.write(h, offset, data),
      (h: Buffer) => this.writeRefused(h, 'too many requests at once'),
    );
    on('FSTAT', (h: Buffer) => this.fstat(h));
    on('FSETSTAT', (h: Buffer, attrs: Partial<Attributes>) => this.fsetstat(h, attrs));
    on('OPENDIR', (p: string) => this.opendir(p));
    on('READDIR', (h: Buffer) => this.readdir(h));
    on('STAT', (p: string) => this.stat(p));
    on('LSTAT', (p: string) => this.stat(p));
    on('SETSTAT', (p: string, attrs: Partial<Attributes>) => this.setstat(p, attrs));
    on('REALPATH', (p: string) => this.realpath(p));
    on('REMOVE', (p: string) => this.uploads.remove(resolveSitePath(p)));
    on('RENAME', (from: string, to: string) =>
      this.uploads.rename(resolveSitePath(from), resolveSitePath(to)),
    );
    on('EXTENDED', (name: string, data: Buffer | undefined) => this.extended(name, data));
    for (const [event, why] of REFUSED_REQUESTS) on(event, () => Promise.reject(denied(why)));
  }

  /** The session is over (channel or connection closed): uploads never closed are discarded. */
  async end(reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await Promise.all(this.handles.takeAll().map((h) => this.dispose(h, reason)));
  }

  /** Resolves once no request is under way (an upload being received is waited for). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Answers `work` (called with this request counted in `inFlight`). */
  private async run(event: string, reqId: number, work: () => Promise<Reply>): Promise<void> {
    let reply: Reply;
    this.c.activity.begin();
    this.inFlight++;
    try {
      reply = await work();
    } catch (e) {
      reply = this.replyToError(event, e);
    } finally {
      this.inFlight--;
      this.c.activity.end();
    }
    if (this.ended) return;
    try {
      this.send(reqId, reply);
    } catch (e) {
      this.c.log('sftp.bug', { event, firm: this.c.view.firmId, error: String((e as Error)?.stack ?? e) });
    }
  }

  private replyToError(event: string, e: unknown): Reply {
    if (e instanceof Refusal) return { kind: 'status', code: e.status, message: e.message };
    const detail = { event, firm: this.c.view.firmId, address: this.c.address };
    if (isCaseportError(e)) {
      this.c.log('sftp.request_failed', { ...detail, error: e.message });
      return { kind: 'status', code: STATUS.FAILURE, message: e.message };
    }
    this.c.log('sftp.bug', { ...detail, error: String((e as Error)?.stack ?? e) });
    return { kind: 'status', code: STATUS.FAILURE, message: 'internal error; the request was not done' };
  }

  private send(reqId: number, r: Reply): void {
    if (r.kind === 'status') this.sftp.status(reqId, r.code, r.message);
    else if (r.kind === 'handle') this.sftp.handle(reqId, r.handle);
    else if (r.kind === 'data') this.sftp.data(reqId, r.data);
    else if (r.kind === 'names')
      this.sftp.name(reqId, r.names as FileEntry[]); // no attrs: flags 0
    else this.sftp.attrs(reqId, r.attrs);
  }

  /** Registers a handle made by `make` within the limit; disposes of it if the session ended meanwhile. */
  private async newHandle(make: () => Promise<OpenHandle>): Promise<Reply> {
    const h = await this.handles.open(make);
    if (this.ended) {
      await this.dispose(h, 'the session ended while the file was being opened');
      throw failure('the session ended');
    }
    return { kind: 'handle', handle: this.handles.add(h) };
  }

  private async dispose(h: OpenHandle, reason: string): Promise<void> {
    if (h.kind === 'download') await h.download.close();
    if (h.kind === 'upload') {
      await h.upload.discard();
      this.c.log('sftp.upload_discarded', { ...this.uploads.detail(h.upload.target.name), reason });
    }
  }

  private async open(raw: string, flags: number): Promise<Reply> {
    const p = resolveSitePath(raw);
    if (p.kind === 'refused') throw denied(`name refused: ${p.why}`);
    const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) !== 0;
    if (writing) {
      if (p.kind !== 'file' || p.folder !== 'Import') {
        throw denied(`${sitePathText(p)} cannot be written: files are uploaded to /Import only`);
      }
      return this.newHandle(async () => ({ kind: 'upload', upload: await this.uploads.open(p.name, flags) }));
    }
    if (p.kind === 'root' || p.kind === 'folder') throw failure(`${sitePathText(p)} is a folder`);
    if (p.kind === 'outside') throw noSuchFile();
    if (p.folder === 'Import') throw denied('uploaded files cannot be downloaded');
    const folder = p.folder;
    return this.newHandle(async () => {
      const download = await this.c.downloads.open(() =>
        this.c.backend.openDownload(this.c.view.firmId, folder, p.name),
      );
      if (!download) throw noSuchFile();
      return { kind: 'download', download };
    });
  }

  private async close(id: Buffer): Promise<Reply> {
    const h = this.handles.take(id);
    if (h.kind === 'download') await h.download.close();
    if (h.kind === 'upload') await this.uploads.close(h.upload);
    return ok();
  }

  private async read(id: Buffer, offset: number, len: number): Promise<Reply> {
    const h = this.handles.get(id);
    if (h.kind === 'upload') throw denied('uploaded files cannot be read');
    if (h.kind === 'dir') throw failure('a folder is read with READDIR');
    const data = await h.download.read(offset, len);
    return data ? { kind: 'data', data } : eof();
  }

  private async write(id: Buffer, offset: number, data: Buffer): Promise<Reply> {
    const h = this.handles.get(id);
    if (h.kind !== 'upload') throw denied('this file is open for reading only');
    await this.uploads.write(h.upload, offset, data);
    return ok();
  }

  /** A WRITE not done: its upload, if it names one, fails (a file must not be received with a hole). */
  private writeRefused(id: Buffer, message: string): Refusal {
    const h = this.handles.find(id);
    return h?.kind === 'upload' ? this.uploads.refuseWrite(h.upload, message) : failure(message);
  }

  private async fstat(id: Buffer): Promise<Reply> {
    const h = this.handles.get(id);
    if (h.kind === 'dir') return { kind: 'attrs', attrs: folderAttrs() };
    if (h.kind === 'upload') return { kind: 'attrs', attrs: this.uploads.attrs(h.upload) };
    return { kind: 'attrs', attrs: fileAttrs(h.download.size, h.download.modifiedAt) };
  }

  /** Times and permissions set on an upload (WinSCP, `put -p`) are accepted and have no effect. */
  private async fsetstat(id: Buffer, attrs: Partial<Attributes>): Promise<Reply> {
    const h = this.handles.get(id);
    if (h.kind !== 'upload' || attrs.size !== undefined) throw denied('attributes cannot be changed here');
    return ok();
  }

  private async setstat(raw: string, attrs: Partial<Attributes>): Promise<Reply> {
    const p = resolveSitePath(raw);
    if (p.kind !== 'file' || p.folder !== 'Import' || attrs.size !== undefined) {
      throw denied('attributes cannot be changed here');
    }
    return ok();
  }

  private async opendir(raw: string): Promise<Reply> {
    const p = resolveSitePath(raw);
    if (p.kind === 'file') throw failure(`${sitePathText(p)} is not a folder`);
    if (p.kind === 'outside' || p.kind === 'refused') throw noSuchFile();
    const folder: SiteFolder | undefined = p.kind === 'folder' ? p.folder : undefined;
    return this.newHandle(async () => ({
      kind: 'dir',
      entries: folder ? await this.c.view.folderEntries(folder) : this.c.view.rootEntries(),
      next: 0,
    }));
  }

  private async readdir(id: Buffer): Promise<Reply> {
    const h = this.handles.get(id);
    if (h.kind !== 'dir') throw failure('not a folder');
    if (h.next >= h.entries.length) return eof();
    const names = h.entries.slice(h.next, h.next + READDIR_BATCH);
    h.next += names.length;
    return { kind: 'names', names };
  }

  private async stat(raw: string): Promise<Reply> {
    const p = resolveSitePath(raw);
    const attrs = await this.attrsOf(p);
    if (!attrs) throw noSuchFile();
    return { kind: 'attrs', attrs };
  }

  private async attrsOf(p: SitePath): Promise<Attributes | undefined> {
    if (p.kind === 'root' || p.kind === 'folder') return folderAttrs();
    if (p.kind === 'file') return this.c.view.fileAttrs(p.folder, p.name);
    return undefined;
  }

  private async realpath(raw: string): Promise<Reply> {
    const p = resolveSitePath(raw);
    if (p.kind === 'refused') throw noSuchFile(`name refused: ${p.why}`);
    const filename = sitePathText(p);
    // Without attributes (flags 0), as OpenSSH's server answers: the path need not exist.
    return { kind: 'names', names: [{ filename, longname: filename }] };
  }

  /** posix-rename@openssh.com is not advertised, but a client sending it anyway gets a plain rename. */
  private async extended(name: string, data: Buffer | undefined): Promise<Reply> {
    if (name !== 'posix-rename@openssh.com' || !data) {
      throw unsupported(`${shownName(name)} is not supported`);
    }
    return this.uploads.posixRename(data);
  }
}
