// Leases: the right to run one thing (the imports of one firm) for a while, held in the store so that
// every process sharing it agrees. A holder renews its lease by heartbeat; a holder that dies stops
// renewing and its lease expires, by the database's clock, so another process can take over and
// resume its work. Each batch an import commits renews the lease inside its own transaction: a
// process that stalled past its lease cannot commit after another one has taken over.
//
// Two refinements, both found by running processes against each other:
// - An expired lease is first marked suspect, and taken over only if it is still not renewed a grace
//   period later. On SQLite every writer, the holder's heartbeat included, waits for one write lock: a
//   long transaction of anyone (another firm's dry run) can keep a live holder from renewing, and the
//   first process to get the lock afterwards must not be a waiter that takes the lease at once.
// - Waiters queue (lease_waiters) and are served in the order their processes started.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely, Transaction } from 'kysely';
import { CaseportError } from '../errors.js';
import type { Engine } from '../store/engine.js';
import type { Database } from '../store/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface LeaseOptions {
  /** How long the lease lasts without a renewal (CASEPORT_LEASE_TTL_MS, default 20 s). */
  ttlMs?: number;
  /** What holds it, for the message another process shows while it waits. */
  holder?: string;
  /** When the asking process started (ms since 1970): waiters are served in this order. */
  arrivedAt?: number;
  /** Called once when the lease is held by another process and this one starts waiting. */
  onWait?(holder: string | null, expiresInMs: number): void;
  signal?: AbortSignal;
}

export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** True once this process knows another has taken the lease over. */
  readonly lost: boolean;
  /** Renews the lease inside `trx` (a batch's transaction); throws LEASE_LOST if it is no longer ours. */
  confirm(trx: Db): Promise<void>;
  release(): Promise<void>;
}

export function leaseTtlMs(): number {
  const v = Number(process.env.CASEPORT_LEASE_TTL_MS);
  return Number.isFinite(v) && v >= 100 ? v : 20_000;
}

/**
 * Waits `ms`, less if `signal` aborts; `wake` receives a function that ends the wait early (a worker woken
 * by a file just received).
 */
export function sleep(ms: number, signal?: AbortSignal, wake?: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    wake?.(done);
  });
}

export const leaseLost = (name: string) =>
  new CaseportError(
    'LEASE_LOST',
    `this process lost its lease on ${name} (it stalled longer than the lease lasts) and another process ` +
      'has taken over; nothing more was committed here',
  );

/**
 * Takes the lease if it is free, already ours, or expired and suspect for a grace period; marks an
 * expired lease suspect otherwise. True when it is ours.
 */
async function tryTake(engine: Engine, name: string, owner: string, ttlMs: number, holder: string) {
  const now = engine.clockMs();
  const grace = Math.max(50, Math.floor(ttlMs / 2));
  const got = await engine.db
    .insertInto('leases')
    .values((eb) => ({
      name,
      owner,
      expires_at: eb.parens(now, '+', ttlMs) as never,
      acquired_at: new Date().toISOString(),
      holder,
      suspect_at: null,
    }))
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet((eb) => ({
          owner: eb.ref('excluded.owner'),
          expires_at: eb.ref('excluded.expires_at'),
          acquired_at: eb.ref('excluded.acquired_at'),
          holder: eb.ref('excluded.holder'),
          suspect_at: null,
        }))
        .where((eb) =>
          eb.or([
            eb('leases.owner', '=', owner),
            eb.and([
              eb('leases.expires_at', '<', now as never),
              eb('leases.suspect_at', 'is not', null),
              eb('leases.suspect_at', '<', eb.parens(now, '-', grace) as never),
            ]),
          ]),
        ),
    )
    .returning('owner')
    .executeTakeFirst();
  if (got) return true;
  await engine.db
    .updateTable('leases')
    .set({ suspect_at: now as never })
    .where('name', '=', name)
    .where('expires_at', '<', now as never)
    .where('suspect_at', 'is', null)
    .execute();
  return false;
}

