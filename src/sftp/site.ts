// What the SFTP server needs from the rest of Caseport: who may log in, and a firm's three folders as
// the ledger and the file store see them. The server (server.ts) speaks SFTP and enforces the jail and
// the permissions; it holds no state of its own beyond uploads in progress and downloads open.

export type SiteFolder = 'Import' | 'Results' | 'Export';
export const SITE_FOLDERS: readonly SiteFolder[] = ['Import', 'Results', 'Export'];

export interface SiteEntry {
  name: string;
  size: number;
  modifiedAt: Date;
}

export interface SiteDownload {
  /** Bytes in the file. */
  size: number;
  modifiedAt: Date;
  /** Up to `length` bytes from `offset`: fewer only at the end of the file, empty at or past it. */
  readAt(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface SiteBackend {
  /** Whether `password` is the firm's SFTP password (false for an unknown firm); never blocks the event loop. */
  checkPassword(firmId: string, password: string): Promise<boolean>;
  /** The firm's authorised public keys, OpenSSH one-line format (empty for an unknown firm). */
  publicKeys(firmId: string): Promise<string[]>;
  /** The server's private host key (OpenSSH or PEM text), the same on every node. */
  hostKey(): Promise<string>;
  /** Import: files received and not yet picked up. Results: result files. Export: export files. */
  list(firmId: string, folder: SiteFolder): Promise<SiteEntry[]>;
  /**
   * A complete upload to Import under its final name. The bytes are in `localPath`, a file the backend
   * now owns (it moves or copies it, then removes it). Resolves once the file and its ledger entry are
   * committed; rejects (the upload failed) otherwise.
   */
  receive(firmId: string, name: string, localPath: string, size: number): Promise<void>;
  /** A file of Results or Export opened for reading; undefined when there is no such file. */
  openDownload(firmId: string, folder: 'Results' | 'Export', name: string): Promise<SiteDownload | undefined>;
  /** Deletes an export file; false when there is no such file. */
  removeExport(firmId: string, name: string): Promise<boolean>;
  /**
   * Failed logins where every node sees them (the store), so that several nodes do not each allow the
   * limit. `attempt` records an attempt from the address before it is checked; it answers undefined
   * (and counts nothing) when the address already has `max` failures within `windowMs`. `settle` keeps
   * the attempt as a failure, or forgets it.
   */
  loginAttempts?: {
    attempt(address: string, max: number, windowMs: number): Promise<{ id: number } | undefined>;
    settle(id: number, failed: boolean, windowMs: number): Promise<void>;
  };
}

export interface SiteLimits {
  /** Largest upload accepted, in bytes (CASEPORT_SFTP_MAX_FILE_BYTES, default 2 GiB). */
  maxFileBytes: number;
  /** An SSH connection with no SFTP request for this long is closed (default 10 minutes). */
  idleTimeoutMs: number;
  /** Failed logins from one address within `failWindowMs` before further attempts are refused. */
  maxFailedLogins: number;
  failWindowMs: number;
}
