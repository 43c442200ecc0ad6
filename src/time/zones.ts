// Every time-zone computation of Caseport, over Luxon: the firm's local calendar (billing periods,
// DaysToExpiry), instants written with their offset (LastModified), export file-name stamps, and
// instants typed on the command line. The scheduler's cron times are croner's (src/schedule), in the
// same IANA zones. Pure functions.
import { DateTime, IANAZone } from 'luxon';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const DAY = 86_400_000;

export function isTimeZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/** Local calendar fields of `at` in `tz`. */
export function zonedParts(
  at: Date,
  tz: string,
): { year: number; month: number; day: number; hour: number; minute: number } {
  const d = DateTime.fromJSDate(at, { zone: tz });
  return { year: d.year, month: d.month, day: d.day, hour: d.hour, minute: d.minute };
}

/** The first instant of the billing period (calendar month or year in `tz`) that contains `now`. */
export function billingPeriodStart(now: Date, tz: string, period: 'month' | 'year'): Date {
  return DateTime.fromJSDate(now, { zone: tz }).startOf(period).toJSDate();
}

// Offsets are whole quarter hours and change at quarter-hour instants, so one lookup per quarter hour
// serves every timestamp in it: an export of a million rows asks Luxon a handful of times, not a million.
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
    off = IANAZone.create(tz).offset(bucket * QUARTER);
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
  return DateTime.fromJSDate(at, { zone: tz }).toFormat('yyyyMMddHHmm');
}

/** `at` in `tz` for a person: 2026-11-26 02:00 PST. */
export function localText(at: Date, tz: string): string {
  return DateTime.fromJSDate(at, { zone: tz }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
}

// The ISO 8601 forms --since takes: a date, or a date and a time, with or without an offset.
const INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO 8601 instant as typed for --since: with an offset (Z, -08:00) it is exact; without one it is a
 * wall-clock time in the firm's time zone, and a date alone is that day's midnight there.
 * Undefined when the text is not such an instant or names an impossible date, time or offset.
 */
export function parseInstant(text: string, tz: string): Date | undefined {
  const t = text.trim();
  if (!INSTANT.test(t)) return undefined;
  const off = /([+-])(\d{2}):?(\d{2})?$/.exec(t.slice(10));
  if (off && (Number(off[2]) > 14 || Number(off[3] ?? 0) > 59)) return undefined; // offsets span -12 to +14
  const d = DateTime.fromISO(t.replace(' ', 'T').replace(/\s+/, ''), { zone: tz });
  return d.isValid ? d.toJSDate() : undefined;
}
