// Child process for the crash test: imports a file and kills itself with SIGKILL (no clean-up at all)
// right after the given number of batches has been committed.
import { importFile } from '../src/ingest/index.js';
import { openStore } from '../src/store/index.js';

const [dataDir, dbUrl, file, killAfter] = process.argv.slice(2);
const engine = await openStore({ dataDir, dbUrl: dbUrl || undefined });
let batches = 0;
await importFile(engine, {
  firmId: 'acme',
  file,
  resultDir: dataDir,
  batchSize: 25,
  afterBatch() {
    if (++batches === Number(killAfter)) process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write('finished without being killed\n');
