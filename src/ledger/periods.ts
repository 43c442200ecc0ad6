// Billing periods in the firm's time zone: when the current month (or year) began, as a UTC instant.

/** The offset of `tz` from UTC at `at`, in minutes (positive east of Greenwich). */
function offsetMinutes(at: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return Math.round((local - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

/** Local calendar fields of `at` in `tz`. */
export function zonedParts(
  at: Date,
  tz: string,
): { year: number; month: number; day: number; hour: number; minute: number } {
  const shifted = new Date(at.getTime() + offsetMinutes(at, tz) * 60000);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
  };
}

/** The UTC instant of local midnight on y-m-d in tz. */
export function zonedMidnight(y: number, m: number, d: number, tz: string): Date {
  const guess = new Date(Date.UTC(y, m - 1, d));
  const first = new Date(guess.getTime() - offsetMinutes(guess, tz) * 60000);
  return new Date(guess.getTime() - offsetMinutes(first, tz) * 60000);
}

export function billingPeriodStart(now: Date, tz: string, period: 'month' | 'year'): Date {
  const p = zonedParts(now, tz);
  return zonedMidnight(p.year, period === 'year' ? 1 : p.month, 1, tz);
}
