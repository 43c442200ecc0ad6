// Accounts of the reports web app and API: firm users (their own firm only) and operators (any firm).
// Passwords are scrypt hashes (as the SFTP site's); sessions and API tokens are random secrets of which
// only a SHA-256 is stored, so a copy of the database logs no one in. Failed logins are kept in the store
// so that every node throttles the same account and address.
import { createHash, randomBytes } from 'node:crypto';
import { usageError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import { hashPassword, verifyPassword } from '../store/firms.js';
import { beginAttempt, SFTP_ACCOUNT, settleAttempt } from '../store/login-attempts.js';

export type Role = 'firm' | 'operator';

export interface User {
  id: number;
  email: string;
  role: Role;
  /** The firm a firm user sees; null for an operator. */
  firmId: string | null;
}

/** How long a session lasts without use. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** Failed logins allowed per account, and per address, in THROTTLE_WINDOW_MS. */
export const THROTTLE = { account: 5, address: 20 };
export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const secret = (prefix: string) => `${prefix}${randomBytes(24).toString('base64url')}`;

function userOf(r: { id: number; email: string; role: string; firm_id: string | null }): User {
  return { id: Number(r.id), email: r.email, role: r.role as Role, firmId: r.firm_id };
}

/**
 * Adds an account. A firm user belongs to an existing firm; an operator to none. Without a password one
 * is generated: the caller shows it once (only its hash is kept).
 */
export async function addUser(
  engine: Engine,
  o: { email: string; firmId?: string; operator?: boolean; password?: string },
): Promise<{ user: User; password: string }> {
  const email = o.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw usageError(`user: "${o.email}" is not an e-mail address`);
  if (!!o.firmId === !!o.operator) throw usageError('user: give either --firm F or --operator');
  if (o.firmId) {
    const firm = await engine.db
      .selectFrom('firms')
      .select('id')
      .where('id', '=', o.firmId)
      .executeTakeFirst();
    if (!firm) throw usageError(`user: no firm "${o.firmId}" (caseport firm add ${o.firmId} ...)`);
  }
  if (o.password !== undefined && o.password.length < 10) {
    throw usageError('user: a password has at least 10 characters');
  }
  const exists = await engine.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', email)
    .executeTakeFirst();
  if (exists) throw usageError(`user: ${email} already exists`);
  const password = o.password ?? randomBytes(12).toString('base64url');
  const row = await engine.db
    .insertInto('users')
    .values({
      email,
      firm_id: o.firmId ?? null,
      role: o.operator ? 'operator' : 'firm',
      password_hash: hashPassword(password),
      created_at: new Date().toISOString(),
    })
    .returning(['id', 'email', 'role', 'firm_id'])
    .executeTakeFirstOrThrow();
  return { user: userOf(row), password };
}

export async function findUserByEmail(engine: Engine, email: string): Promise<User | undefined> {
  const r = await engine.db
    .selectFrom('users')
    .select(['id', 'email', 'role', 'firm_id'])
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
  return r && userOf(r);
}

export type LoginResult =
  | { ok: true; user: User; session: string }
  | { ok: false; reason: 'invalid' | 'throttled'; retryAfterS?: number };

/**
 * Checks an e-mail and password from an address. After THROTTLE.account failures for the account, or
 * THROTTLE.address from the address, within the window, every attempt is refused (even a right
 * password) until the oldest failure leaves the window. A success clears the account's failures.
 */
export async function login(
  engine: Engine,
  emailIn: string,
  password: string,
  address: string,
): Promise<LoginResult> {
  const email = emailIn.trim().toLowerCase().slice(0, 320);
  const now = Date.now();
  const since = now - THROTTLE_WINDOW_MS;
  // Counted in the store before the password is checked (store/login-attempts.ts): every node counts
  // together, and attempts sent at once cannot all be checked.
  const attempt = await beginAttempt(
    engine,
    {
      account: { value: email, limit: THROTTLE.account },
      address: { value: address, limit: THROTTLE.address },
    },
    THROTTLE_WINDOW_MS,
  );
  if ('throttled' in attempt) return { ok: false, reason: 'throttled', retryAfterS: attempt.retryAfterS };
  const row = await engine.db
    .selectFrom('users')
    .select(['id', 'email', 'role', 'firm_id', 'password_hash', 'disabled'])
    .where('email', '=', email)
    .executeTakeFirst();
  // An unknown account costs as much as a known one: no timing tells which e-mails exist.
  const good = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || !good || row.disabled) {
    await settleAttempt(engine, attempt.id, true);
    // Old failures go as new ones come: the table stays small.
    await engine.db
      .deleteFrom('login_failures')
      .where('at', '<', since)
      .where('account', '!=', SFTP_ACCOUNT) // SFTP's are kept for its own window
      .execute();
    return { ok: false, reason: 'invalid' };
  }
  await settleAttempt(engine, attempt.id, false);
  await engine.db
    .deleteFrom('login_failures')
    .where('account', '=', email)
    .where('pending', '=', 0)
    .execute();
  const session = secret('s_');
  await engine.db
    .insertInto('sessions')
    .values({
      token_hash: sha256(session),
      user_id: row.id,
      created_at: new Date(now).toISOString(),
      expires_at: now + SESSION_IDLE_MS,
    })
    .execute();
  return { ok: true, user: userOf(row), session };
}
const DUMMY_HASH = hashPassword(randomBytes(12).toString('hex'));

