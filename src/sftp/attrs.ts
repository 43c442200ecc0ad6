// What a client sees of a folder or a file: SFTP attributes and the `ls -l` style long name.
import type { Attributes, FileEntry } from 'ssh2';

const DIR_MODE = 0o40755;
const FILE_MODE = 0o100644;

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export function folderAttrs(modifiedAt = new Date(0)): Attributes {
  const t = seconds(modifiedAt);
  return { mode: DIR_MODE, uid: 0, gid: 0, size: 0, atime: t, mtime: t };
}

export function fileAttrs(size: number, modifiedAt: Date): Attributes {
  const t = seconds(modifiedAt);
  return { mode: FILE_MODE, uid: 0, gid: 0, size, atime: t, mtime: t };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600_000;

/** `ls -l`'s date: the time of day within six months of now, else the year (UTC). */
function lsDate(d: Date, now: Date): string {
  const day = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}`;
  if (Math.abs(now.getTime() - d.getTime()) < SIX_MONTHS_MS) {
    const hh = String(d.getUTCHours()).padStart(2, '0');
    const mm = String(d.getUTCMinutes()).padStart(2, '0');
    return `${day} ${hh}:${mm}`;
  }
  return `${day}  ${d.getUTCFullYear()}`;
}

function permissions(mode: number): string {
  const bits = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (mode & (1 << (8 - i)) ? c : '-'))
    .join('');
  return ((mode & 0o170000) === 0o040000 ? 'd' : '-') + bits;
}

/** A NAME entry with its long name, as `ls -l` would print it. */
export function nameEntry(name: string, attrs: Attributes, owner: string, now = new Date()): FileEntry {
  const longname = [
    permissions(attrs.mode),
    '   1',
    owner.padEnd(8),
    owner.padEnd(8),
    String(attrs.size).padStart(10),
    lsDate(new Date(attrs.mtime * 1000), now),
    name,
  ].join(' ');
  return { filename: name, longname, attrs };
}
