// Export file names: <prefix>_YYYYMMDDHHMM.csv in the firm's time zone, and _2, _3... before .csv for a
// second and later export in the same minute. Pure.
import { minuteStamp } from './time.js';

/** The n-th candidate name (n = 1 has no suffix) of an export started at `at`. */
export function exportFileName(prefix: string, at: Date, tz: string, n = 1): string {
  const base = `${prefix}_${minuteStamp(at, tz)}`;
  return n <= 1 ? `${base}.csv` : `${base}_${n}.csv`;
}

/** Candidate names in the order they are tried. */
export function* exportFileNames(prefix: string, at: Date, tz: string, max = 1000): Generator<string> {
  for (let n = 1; n <= max; n++) yield exportFileName(prefix, at, tz, n);
}

/** The hidden temporary name an export is written under before it is published. */
export function temporaryName(prefix: string, unique: string): string {
  return `.${prefix}_${unique}.tmp`;
}

/** True for a temporary name of an export with this prefix (a crashed export leaves one behind). */
export function isTemporaryName(name: string, prefix: string): boolean {
  return name.startsWith(`.${prefix}_`) && name.endsWith('.tmp');
}
