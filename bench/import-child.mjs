// One import in its own process, on the compiled build (dist/, as `caseport` runs), so its time and
// peak memory are its own: prints one JSON line.
import { importFile } from '../dist/ingest/index.js';
import { openStore } from '../dist/store/index.js';

const [dataDir, dbUrl, file] = process.argv.slice(2);
const engine = await openStore({ dataDir, dbUrl: dbUrl || undefined });
const t0 = performance.now();
const r = await importFile(engine, { firmId: 'bench', file, resultDir: dataDir });
const seconds = (performance.now() - t0) / 1000;
await engine.close();
process.stdout.write(
  `${JSON.stringify({ seconds, status: r.status, rows: r.rows, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
