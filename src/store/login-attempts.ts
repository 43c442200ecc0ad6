// Login attempts counted in the store, so that every node counts them together (the web sign-in by
// account and address, SFTP by address). An attempt is written before its password is checked, as
// pending: attempts sent at once see each other. Past the limit of failures an attempt is refused
// unchecked; while the failures and the attempts being checked could together reach the limit, an
// attempt waits its turn (the right password sent in parallel gets in; a flood gets no more checks than
// could fail). A failed attempt stays, as a failure, for the window; a good one is deleted.
import type { Engine } from './engine.js';

/** The account column of SFTP's attempts (the web's are e-mail addresses). */
export const SFTP_ACCOUNT = 'sftp';

export interface AttemptKeys {
  /** Counted per account (the web's e-mail address), if given. */
  account?: { value: string; limit: number };
  /** Counted per address (the caller's IP, with a prefix per service). */
  address: { value: string; limit: number };
  /** The account column of the row when no account is counted (e.g. "sftp"). */
  label?: string;
}

export type Attempt = { id: number } | { throttled: true; retryAfterS: number };

/** An attempt older than this is no longer being checked (its process died): it is not waited for. */
const PENDING_MS = 60_000;
/** How long an attempt waits for its turn before it is refused. */
const WAIT_MS = 10_000;

export async function beginAttempt(engine: Engine, keys: AttemptKeys, windowMs: number): Promise<Attempt> {
  const deadline = Date.now() + WAIT_MS;
  const account = keys.account?.value ?? keys.label ?? '';
  for (;;) {
    const now = Date.now();
    const mine = await engine.db
      .insertInto('login_failures')
      .values({ account, address: keys.address.value, at: now, pending: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(mine.id);
    const counted = [keys.address, ...(keys.account ? [keys.account] : [])];
    let wait = false;
    for (const key of counted) {
      const column = key === keys.address ? 'address' : 'account';
      const others = await engine.db
        .selectFrom('login_failures')
        .select(['at', 'pending'])
        .where(column, '=', key.value)
        .where('at', '>', now - windowMs)
        .where('id', '!=', id)
        .orderBy('at', 'desc')
        .execute();
      const failures = others.filter((r) => Number(r.pending) === 0);
      if (failures.length >= key.limit) {
        await settleAttempt(engine, id, false);
        const oldest = Number(failures[key.limit - 1].at);
        return { throttled: true, retryAfterS: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
      }
      const checking = others.filter((r) => Number(r.pending) === 1 && Number(r.at) > now - PENDING_MS);
      if (failures.length + checking.length >= key.limit) wait = true;
    }
    if (!wait) return { id };
    await settleAttempt(engine, id, false);
    if (Date.now() > deadline) return { throttled: true, retryAfterS: 1 };
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 100));
  }
}

/** The attempt was checked: kept as a failure, or forgotten. */
export async function settleAttempt(engine: Engine, id: number, failed: boolean): Promise<void> {
  if (failed)
    await engine.db.updateTable('login_failures').set({ pending: 0 }).where('id', '=', id).execute();
  else await engine.db.deleteFrom('login_failures').where('id', '=', id).execute();
}