/** Takes (or takes back, after it expired while this process was stalled) a place in the queue. */
async function placeInQueue(
  engine: Engine,
  w: { id?: number; name: string; owner: string; arrivedAt: number },
  ttlMs: number,
) {
  const now = engine.clockMs();
  if (w.id !== undefined) {
    const r = await engine.db
      .updateTable('lease_waiters')
      .set((eb) => ({ expires_at: eb.parens(now, '+', ttlMs) as never }))
      .where('id', '=', w.id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return w.id;
  }
  const row = await engine.db
    .insertInto('lease_waiters')
    .values((eb) => ({
      ...(w.id !== undefined ? { id: w.id } : {}),
      name: w.name,
      owner: w.owner,
      arrived_at: w.arrivedAt,
      expires_at: eb.parens(now, '+', ttlMs) as never,
    }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Drops waiters that stopped renewing their place; true when `id` is the first of the rest. */
async function firstInQueue(engine: Engine, name: string, id: number): Promise<boolean> {
  await engine.db
    .deleteFrom('lease_waiters')
    .where('name', '=', name)
    .where('expires_at', '<', engine.clockMs() as never)
    .where('id', '<>', id)
    .execute();
  const first = await engine.db
    .selectFrom('lease_waiters')
    .select('id')
    .where('name', '=', name)
    .orderBy('arrived_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return Number(first?.id) === id;
}

/** The lease's holder and how long it has left, for the message a waiter shows. */
function holderOf(engine: Engine, name: string) {
  return engine.db
    .selectFrom('leases')
    .select(['holder'])
    .select((eb) => eb.parens('expires_at', '-', engine.clockMs() as never).as('left'))
    .where('name', '=', name)
    .executeTakeFirst();
}

/**
 * Waits until the lease `name` is ours, then keeps it renewed until released. Waiters are served in the
 * order their processes started, each polling its place in the queue.
 */
export async function acquireLease(engine: Engine, name: string, o: LeaseOptions = {}): Promise<Lease> {
  const ttlMs = o.ttlMs ?? leaseTtlMs();
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const holder = o.holder ?? name;
  const waiter = { id: undefined as number | undefined, name, owner, arrivedAt: o.arrivedAt ?? Date.now() };
  try {
    let told = false;
    let pause = 25;
    for (;;) {
      waiter.id = await placeInQueue(engine, waiter, ttlMs);
      if (
        (await firstInQueue(engine, name, waiter.id)) &&
        (await tryTake(engine, name, owner, ttlMs, holder))
      ) {
        break;
      }
      if (o.signal?.aborted) throw new CaseportError('STOPPED', `stopped waiting for ${name}`);
      if (!told) {
        const busy = await holderOf(engine, name);
        if (busy) {
          told = true;
          o.onWait?.(busy.holder, Math.max(0, Number(busy.left)));
        }
      }
      await sleep(pause + Math.random() * pause, o.signal);
      pause = Math.min(pause * 2, Math.min(500, ttlMs / 4));
    }
  } finally {
    if (waiter.id !== undefined) {
      await engine.db.deleteFrom('lease_waiters').where('id', '=', waiter.id).execute();
    }
  }

  return holdLease(engine, name, owner, ttlMs);
}

/**
 * Takes the lease `name` only if it is free now and nobody is queued for it (a worker looking for work
 * never jumps the queue of a waiting command); undefined otherwise.
 */
export async function tryLease(
  engine: Engine,
  name: string,
  o: LeaseOptions = {},
): Promise<Lease | undefined> {
  const ttlMs = o.ttlMs ?? leaseTtlMs();
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const waiting = await engine.db
    .selectFrom('lease_waiters')
    .select('id')
    .where('name', '=', name)
    .where('expires_at', '>=', engine.clockMs() as never)
    .limit(1)
    .executeTakeFirst();
  if (waiting) return undefined;
  if (!(await tryTake(engine, name, owner, ttlMs, o.holder ?? name))) return undefined;
  return holdLease(engine, name, owner, ttlMs);
}

/** A lease this process holds: renewed by heartbeat until released. */
function holdLease(engine: Engine, name: string, owner: string, ttlMs: number): Lease {
  let lost = false;
  const renew = async (db: Db) => {
    const r = await db
      .updateTable('leases')
      .set((eb) => ({ expires_at: eb.parens(engine.clockMs(), '+', ttlMs) as never, suspect_at: null }))
      .where('name', '=', name)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  };
  const heartbeat = setInterval(
    () => {
      renew(engine.db).then(
        (ok) => {
          if (!ok) lost = true;
        },
        () => {}, // a failed heartbeat is retried at the next beat; the batch's own renewal decides
      );
    },
    Math.max(50, Math.floor(ttlMs / 4)),
  );
  heartbeat.unref();
  return {
    name,
    owner,
    get lost() {
      return lost;
    },
    async confirm(trx) {
      if (lost || !(await renew(trx))) {
        lost = true;
        throw leaseLost(name);
      }
    },
    async release() {
      clearInterval(heartbeat);
      await engine.db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}

/** The lease every import of a firm runs under: one firm's files are applied one at a time. */
export const importLeaseName = (firmId: string) => `import:${firmId}`;

/**
 * The lease every export of a firm's task runs under (the command line's task is the template's name,
 * a server task's is `task:<id>`): one task's exports never overlap, and a run is alive while it is held.
 */
export const exportLeaseName = (firmId: string, task: string) => `export:${firmId}:${task}`;

/** The task name a server export task uses for its lease and its delta mark. */
export const serverTaskName = (taskId: number) => `task:${taskId}`;
