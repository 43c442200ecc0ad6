// Runs one import in its own process (bench/import-child.mjs, on the compiled build, as `caseport`
// runs), so its time and peak memory are its own.
import { spawnSync } from 'node:child_process';

export interface ChildImport {
  seconds: number;
  maxRssMb: number;
  status: string;
  rows: { total: number; rejected: number };
}

export function importChild(dataDir: string, dbUrl: string, file: string): ChildImport {
  const r = spawnSync(process.execPath, ['bench/import-child.mjs', dataDir, dbUrl, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildImport;
}
