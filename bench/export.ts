// Export benchmark: fn_passport_details_export of N passports (~1000 clients) written by caseport, side by
// side with the database's own CSV dump of the same columns joined the same way: `sqlite3 -csv` on
// SQLite, and `psql \copy (select ...) to file csv header` on PostgreSQL (with --pg or DATABASE_URL).
// The caseport export runs in a child process, which reports its own peak RSS. With --repeat the two
// tools take turns and each one's fastest run is kept (the machine may be shared); all times are noted.
//
//   node --import tsx bench/export.ts [--rows N] [--repeat R] [--pg] [--keep]
//
// --rows N   passports to export (default 1,000,000)
// --repeat R runs of each tool, taking turns (default 1)
// --pg       also run on PostgreSQL: DATABASE_URL, or postgres://postgres@127.0.0.1:5432/postgres
// --keep     keep the work folder (the SQLite file and the exported files) and the PostgreSQL database
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { exportFile } from '../src/export/index.js';
import { addFirm, openStore } from '../src/store/index.js';

const SELF = fileURLToPath(import.meta.url);
const FIRM = 'bench';
const TEMPLATE = 'fn_passport_details_export';
const CLIENTS = 1000;
const COUNTRIES = ['India', 'China', 'Mexico', 'Philippines', 'South Korea', 'Brazil', 'France', 'Nigeria'];
const PLACES = [
  'Mumbai',
  'Beijing',
  'Ciudad de México',
  'Manila',
  'Seoul',
  'São Paulo',
  'Paris',
  'Washington, DC',
];
const SQL =
  `select p.client_id, e.employer_code, c.employee_id, p.passport_number, p.issuing_country, p.issue_date,
  p.expiration_date, p.place_of_issue, p.is_primary, p.updated_at
  from passports p join clients c on c.id = p.client_id join employers e on e.id = c.employer_id
  where p.firm_id = '${FIRM}' order by p.client_id, p.passport_number, p.issuing_country`.replace(
    /\s+/g,
    ' ',
  );

interface Measure {
  engine: string;
  tool: string;
  rows: number;
  seconds: number;
  peakRssMb: number | null;
  fileMb: number;
  note?: string;
}