/** The user of a session that has not expired (and its expiry pushed on), or undefined. */
export async function sessionUser(engine: Engine, session: string | undefined): Promise<User | undefined> {
  if (!session || session.length > 100) return undefined;
  const now = Date.now();
  const hash = sha256(session);
  const r = await engine.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'users.id',
      'users.email',
      'users.role',
      'users.firm_id',
      'users.disabled',
      'sessions.expires_at',
    ])
    .where('sessions.token_hash', '=', hash)
    .executeTakeFirst();
  if (!r || r.disabled || Number(r.expires_at) <= now) return undefined;
  // Pushed on at most once a minute: a page's requests do not each write.
  if (Number(r.expires_at) - (now + SESSION_IDLE_MS) < -60_000) {
    await engine.db
      .updateTable('sessions')
      .set({ expires_at: now + SESSION_IDLE_MS })
      .where('token_hash', '=', hash)
      .execute();
  }
  return userOf(r);
}

export async function logout(engine: Engine, session: string | undefined): Promise<void> {
  if (!session) return;
  await engine.db.deleteFrom('sessions').where('token_hash', '=', sha256(session)).execute();
  await engine.db.deleteFrom('sessions').where('expires_at', '<', Date.now()).execute();
}

/** A new API token of a user: the secret is returned once, and only its hash kept. */
export async function createApiToken(
  engine: Engine,
  user: User,
  name: string,
): Promise<{ id: number; name: string; token: string }> {
  const label = name.trim().slice(0, 100) || 'token';
  const token = secret('cpt_');
  const r = await engine.db
    .insertInto('api_tokens')
    .values({
      user_id: user.id,
      name: label,
      token_hash: sha256(token),
      created_at: new Date().toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(r.id), name: label, token };
}

export async function listApiTokens(engine: Engine, user: User) {
  const rows = await engine.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'created_at', 'last_used_at'])
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  }));
}

/** Revokes one of the user's own tokens: false if the user has no such token. */
export async function revokeApiToken(engine: Engine, user: User, id: number): Promise<boolean> {
  const r = await engine.db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date().toISOString() })
    .where('id', '=', id)
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The user of an API token that is not revoked, or undefined. */
export async function tokenUser(engine: Engine, token: string | undefined): Promise<User | undefined> {
  if (!token || token.length > 100) return undefined;
  const hash = sha256(token);
  const r = await engine.db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'users.id',
      'users.email',
      'users.role',
      'users.firm_id',
      'users.disabled',
      'api_tokens.last_used_at',
    ])
    .where('api_tokens.token_hash', '=', hash)
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!r || r.disabled) return undefined;
  const now = new Date();
  if (!r.last_used_at || now.getTime() - Date.parse(r.last_used_at) > 60_000) {
    await engine.db
      .updateTable('api_tokens')
      .set({ last_used_at: now.toISOString() })
      .where('token_hash', '=', hash)
      .execute();
  }
  return userOf(r);
}
