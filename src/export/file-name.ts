// Export file names: <prefix>_YYYYMMDDHHMM.csv in the firm's time zone, and _2, _3... before .csv for a
// second and later export in the same minute; and the hidden temporary names, which say which run
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

/**
 * The hidden temporary name an export is written under before it is published:
 * `.<prefix>_r<run id>_<unique>.tmp`, so whoever finds it can ask the ledger whether its run is alive.
 */
export function temporaryName(prefix: string, runId: number, unique: string): string {
  return `.${prefix}_r${runId}_${unique}.tmp`;
}

/** The run named in a temporary name of this prefix; undefined for other names (or older ones). */
export function temporaryRunId(name: string, prefix: string): number | undefined {
  if (!isTemporaryName(name, prefix)) return undefined;
  const m = /^r(\d+)_[0-9a-f]+$/.exec(name.slice(prefix.length + 2, -'.tmp'.length));
  return m ? Number(m[1]) : undefined;
}

/** True for a temporary name of an export with this prefix (a crashed export leaves one behind). */
export function isTemporaryName(name: string, prefix: string): boolean {
  return name.startsWith(`.${prefix}_`) && name.endsWith('.tmp');
}