interface ChildJob {
  dataDir: string;
  dbUrl?: string;
  outDir: string;
  chunkSize?: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const day = (n: number) => new Date(Date.UTC(2010, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * The i-th of n passports (0-based), the same on both engines. Each client's passports are contiguous,
 * as a bulk load of an HR file sorted by employee lands them.
 */
function passport(i: number, n: number, now: string) {
  const issued = i % 4000;
  const client = Math.floor((i * CLIENTS) / n) + 1;
  return {
    client,
    number: `P${i.toString(36).toUpperCase().padStart(8, '0')}`,
    country: COUNTRIES[i % COUNTRIES.length],
    issue: day(issued),
    expiry: day(issued + 3652),
    place: PLACES[(i >> 3) % PLACES.length],
    primary: Math.floor(((i - 1) * CLIENTS) / n) + 1 !== client ? 1 : 0,
    now,
  };
}

// ---- the child: one export, timed, with its own peak RSS -------------------------------------------
async function child(job: ChildJob): Promise<void> {
  const engine = await openStore({ dataDir: job.dataDir, dbUrl: job.dbUrl });
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = await exportFile(engine, {
    firmId: FIRM,
    template: TEMPLATE,
    outDir: job.outDir,
    chunkSize: job.chunkSize,
  });
  const ms = performance.now() - t0;
  await engine.close();
  const out = { ms, rows: r.rows, file: r.file, status: r.status, rssBeforeKb: Math.round(rssBefore / 1024) };
  process.stdout.write(`${JSON.stringify({ ...out, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

function runChild(job: ChildJob): {
  ms: number;
  rows: number;
  file: string;
  maxRssKb: number;
  rssBeforeKb: number;
} {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', JSON.stringify(job)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`export child failed: ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  if (res.status !== 'completed') throw new Error(`export ${res.status}`);
  return res;
}

/** Runs a command with stdout to a file (if given), timed; peak RSS through /usr/bin/time when present. */
function timed(
  cmd: string,
  args: string[],
  stdoutFile?: string,
): { seconds: number; peakRssMb: number | null } {
  const useTime = existsSync('/usr/bin/time');
  const fd = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  const t0 = performance.now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], {
        stdio: ['ignore', fd, 'pipe'],
        encoding: 'utf8',
      })
    : spawnSync(cmd, args, { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (typeof fd === 'number') closeSync(fd);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const kb = useTime ? Number(r.stderr.trim().split('\n').pop()) : Number.NaN;
  return { seconds, peakRssMb: Number.isFinite(kb) ? kb / 1024 : null };
}

const mb = (file: string) => statSync(file).size / (1024 * 1024);

// ---- SQLite ----------------------------------------------------------------------------------------
async function fillSqlite(dataDir: string, rows: number): Promise<number> {
  const engine = await openStore({ dataDir });
  await addFirm(engine, { id: FIRM, name: 'Bench' });
  await engine.close();
  const db = new SqliteDatabase(path.join(dataDir, 'caseport.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const now = new Date().toISOString();
  const t0 = performance.now();
  const base = `firm_id, created_at, updated_at, created_run_id, updated_run_id, updated_by`;
  db.transaction(() => {
    db.prepare(
      `insert into employers (employer_code, employer_name, ${base}) values ('ACME', 'Acme', ?, ?, ?, null, null, 'bench')`,
    ).run(FIRM, now, now);
    const client = db.prepare(
      `insert into clients (employer_id, employee_id, first_name, last_name, ${base}) values (1, ?, ?, ?, ?, ?, ?, null, null, 'bench')`,
    );
    for (let c = 1; c <= CLIENTS; c++)
      client.run(`E${String(c).padStart(5, '0')}`, `First${c}`, `Last${c}`, FIRM, now, now);
    const cols = `client_id, passport_number, issuing_country, issue_date, expiration_date, place_of_issue, is_primary, ${base}`;
    const per = 2000;
    const tuple = `(${new Array(10).fill('?').join(', ')}, null, null, 'bench')`;
    const full = db.prepare(
      `insert into passports (${cols}) values ${new Array(per).fill(tuple).join(', ')}`,
    );
    for (let start = 0; start < rows; start += per) {
      const n = Math.min(per, rows - start);
      const params: unknown[] = [];
      for (let i = start; i < start + n; i++) {
        const p = passport(i, rows, now);
        params.push(p.client, p.number, p.country, p.issue, p.expiry, p.place, p.primary, FIRM, now, now);
      }
      const stmt =
        n === per
          ? full
          : db.prepare(`insert into passports (${cols}) values ${new Array(n).fill(tuple).join(', ')}`);
      stmt.run(...params);
    }
  })();
  db.close();
  return (performance.now() - t0) / 1000;
}

/** The caseport export in a child process, as a measure. */
function caseport(engine: string, job: ChildJob): Measure {
  const c = runChild(job);
  const fileMb = mb(c.file);
  rmSync(c.file); // the next run writes its own
  return {
    engine,
    tool: `caseport export ${TEMPLATE}`,
    rows: c.rows,
    seconds: c.ms / 1000,
    peakRssMb: c.maxRssKb / 1024,
    fileMb,
    note: `RSS before the export ${(c.rssBeforeKb / 1024).toFixed(0)} MB`,
  };
}

/** Runs the tools in turn `repeat` times; each tool's fastest run, with every time in its note. */
function taking(repeat: number, tools: Array<() => Measure>): Measure[] {
  const runs: Measure[][] = tools.map(() => []);
  for (let r = 0; r < repeat; r++) {
    for (const [i, run] of tools.entries()) runs[i].push(run());
  }
  return runs.map((ms) => {
    const best = ms.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const peak = ms.some((m) => m.peakRssMb === null) ? null : Math.max(...ms.map((m) => m.peakRssMb ?? 0));
    const times = ms.length > 1 ? `runs ${ms.map((m) => m.seconds.toFixed(2)).join(', ')} s` : undefined;
    const note = [best.note, times].filter(Boolean).join('; ') || undefined;
    return { ...best, peakRssMb: peak, note };
  });
}

async function benchSqlite(work: string, rows: number, repeat: number): Promise<Measure[]> {
  const dataDir = path.join(work, 'sqlite');
  const fill = await fillSqlite(dataDir, rows);
  process.stderr.write(`sqlite: ${rows} passports inserted in ${fill.toFixed(1)} s\n`);
  const dump = path.join(work, 'sqlite3.csv');
  // the same page cache as the store's connection (src/store/engine.ts), so both read alike
  const cache = ['-cmd', 'pragma cache_size = -16384'];
  const sqlite3 = (): Measure => {
    const t = timed('sqlite3', [...cache, '-csv', '-header', path.join(dataDir, 'caseport.db'), SQL], dump);
    return { engine: 'SQLite', tool: 'sqlite3 -csv', rows, ...t, fileMb: mb(dump) };
  };
  return taking(repeat, [
    () => caseport('SQLite', { dataDir, outDir: path.join(work, 'out-sqlite') }),
    sqlite3,
  ]);
}

// ---- PostgreSQL ------------------------------------------------------------------------------------
async function fillPostgres(url: string, rows: number): Promise<number> {
  const engine = await openStore({ dataDir: tmpdir(), dbUrl: url });
  await addFirm(engine, { id: FIRM, name: 'Bench' });
  await engine.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const now = new Date().toISOString();
  const t0 = performance.now();
  const base = `firm_id, created_at, updated_at, updated_by`;
  await client.query('begin');
  await client.query(
    `insert into employers (employer_code, employer_name, ${base}) values ('ACME', 'Acme', $1, $2, $2, 'bench')`,
    [FIRM, now],
  );
  await client.query(
    `insert into clients (employer_id, employee_id, first_name, last_name, ${base})
     select 1, 'E' || lpad(g::text, 5, '0'), 'First' || g, 'Last' || g, $1, $2, $2, 'bench' from generate_series(1, $3) g`,
    [FIRM, now, CLIENTS],
  );
  const per = 100_000;
  for (let start = 0; start < rows; start += per) {
    const cols: unknown[][] = [[], [], [], [], [], [], []];
    for (let i = start; i < Math.min(rows, start + per); i++) {
      const p = passport(i, rows, now);
      [p.client, p.number, p.country, p.issue, p.expiry, p.place, p.primary].forEach((v, j) => {
        cols[j].push(v);
      });
    }
    await client.query(
      `insert into passports (client_id, passport_number, issuing_country, issue_date, expiration_date, place_of_issue,
         is_primary, ${base})
       select c, n, co, i, e, pl, pr, $8, $9, $9, 'bench'
       from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[]) as t(c, n, co, i, e, pl, pr)`,
      [...cols, FIRM, now],
    );
  }
  await client.query('commit');
  // settle the fresh rows (hint bits, visibility map) so that neither tool pays for it when it reads first
  await client.query('vacuum analyze');
  await client.end();
  return (performance.now() - t0) / 1000;
}

async function benchPostgres(
  work: string,
  rows: number,
  repeat: number,
  adminUrl: string,
): Promise<Measure[]> {
  const name = `caseport_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  try {
    const fill = await fillPostgres(url, rows);
    process.stderr.write(`postgres: ${rows} passports inserted in ${fill.toFixed(1)} s\n`);
    const dump = path.join(work, 'psql.csv');
    const psql = (): Measure => {
      const t = timed('psql', [
        url,
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        `\\copy (${SQL}) to '${dump}' csv header`,
      ]);
      return { engine: 'PostgreSQL', tool: 'psql \\copy', rows, ...t, fileMb: mb(dump) };
    };
    const job = { dataDir: path.join(work, 'pg'), dbUrl: url, outDir: path.join(work, 'out-pg') };
    return taking(repeat, [() => caseport('PostgreSQL', job), psql]);
  } finally {
    if (process.argv.includes('--keep')) process.stderr.write(`database kept: ${url}\n`);
    else await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

function table(results: Measure[]): string {
  const lines = [
    '| engine | tool | rows | seconds | rows/s | peak RSS (MB) | file (MB) |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const m of results) {
    const rss = m.peakRssMb === null ? 'n/a' : m.peakRssMb.toFixed(0);
    lines.push(
      `| ${m.engine} | ${m.tool} | ${m.rows.toLocaleString('en-US')} | ${m.seconds.toFixed(2)} | ` +
        `${Math.round(m.rows / m.seconds).toLocaleString('en-US')} | ${rss} | ${m.fileMb.toFixed(1)} |`,
    );
  }
  const notes = results.filter((m) => m.note).map((m) => `- ${m.engine}, ${m.tool}: ${m.note}`);
  return [...lines, '', ...notes].join('\n');
}

async function main(): Promise<void> {
  const job = arg('--child');
  if (job) return child(JSON.parse(job) as ChildJob);
  const rows = Number(arg('--rows') ?? 1_000_000);
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error('--rows must be a whole number, 1 or more');
  const repeat = Number(arg('--repeat') ?? 1);
  if (!Number.isSafeInteger(repeat) || repeat < 1)
    throw new Error('--repeat must be a whole number, 1 or more');
  const pgUrl =
    process.env.DATABASE_URL ||
    (process.argv.includes('--pg') ? 'postgres://postgres@127.0.0.1:5432/postgres' : '');
  const work = mkdtempSync(path.join(tmpdir(), 'caseport-bench-export-'));
  try {
    const results = await benchSqlite(work, rows, repeat);
    if (pgUrl) results.push(...(await benchPostgres(work, rows, repeat, pgUrl)));
    const best = repeat > 1 ? `, fastest of ${repeat} runs each` : '';
    process.stdout.write(
      `\n${TEMPLATE}, ${rows.toLocaleString('en-US')} passports of ${CLIENTS} clients${best}\n\n`,
    );
    process.stdout.write(`${table(results)}\n`);
  } finally {
    if (process.argv.includes('--keep')) process.stderr.write(`work folder kept: ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
