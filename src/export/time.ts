// Instants in the firm's time zone, for exports: LastModified with its offset, today's date for
// DaysToExpiry, the file-name stamp, and reading a --since instant. Pure functions.
import { zonedParts } from '../ledger/periods.js';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const DAY = 86_400_000;

// Offsets are whole quarter hours and change at quarter-hour instants, so one lookup per quarter hour
// serves every timestamp in it: an export of a million rows asks Intl a handful of times, not a million.
const offsets = new Map<string, Map<number, number>>();

/** The offset of `tz` from UTC at `at`, in minutes (positive east of Greenwich). */
export function offsetAt(at: Date, tz: string): number {
  const bucket = Math.floor(at.getTime() / QUARTER);
  let zone = offsets.get(tz);
  if (!zone) {
    zone = new Map();
    offsets.set(tz, zone);
  }
  let off = zone.get(bucket);
  if (off === undefined) {
    const start = new Date(bucket * QUARTER);
    const p = zonedParts(start, tz);
    off = Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - start.getTime()) / MINUTE);
    if (zone.size > 100_000) zone.clear();
    zone.set(bucket, off);
  }
  return off;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** 2026-11-25T09:02:03.456Z in America/Los_Angeles -> 2026-11-25T01:02:03-08:00. */
export function isoWithOffset(at: Date, tz: string): string {
  const off = offsetAt(at, tz);
  const l = new Date(at.getTime() + off * MINUTE);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return (
    `${pad(l.getUTCFullYear(), 4)}-${pad(l.getUTCMonth() + 1)}-${pad(l.getUTCDate())}` +
    `T${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The calendar day of `at` in `tz`, as a day number (days since 1970-01-01). */
export function localDay(at: Date, tz: string): number {
  const p = zonedParts(at, tz);
  return Date.UTC(p.year, p.month - 1, p.day) / DAY;
}

/** Whole days from `today` (a day number) to a stored YYYY-MM-DD date; undefined if it is not one. */
export function daysFrom(today: number, isoDate: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY - today;
}

/** YYYYMMDDHHMM of `at` in `tz`, for export file names. */
export function minuteStamp(at: Date, tz: string): string {
  const p = zonedParts(at, tz);
  return `${pad(p.year, 4)}${pad(p.month)}${pad(p.day)}${pad(p.hour)}${pad(p.minute)}`;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO 8601 instant as typed for --since: with an offset (Z, -08:00) it is exact; without one it is a
 * wall-clock time in the firm's time zone, and a date alone is that day's midnight there.
 * Undefined when the text is not such an instant or names an impossible date or time.
 */
export function parseInstant(text: string, tz: string): Date | undefined {
  const m = INSTANT.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d)
    return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const zone = m[8];
  if (zone) {
    if (/^z$/i.test(zone)) return new Date(wall);
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    if (Number(z[2]) > 14 || Number(z[3] ?? 0) > 59) return undefined;
    const off = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * (z[1] === '-' ? -1 : 1);
    return new Date(wall - off * MINUTE);
  }
  // A wall-clock time in tz: subtract the offset in force then (two passes settle it across a DST change).
  const first = wall - offsetAt(new Date(wall), tz) * MINUTE;
  return new Date(wall - offsetAt(new Date(first), tz) * MINUTE);
}
