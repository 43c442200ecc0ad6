// Where things live under the data folder: the SQLite file and each firm's folders.
import path from 'node:path';
import { makeFolder } from './folders.js';

export interface FirmFolders {
  import: string;
  export: string;
  results: string;
  archive: string;
}

export function firmFolders(dataDir: string, firmId: string): FirmFolders {
  const base = path.resolve(dataDir, 'firms', firmId);
  return {
    import: path.join(base, 'Import'),
    export: path.join(base, 'Export'),
    results: path.join(base, 'Results'),
    archive: path.join(base, 'Archive'),
  };
}

export async function makeFirmFolders(dataDir: string, firmId: string): Promise<FirmFolders> {
  const f = firmFolders(dataDir, firmId);
  for (const dir of Object.values(f)) await makeFolder(dir);
  return f;
}

/** Where private copies of files being imported are kept (see ingest/snapshot.ts). */
export function spoolFolder(dataDir: string): string {
  return path.resolve(dataDir, 'spool');
}
