// Child process for the export crash test: runs a delta export of passports and kills itself with
// SIGKILL (no clean-up at all) right after the given number of chunks has been written.
import { exportFile } from '../src/export/index.js';
import { openStore } from '../src/store/index.js';

const [dataDir, dbUrl, outDir, killAfter, chunkSize] = process.argv.slice(2);
const engine = await openStore({ dataDir, dbUrl: dbUrl || undefined });
let chunks = 0;
await exportFile(engine, {
  firmId: 'acme',
  template: 'fn_passport_details_export',
  outDir,
  scope: { kind: 'delta' },
  chunkSize: Number(chunkSize),
  afterChunk() {
    if (++chunks === Number(killAfter)) process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write('finished without being killed\n');
