// Upload → Completed: a 1,000-row file sent over SFTP to a firm with an on-arrival import task, timed
// from the start of the upload to its Completed status in the ledger (goal: under 2 s), against the
// same file imported by `caseport import` (a fresh process: start, import, exit) and against the upload
// alone. `caseport serve` runs as its own process, as in production.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { addTask } from '../src/schedule/tasks.js';
import { addFirm, openStore } from '../src/store/index.js';

const BIN = path.resolve('bin/caseport.js');
const ROWS = 1000;
const RUNS = 7;

const header =
  'EmployerID,EmployerName,DBAName,FEIN,BusinessType,YearEstablished,NumberOfEmployees,GrossAnnualIncome,NetAnnualIncome,NAICSCode,AddressLine1,AddressLine2,City,State,PostalCode,Country,Phone,Email,Website,Status';
const line = (i: number, run: number) =>
  `E${i},Employer ${i} ${run},,12-3456789,Corporation,1990,${1000 + run},1000000,50000,541511,1 Main St,,Austin,TX,78701,United States,+1 512 555 0100,hr@e${i}.example,,Active`;

function serveProcess(g: string[]): Promise<{ port: number; stop(): void }> {
  const child = spawn(
    process.execPath,
    [BIN, ...g, 'serve', '--sftp-port', '0', '--http-port', '0', '--host', '127.0.0.1'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CASEPORT_LOG_LEVEL: 'info' },
    },
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"sftpPort":(\d+)[^\n]*"msg":"serve: ready"/.exec(buf);
      if (m) resolve({ port: Number(m[1]), stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
}

function login(port: number): Promise<{ sftp: SFTPWrapper; end(): void }> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => c.sftp((e, sftp) => (e ? reject(e) : resolve({ sftp, end: () => c.end() }))));
    c.on('error', reject);
    c.connect({ host: '127.0.0.1', port, username: 'bench', password: 'bench-pw' });
  });
}

const put = (sftp: SFTPWrapper, local: string, remote: string) =>
  new Promise<void>((resolve, reject) => sftp.fastPut(local, remote, (e) => (e ? reject(e) : resolve())));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the arrival benchmark on one engine; returns markdown table rows. */
export async function runArrival(
  kind: 'sqlite' | 'postgres',
  dir: string,
  dbUrl?: string,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const g = ['--data', path.join(dir, 'data'), ...(dbUrl ? ['--db', dbUrl] : [])];
  const engine = await openStore({ dataDir: path.join(dir, 'data'), dbUrl });
  await addFirm(engine, { id: 'bench', name: 'Bench', sftpPassword: 'bench-pw' });
  await addFirm(engine, { id: 'cli', name: 'CLI' });
  await addTask(engine, 'bench', { kind: 'import', onArrival: true });
  const server = await serveProcess(g);
  const site = await login(server.port);
  const arrival: number[] = [];
  const uploadOnly: number[] = [];
  const cli: number[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const name = `company_Details_import_202611${String(run).padStart(2, '0')}.csv`;
      const local = path.join(dir, name);
      writeFileSync(local, `${header}\n${Array.from({ length: ROWS }, (_, i) => line(i, run)).join('\n')}\n`);
      const t0 = performance.now();
      await put(site.sftp, local, `/Import/${name}`);
      const t1 = performance.now();
      for (;;) {
        const f = await engine.db
          .selectFrom('files')
          .select('status')
          .where('firm_id', '=', 'bench')
          .where('name', '=', name)
          .where('status', 'in', ['completed', 'incomplete', 'interrupted'])
          .executeTakeFirst();
        if (f) {
          if (f.status !== 'completed') throw new Error(`${name}: ${f.status}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      arrival.push(performance.now() - t0);
      uploadOnly.push(t1 - t0);
      const c0 = performance.now();
      const r = spawnSync(process.execPath, [BIN, ...g, 'import', local, '--firm', 'cli'], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(r.stderr);
      cli.push(performance.now() - c0);
    }
  } finally {
    site.end();
    server.stop();
    await engine.close();
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return [
    `| ${kind} | upload → Completed, 1,000 rows, on arrival (median of ${RUNS}; worst) | ${s(median(arrival))}; ${s(Math.max(...arrival))} | \`caseport import\` of the same file, a fresh process: ${s(median(cli))} | upload alone: ${s(median(uploadOnly))} |`,
  ];
}
