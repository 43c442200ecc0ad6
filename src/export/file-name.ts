// Export file names: <prefix>_YYYYMMDDHHMM.csv in the firm's time zone, and _2, _3... before .csv for a
// second and later export in the same minute; and the hidden temporary names, which say which process
// writes them. Pure.
import { minuteStamp } from '../time/zones.js';

/** The n-th candidate name (n = 1 has no suffix) of an export started at `at`. */
export function exportFileName(prefix: string, at: Date, tz: string, n = 1): string {
  const base = `${prefix}_${minuteStamp(at, tz)}`;
  return n <= 1 ? `${base}.csv` : `${base}_${n}.csv`;
}

/** Candidate names in the order they are tried. */
export function* exportFileNames(prefix: string, at: Date, tz: string, max = 1000): Generator<string> {
  for (let n = 1; n <= max; n++) yield exportFileName(prefix, at, tz, n);
}

/** The process writing an export: the machine's name and its process id. */
export interface ExportOwner {
  host: string;
  pid: number;
}

/** A host name as it can stand in a file name (letters, digits, dots and dashes). */
export function hostToken(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9.-]/g, '-') || 'host';
}

/**
 * The hidden temporary name an export is written under before it is published:
 * `.<prefix>_<host>_<pid>_<unique>.tmp`, so whoever finds it can tell which process writes it.
 */
export function temporaryName(prefix: string, owner: ExportOwner, unique: string): string {
  return `.${prefix}_${hostToken(owner.host)}_${owner.pid}_${unique}.tmp`;
}

/** The owner named in a temporary name of this prefix; undefined for other names (or older ones). */
export function temporaryOwner(name: string, prefix: string): ExportOwner | undefined {
  if (!isTemporaryName(name, prefix)) return undefined;
  const parts = name.slice(prefix.length + 2, -'.tmp'.length).split('_');
  if (parts.length !== 3 || !/^\d+$/.test(parts[1])) return undefined;
  return { host: parts[0], pid: Number(parts[1]) };
}

/** True for a temporary name of an export with this prefix (a crashed export leaves one behind). */
export function isTemporaryName(name: string, prefix: string): boolean {
  return name.startsWith(`.${prefix}_`) && name.endsWith('.tmp');
}
