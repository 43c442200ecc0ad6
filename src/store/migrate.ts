// Runs the numbered migrations with Kysely's Migrator, which records what ran; a second run is a no-op.
import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import { CaseportError } from '../errors.js';
import type { Engine } from './engine.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-leases-and-limits.js';
import * as m0003 from './migrations/0003-server.js';
import * as m0004 from './migrations/0004-no-change-index.js';
import * as m0005 from './migrations/0005-hot-updates.js';
import * as m0006 from './migrations/0006-accounts.js';
import * as m0007 from './migrations/0007-notifications.js';
import * as m0008 from './migrations/0008-login-attempts.js';

const migrations = {
  '0001-initial': m0001,
  '0002-leases-and-limits': m0002,
  '0003-server': m0003,
  '0004-no-change-index': m0004,
  '0005-hot-updates': m0005,
  '0006-accounts': m0006,
  '0007-notifications': m0007,
  '0008-login-attempts': m0008,
};

export async function migrate(engine: Engine): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(migrations)) out[name] = { up: (db) => m.up(db, engine) };
      return out;
    },
  };
  // Up to date already (every start but the first): only read. On SQLite the migrator takes the write
  // lock even when there is nothing to do, and a start would wait behind another process's long work.
  const done = await engine.db
    .selectFrom('kysely_migration' as never)
    .select('name' as never)
    .execute()
    .then((rows) => new Set(rows.map((r) => (r as { name: string }).name)))
    .catch(() => new Set<string>());
  if (Object.keys(migrations).every((m) => done.has(m))) return [];
  const migrator = new Migrator({ db: engine.db, provider });
  let { error, results } = await migrator.migrateToLatest();
  if (error) {
    // Processes starting together on a new store: one may fail creating Kysely's own tables while the
    // other does; the second attempt sees what the first did.
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const why = error instanceof Error ? error.message : String(error);
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    if (!failed) throw new CaseportError('DATABASE', `cannot use the database at ${engine.location}: ${why}`);
    throw new CaseportError('DATABASE', `migration ${failed} failed on ${engine.location}: ${why}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
