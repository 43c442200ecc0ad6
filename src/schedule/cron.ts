// Cron expressions, over croner: checking what a user typed, the next due times of a task, and the
// latest due time at or before now. Times are in the firm's IANA time zone; croner resolves the
// daylight-saving days (a time that does not exist runs once, at the next valid minute; a repeated hour
// runs once). Pure functions of their arguments.
import { Cron } from 'croner';
import { usageError } from '../errors.js';

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function cronOf(expr: string, tz: string) {
  return new Cron(expr, { timezone: tz, paused: true });
}

/** The expression, trimmed, or a USAGE error saying what is wrong with it. Five fields: minute to weekday. */
export function checkCron(expr: string): string {
  const e = expr.trim().replace(/\s+/g, ' ');
  const fields = e.split(' ').length;
  if (!NICKNAMES.has(e.toLowerCase()) && fields !== 5) {
    throw usageError(
      `the schedule "${expr}" is not a cron expression: expected five fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *" for 02:00 daily`,
    );
  }
  try {
    const c = cronOf(e, 'UTC');
    if (!c.nextRun(new Date())) throw new Error('it never runs');
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern: /, '');
    throw usageError(`the schedule "${expr}" is not a cron expression: ${why}`);
  }
  return e;
}

/** The next `n` due times after `from`. */
export function nextDue(expr: string, tz: string, from: Date, n: number): Date[] {
  return cronOf(expr, tz).nextRuns(n, from);
}

/** The latest due time at or before `now`, if there is one. */
export function latestDue(expr: string, tz: string, now: Date): Date | undefined {
  return cronOf(expr, tz).previousRuns(1, new Date(now.getTime() + 1))[0] ?? undefined;
}
