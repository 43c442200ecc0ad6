// One import in its own process, on the compiled build (dist/, as `caseport` runs), so its time and
// peak memory are its own: prints one JSON line.
import { readFileSync } from 'node:fs';
import { importFile } from '../dist/ingest/index.js';
import { openStore } from '../dist/store/index.js';

const [dataDir, dbUrl, file] = process.argv.slice(2);
const engine = await openStore({ dataDir, dbUrl: dbUrl || undefined });
const t0 = performance.now();
const r = await importFile(engine, { firmId: 'bench', file, resultDir: dataDir });
const seconds = (performance.now() - t0) / 1000;
await engine.close();
// Peak RSS of this process: VmHWM, which starts afresh at exec. (getrusage's maxrss can carry the
// parent's size over from the fork on Linux: a benchmark parent holding 300 MB made every child "300 MB".)
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
const maxRssMb = hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ seconds, status: r.status, rows: r.rows, maxRssMb })}\n`);
