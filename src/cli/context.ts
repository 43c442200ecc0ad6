// What every command needs: the data folder and the opened store, closed when the command ends.
import path from 'node:path';
import { CaseportError, configError } from '../errors.js';
import { fsReason, makeFolder } from '../folders.js';
import { type Engine, openStore } from '../store/index.js';

export interface GlobalOptions {
  data?: string;
  db?: string;
}

export function dataDirOf(g: GlobalOptions): string {
  return path.resolve(g.data ?? process.env.CASEPORT_DATA ?? './data');
}

export async function withStore<T>(
  g: GlobalOptions,
  fn: (engine: Engine, dataDir: string) => Promise<T>,
): Promise<T> {
  const dataDir = dataDirOf(g);
  await makeFolder(dataDir).catch((e) => {
    throw configError(`--data "${dataDir}": the data folder cannot be created: ${fsReason(e)}`);
  });
  let engine: Engine;
  try {
    engine = await openStore({ dataDir, dbUrl: g.db ?? process.env.DATABASE_URL });
  } catch (e) {
    if (e instanceof CaseportError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new CaseportError('DATABASE', `cannot open the database: ${why}`);
  }
  try {
    return await fn(engine, dataDir);
  } finally {
    await engine.close();
  }
}
