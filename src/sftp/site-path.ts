// A client's path read against a firm's virtual home: `/` holding Import, Results and Export, each
// holding files only. Pure: nothing here touches the file system, which a client path never reaches.
import { SITE_FOLDERS, type SiteFolder } from './site.js';

export type SitePath =
  | { kind: 'root' }
  | { kind: 'folder'; folder: SiteFolder }
  | { kind: 'file'; folder: SiteFolder; name: string }
  /** Anything else: /etc/passwd, /Import/sub/x, /other-firm/Import. Nothing is there. */
  | { kind: 'outside'; path: string }
  /** A path holding a name no file may have (`why` says what is wrong with it). */
  | { kind: 'refused'; why: string };

/** Longest path read at all; longer requests are refused before they are split. */
const MAX_PATH_BYTES = 4096;
/** Longest name of a file, as on most file systems. */
export const MAX_NAME_BYTES = 255;
/** What a result file's name adds to its upload's: `x.csv` gives `x_result.csv`. */
const RESULT_NAME_EXTRA = '_result'.length;
/** Longest name of an upload: its result file's name must fit in MAX_NAME_BYTES. */
export const MAX_UPLOAD_NAME_BYTES = MAX_NAME_BYTES - RESULT_NAME_EXTRA;

/** Invisible characters that change how a name reads (U+202E shows `abc.exe` as `exe.cba`). */
const FORMAT_CHARACTER = /\p{Cf}/u;
/** Characters a reader takes for a slash or a backslash. */
const SLASH_LOOKALIKE = /[\u2044\u2215\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c]/;

const codePoint = (c: string) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why a path segment cannot be read as text we would pass on, or undefined when it can. */
function whySegmentRefused(part: string): string | undefined {
  if (Buffer.byteLength(part) > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(part)) return 'the name contains a control character';
  // ssh2 reads bytes that are not UTF-8 as U+FFFD: such a name would not be the client's.
  if (part.includes('\ufffd')) return 'the name is not valid UTF-8';
  const format = FORMAT_CHARACTER.exec(part);
  if (format) return `the name contains an invisible formatting character (${codePoint(format[0])})`;
  const slash = SLASH_LOOKALIKE.exec(part);
  if (slash) return `the name contains a character that looks like a slash (${codePoint(slash[0])})`;
  return undefined;
}

/**
 * Why `name` cannot be a file's name, or undefined when it can: empty, `.` and `..`, over 255 bytes,
 * control characters (NUL included), invisible formatting characters (bidi controls, zero widths),
 * slashes of either kind and their look-alikes, bytes that were not UTF-8.
 */
export function whyNameRefused(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name === '.' || name === '..') return `"${name}" is not a file name`;
  if (name.includes('/') || name.includes('\\')) return 'the name contains a slash';
  return whySegmentRefused(name);
}

/**
 * The segments of a client path made absolute and normal: relative paths start at `/` (the firm's
 * home), `.` and repeated slashes vanish, `..` goes up but never above `/`. A segment that could be no
 * name at all (control characters, not UTF-8, over-long) refuses the whole path.
 */
export function normalisePath(raw: string): { segments: string[] } | { refused: string } {
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES)
    return { refused: `the path is longer than ${MAX_PATH_BYTES} bytes` };
  const segments: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      segments.pop();
      continue;
    }
    const why = whySegmentRefused(part);
    if (why) return { refused: why };
    segments.push(part);
  }
  return { segments };
}

export function pathText(segments: readonly string[]): string {
  return `/${segments.join('/')}`;
}

/** Where a client path lands in the firm's home. */
export function resolveSitePath(raw: string): SitePath {
  const n = normalisePath(raw);
  if ('refused' in n) return { kind: 'refused', why: n.refused };
  const { segments } = n;
  if (segments.length === 0) return { kind: 'root' };
  const folder = SITE_FOLDERS.find((f) => f === segments[0]);
  if (!folder || segments.length > 2) return { kind: 'outside', path: pathText(segments) };
  if (segments.length === 1) return { kind: 'folder', folder };
  const name = segments[1];
  const why = whyNameRefused(name);
  return why ? { kind: 'refused', why } : { kind: 'file', folder, name };
}

/** The absolute path of a resolved place, as REALPATH answers it. */
export function sitePathText(p: SitePath): string {
  switch (p.kind) {
    case 'root':
      return '/';
    case 'folder':
      return `/${p.folder}`;
    case 'file':
      return `/${p.folder}/${p.name}`;
    case 'outside':
      return p.path;
    case 'refused':
      return '/';
  }
}

/**
 * Why `name` cannot be given to an upload (a file name that is otherwise good), or undefined when it
 * can: over MAX_UPLOAD_NAME_BYTES, its result file could not be named.
 */
export function whyUploadNameRefused(name: string): string | undefined {
  if (Buffer.byteLength(name) <= MAX_UPLOAD_NAME_BYTES) return undefined;
  return (
    `the name is longer than ${MAX_UPLOAD_NAME_BYTES} bytes: its result file's name ` +
    `(${RESULT_NAME_EXTRA} bytes longer) would not fit in ${MAX_NAME_BYTES}`
  );
}

const TEMPORARY_PREFIX = '.in.';
const TEMPORARY_SUFFIXES = ['.filepart', '.part', '.partial', '.tmp'];

/**
 * Whether a client names an upload in progress, to be renamed to its final name: WinSCP writes
 * `x.csv.filepart`, lftp `.in.x.csv`, others `.part`, `.partial` or `.tmp`. Such uploads are held,
 * never received. Any other name, one starting with `.` included, is a final name.
 */
export function isTemporaryName(name: string): boolean {
  const lower = name.toLowerCase();
  return name.startsWith(TEMPORARY_PREFIX) || TEMPORARY_SUFFIXES.some((s) => lower.endsWith(s));
}

/** A name as it may be shown in a message: quoted, control characters escaped, cut at 80 characters. */
export function shownName(name: string): string {
  const cut = name.length > 80 ? `${name.slice(0, 80)}...` : name;
  return JSON.stringify(cut);
}
