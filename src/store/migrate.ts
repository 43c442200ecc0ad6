// Runs the numbered migrations with Kysely's Migrator, which records what ran; a second run is a no-op.
import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import { CaseportError } from '../errors.js';
import type { Engine } from './engine.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-leases-and-limits.js';

const migrations = { '0001-initial': m0001, '0002-leases-and-limits': m0002 };

export async function migrate(engine: Engine): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(migrations)) out[name] = { up: (db) => m.up(db, engine) };
      return out;
    },
  };
  const migrator = new Migrator({ db: engine.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const why = error instanceof Error ? error.message : String(error);
    throw new CaseportError('DATABASE', `migration ${failed} failed on ${engine.location}: ${why}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
