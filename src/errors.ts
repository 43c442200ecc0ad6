// Named error kinds with the message a user reads. The CLI (and later the API and the reports)
// render these; anything else that escapes is a bug and is shown as an internal error.

export type CaseportErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'FIRM_NOT_FOUND'
  | 'FIRM_EXISTS'
  | 'KB_LIST_UNKNOWN'
  | 'FILE_NAME_REFUSED'
  | 'FILE_UNREADABLE'
  | 'FILE_EMPTY'
  | 'ENCODING_REFUSED'
  | 'HEADER_MISMATCH'
  | 'ALLOWANCE_EXCEEDED'
  | 'TEMPLATE_UNKNOWN'
  | 'OUTPUT_REFUSED'
  | 'LEASE_LOST'
  | 'STOPPED'
  | 'STORAGE'
  | 'DATABASE';

export class CaseportError extends Error {
  readonly code: CaseportErrorCode;
  constructor(code: CaseportErrorCode, message: string) {
    super(message);
    this.name = 'CaseportError';
    this.code = code;
  }
}

export const usageError = (message: string) => new CaseportError('USAGE', message);
export const configError = (message: string) => new CaseportError('CONFIG', message);
export const firmNotFound = (firmId: string) =>
  new CaseportError('FIRM_NOT_FOUND', `firm "${firmId}" does not exist (see: caseport firm list)`);
export const firmExists = (firmId: string) =>
  new CaseportError('FIRM_EXISTS', `firm "${firmId}" already exists`);
export const kbListUnknown = (list: string, known: readonly string[]) =>
  new CaseportError('KB_LIST_UNKNOWN', `unknown knowledge-base list "${list}"; lists: ${known.join(', ')}`);
export const fileNameRefused = (name: string, why: string) =>
  new CaseportError('FILE_NAME_REFUSED', `file name "${name}" refused: ${why}`);
// File problems: shown beside the file's name (the CLI's summary, the run's row), so they do not repeat it.
export const fileUnreadable = (why: string) =>
  new CaseportError('FILE_UNREADABLE', `the file cannot be read: ${why}`);
export const fileEmpty = () => new CaseportError('FILE_EMPTY', 'the file is empty (no header row)');
export const encodingRefused = (why: string) => new CaseportError('ENCODING_REFUSED', why);
export const headerMismatch = (expected: readonly string[], found: readonly string[]) =>
  new CaseportError(
    'HEADER_MISMATCH',
    `the header does not match the template; expected: ${expected.join(',')}; found: ${found.join(',')}`,
  );
export const allowanceExceeded = (firmId: string, rows: number, left: number) =>
  new CaseportError(
    'ALLOWANCE_EXCEEDED',
    `record allowance exceeded for firm "${firmId}": the file has ${rows} rows but only ${left} are left ` +
      `in this billing period (${rows - left} over); the file was not started and can be retried once the ` +
      'allowance is raised',
  );
export const templateUnknown = (name: string, known: readonly string[]) =>
  new CaseportError('TEMPLATE_UNKNOWN', `unknown template "${name}"; templates: ${known.join(', ')}`);

/** A path given for output (--out) that cannot be written: `why` says what is wrong with it. */
export const outputRefused = (option: string, target: string, why: string) =>
  new CaseportError('OUTPUT_REFUSED', `${option} "${target}": ${why}`);

export function isCaseportError(e: unknown): e is CaseportError {
  return e instanceof CaseportError;
}

/**
 * Why something failed, as a firm may read it: a system error names what failed and its code, not the
 * server's paths (those stay in the logs); any other error its message.
 */
export function publicReason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const sys = e as NodeJS.ErrnoException;
  if (typeof sys.code === 'string' && /^E[A-Z0-9]+$/.test(sys.code) && (sys.path || sys.syscall))
    return `the server could not use its working folder (${sys.syscall ? `${sys.syscall}: ` : ''}${sys.code})`;
  return e.message;
}
