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

/** Why a path segment cannot be read as text we would pass on, or undefined when it can. */
function whySegmentRefused(part: string): string | undefined {
  if (Buffer.byteLength(part) > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(part)) return 'the name contains a control character';
  // ssh2 reads bytes that are not UTF-8 as U+FFFD: such a name would not be the client's.
  if (part.includes('\ufffd')) return 'the name is not valid UTF-8';
  return undefined;
}

/**
 * Why `name` cannot be a file's name, or undefined when it can: empty, `.` and `..`, over 255 bytes,
 * control characters (NUL included), slashes of either kind, bytes that were not UTF-8.
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

const TEMPORARY_SUFFIXES = ['.filepart', '.part', '.partial', '.tmp'];

/**
 * Whether a client names an upload in progress, to be renamed to its final name: WinSCP writes
 * `x.csv.filepart`, lftp `.in.x.csv`, others `.part`, `.partial` or `.tmp`. Such uploads are held,
 * never received.
 */
export function isTemporaryName(name: string): boolean {
  const lower = name.toLowerCase();
  return name.startsWith('.') || TEMPORARY_SUFFIXES.some((s) => lower.endsWith(s));
}

/** A name as it may be shown in a message: quoted, control characters escaped, cut at 80 characters. */
export function shownName(name: string): string {
  const cut = name.length > 80 ? `${name.slice(0, 80)}...` : name;
  return JSON.stringify(cut);
}
