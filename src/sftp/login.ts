// Whether an SSH login attempt is a firm's: the user name is the firm id; a password is checked by the
// backend, a public key against the firm's authorised keys (and its signature verified). An unknown
// firm and a wrong password are the same answer. Attempts are checked within the address's throttle,
// this node's and, through the backend, every node's.
import type { AuthContext } from 'ssh2';
import ssh2 from 'ssh2';
import type { LoginThrottle } from './login-throttle.js';
import type { SiteBackend } from './site.js';

export type LoginDecision =
  /** The firm is logged in. */
  | { kind: 'accept' }
  /** A public key the firm has authorised, offered without a signature yet: the client may go on. */
  | { kind: 'key_acceptable' }
  /** A wrong password or a bad signature: counts against the address. */
  | { kind: 'failed'; why: string }
  /** A method we do not offer, or a key not authorised (clients offer each of theirs in turn). */
  | { kind: 'not_accepted' }
  /** The address has failed too often: refused unchecked (the connection is dropped). */
  | { kind: 'throttled' };

/** A user name that could be a firm id at all; others are refused before the backend is asked. */
export function couldBeFirmId(user: string): boolean {
  return user.length > 0 && user.length <= 128 && !/[\u0000-\u001f\u007f-\u009f\ufffd/\\]/.test(user);
}

/**
 * decideLogin() within the address's throttle: a password or a key is checked only with a place
 * reserved (throttle.begin), so that attempts sent at once cannot all be checked before they fail.
 */
export async function decideThrottledLogin(
  backend: SiteBackend,
  ctx: AuthContext,
  throttle: LoginThrottle,
  address: string,
): Promise<LoginDecision> {
  if (throttle.isBlocked(address)) return { kind: 'throttled' };
  if (ctx.method !== 'password' && ctx.method !== 'publickey') return { kind: 'not_accepted' };
  if (!(await throttle.begin(address))) return { kind: 'throttled' };
  let failed = false;
  let shared: { id: number } | undefined;
  try {
    // Every node's failures count (a store that cannot be reached leaves this node's own count).
    const everyNode = backend.loginAttempts;
    if (everyNode) {
      const r = await everyNode.attempt(address, throttle.maxFailed, throttle.windowMs).catch(() => null);
      if (r === undefined) return { kind: 'throttled' };
      shared = r ?? undefined;
    }
    const decision = await decideLogin(backend, ctx);
    failed = decision.kind === 'failed';
    return decision;
  } finally {
    throttle.end(address, failed);
    if (shared)
      await backend.loginAttempts?.settle(shared.id, failed, throttle.windowMs).catch(() => undefined);
  }
}

export async function decideLogin(backend: SiteBackend, ctx: AuthContext): Promise<LoginDecision> {
  const firmId = ctx.username;
  if (ctx.method === 'password') {
    const good = couldBeFirmId(firmId) && (await backend.checkPassword(firmId, ctx.password));
    return good ? { kind: 'accept' } : { kind: 'failed', why: 'wrong password or unknown firm' };
  }
  if (ctx.method === 'publickey') {
    if (!couldBeFirmId(firmId)) return { kind: 'not_accepted' };
    const key = authorisedKey(await backend.publicKeys(firmId), ctx.key.data);
    if (!key) return { kind: 'not_accepted' };
    if (!ctx.signature || !ctx.blob) return { kind: 'key_acceptable' };
    return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true
      ? { kind: 'accept' }
      : { kind: 'failed', why: 'bad public key signature' };
  }
  return { kind: 'not_accepted' };
}

/** The authorised key (OpenSSH one-line format) whose public blob is `offered`, if any. */
function authorisedKey(lines: readonly string[], offered: Buffer): ssh2.ParsedKey | undefined {
  for (const line of lines) {
    const parsed = ssh2.utils.parseKey(line) as ssh2.ParsedKey | ssh2.ParsedKey[] | Error;
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key && !(key instanceof Error) && key.getPublicSSH().equals(offered)) return key;
  }
  return undefined;
}
