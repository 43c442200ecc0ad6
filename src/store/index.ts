// The system of record: open an engine (SQLite file or PostgreSQL) with its migrations applied.
import { type Engine, openEngine } from './engine.js';
import { migrate } from './migrate.js';

export type { Engine, EngineKind } from './engine.js';
export * from './firms.js';
export { migrate } from './migrate.js';
export type { Database, RecordTableName } from './schema.js';

export async function openStore(opts: { dataDir: string; dbUrl?: string }): Promise<Engine> {
  const engine = openEngine(opts);
  try {
    await migrate(engine);
  } catch (e) {
    await engine.close();
    throw e;
  }
  return engine;
}
