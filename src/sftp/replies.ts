// What a request is answered with, as a value: the session's handlers return a Reply or throw a
// Refusal (a status with the message the client reads); the session sends it.
import type { Attributes, FileEntry } from 'ssh2';
import ssh2 from 'ssh2';

export const STATUS = ssh2.utils.sftp.STATUS_CODE;
export const OPEN_MODE = ssh2.utils.sftp.OPEN_MODE;

/** An entry of a NAME answer; without attributes (REALPATH) ssh2 sends none. */
export type NameEntry = Omit<FileEntry, 'attrs'> & { attrs?: Attributes };

export type Reply =
  | { kind: 'status'; code: number; message?: string }
  | { kind: 'handle'; handle: Buffer }
  | { kind: 'data'; data: Buffer }
  | { kind: 'names'; names: NameEntry[] }
  | { kind: 'attrs'; attrs: Attributes };

export const ok = (): Reply => ({ kind: 'status', code: STATUS.OK });
export const eof = (): Reply => ({ kind: 'status', code: STATUS.EOF });

/** A request refused on purpose: the client's doing, answered with `status` and `message`. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

export const denied = (message: string) => new Refusal(STATUS.PERMISSION_DENIED, message);
export const noSuchFile = (message = 'no such file') => new Refusal(STATUS.NO_SUCH_FILE, message);
export const failure = (message: string) => new Refusal(STATUS.FAILURE, message);
export const unsupported = (message: string) => new Refusal(STATUS.OP_UNSUPPORTED, message);
