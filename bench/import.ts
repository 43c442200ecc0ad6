// Import benchmark: Caseport against the database's own bulk loader on the same files, in one run.
//   npm run bench -- [--passports N] [--clients N] [--pg] [--no-hostile] [--no-arrival] [--no-export]   (builds
//   dist/ first: the child imports run on it). Then the hostile files of bench/hostile.ts (memory bound,
//   linear reading), upload to Completed (bench/arrival.ts) and the export of 1M passports (bench/export.ts).
// SQLite: `sqlite3 .import` into an unindexed table. PostgreSQL (--pg or DATABASE_URL): `psql \copy`
// into a table with the same primary key. Prints a markdown table for docs/benchmarks.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { addFirm, openStore } from '../src/store/index.js';
import { runArrival } from './arrival.js';
import { runHostile } from './hostile.js';
import { importChild } from './import-child.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PASSPORTS = arg('passports', 1_000_000);
const CLIENTS = arg('clients', 200_000);
const usePg = process.argv.includes('--pg') || !!process.env.DATABASE_URL;
const PG_ADMIN = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const OUT = path.resolve('bench/out');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const EMPLOYERS = 100;
const countries = ['India', 'China', 'Mexico', 'Brazil', 'Canada', 'France', 'Germany', 'Philippines'];

async function writeLines(file: string, header: string, n: number, line: (i: number) => string) {
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    buf.push(line(i));
    if (buf.length === 10000) {
      if (!out.write(`${buf.join('\n')}\n`)) await once(out, 'drain');
      buf = [];
    }
  }
  if (buf.length) out.write(`${buf.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  return file;
}

const emp = (i: number) => `EMP${String(i % EMPLOYERS).padStart(3, '0')}`;
async function makeFiles(passports: number, clients: number, tag: string, year = 2030) {
  const dir = path.join(OUT, tag);
  mkdirSync(dir, { recursive: true });
  const company = await writeLines(
    path.join(dir, 'company_Details_import_20261101.csv'),
    'EmployerID,EmployerName,DBAName,FEIN,BusinessType,YearEstablished,NumberOfEmployees,GrossAnnualIncome,NetAnnualIncome,NAICSCode,AddressLine1,AddressLine2,City,State,PostalCode,Country,Phone,Email,Website,Status',
    EMPLOYERS,
    (i) =>
      `${emp(i)},Employer ${i},,12-345678${i % 10},Corporation,1990,1000,1000000,50000,541511,1 Main St,,Austin,TX,78701,United States,+1 512 555 0100,hr@e${i}.example,,Active`,
  );
  const details = await writeLines(
    path.join(dir, 'fn_Details_Data_import_20261102.csv'),
    'EmployerID,EmployeeID,FirstName,MiddleName,LastName,OtherNames,Gender,DateOfBirth,CityOfBirth,CountryOfBirth,CountryOfCitizenship,MaritalStatus,Email,WorkPhone,MobilePhone,JobTitle,Department,HireDate,EmploymentStatus,TerminationDate,WorkLocationCity,WorkLocationState,WorkLocationCountry,AnnualSalary,CurrentImmigrationStatus,StatusExpirationDate,ANumber,SSN',
    clients,
    (i) => {
      const c = countries[i % countries.length];
      return `${emp(i)},N${i},First${i},,Last${i},,Female,03/14/1990,City,${c},${c},Single,p${i}@x.example,,,Engineer,R&D,2021-06-01,Active,,Austin,TX,United States,120000,H-1B,2027-09-30,A${String(10000000 + i)},123-45-6789`;
    },
  );
  const pass = await writeLines(
    path.join(dir, `fn_Passport_Details_import_${year}0101.csv`),
    'EmployerID,EmployeeID,PassportNumber,IssuingCountry,IssueDate,ExpirationDate,PlaceOfIssue,IsPrimary',
    passports,
    (i) => {
      const client = i % clients;
      return `${emp(client)},N${client},P${String(i).padStart(9, '0')},${countries[client % countries.length]},2020-01-15,${year}-01-14,Consulate,${i < clients ? 'Y' : 'N'}`;
    },
  );
  return { company, details, pass };
}

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

async function freshStore(kind: 'sqlite' | 'postgres', tag: string) {
  const dataDir = path.join(OUT, `store-${kind}-${tag}`);
  rmSync(dataDir, { recursive: true, force: true });
  let dbUrl = '';
  if (kind === 'postgres') {
    const name = `caseport_bench_${tag}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(PG_ADMIN);
    u.pathname = `/${name}`;
    dbUrl = u.toString();
  }
  const engine = await openStore({ dataDir, dbUrl: dbUrl || undefined });
  await addFirm(engine, { id: 'bench', name: 'Bench' });
  await engine.close();
  return { dataDir, dbUrl };
}

/** `sqlite3 .import` into a table with the given unique key (none: an unindexed table). */
function sqliteImport(file: string, table: string, columns: number, key?: string[]): number {
  const db = path.join(OUT, `baseline-${table}.db`);
  rmSync(db, { force: true });
  const cols = Array.from({ length: columns }, (_, i) => `c${i} text`).join(', ');
  const ddl = `create table ${table} (${cols}${key ? `, unique (${key.join(', ')})` : ''});`;
  return timed(() => execFileSync('sqlite3', [db, ddl, '.mode csv', `.import --skip 1 ${file} ${table}`]));
}

function psqlCopy(dbUrl: string, file: string, table: string, ddl: string): number {
  execFileSync('psql', [dbUrl, '-qc', `drop table if exists ${table}; ${ddl}`]);
  return timed(() => execFileSync('psql', [dbUrl, '-qc', `\\copy ${table} from '${file}' csv header`]));
}

const rows: string[][] = [];
/** sqlite3 .import into an unindexed table (fn_Details, fn_Passport), for reference. */
const unindexed: number[] = [];
const fmt = (s: number) => `${s.toFixed(2)} s`;

async function runEngine(kind: 'sqlite' | 'postgres') {
  const big = await makeFiles(PASSPORTS, CLIENTS, 'big');
  const upd = await makeFiles(PASSPORTS, CLIENTS, 'update', 2031);
  const small = await makeFiles(Math.round(PASSPORTS / 10), Math.round(CLIENTS / 10), 'small');
  const s = await freshStore(kind, 'big');
  importChild(s.dataDir, s.dbUrl, big.company);
  const det = importChild(s.dataDir, s.dbUrl, big.details);
  const pas = importChild(s.dataDir, s.dbUrl, big.pass);
  const pasUpd = importChild(s.dataDir, s.dbUrl, upd.pass);
  const s2 = await freshStore(kind, 'small');
  importChild(s2.dataDir, s2.dbUrl, small.company);
  importChild(s2.dataDir, s2.dbUrl, small.details);
  const pasSmall = importChild(s2.dataDir, s2.dbUrl, small.pass);
  let baseDet: number;
  let basePas: number;
  let baseName: string;
  if (kind === 'sqlite') {
    baseName = 'sqlite3 .import into a table with the same unique key';
    baseDet = sqliteImport(big.details, 'details', 28, ['c0', 'c1']);
    basePas = sqliteImport(big.pass, 'passports', 8, ['c0', 'c1', 'c2', 'c3']);
    unindexed.push(
      sqliteImport(big.details, 'details_plain', 28),
      sqliteImport(big.pass, 'passports_plain', 8),
    );
  } else {
    baseName = 'psql \\copy (same primary key)';
    baseDet = psqlCopy(
      s.dbUrl,
      big.details,
      'base_details',
      `create table base_details (employer_id text, employee_id text, ${Array.from({ length: 26 }, (_, i) => `c${i} text`).join(', ')}, primary key (employer_id, employee_id))`,
    );
    basePas = psqlCopy(
      s.dbUrl,
      big.pass,
      'base_passports',
      'create table base_passports (employer_id text, employee_id text, passport_number text, issuing_country text, issue_date text, expiration_date text, place_of_issue text, is_primary text, primary key (employer_id, employee_id, passport_number, issuing_country))',
    );
  }
  rows.push([
    kind,
    `fn_Details ${CLIENTS.toLocaleString('en-US')} rows, fresh`,
    fmt(det.seconds),
    fmt(baseDet),
    `${(det.seconds / baseDet).toFixed(1)}x`,
    `${det.maxRssMb.toFixed(0)} MB`,
  ]);
  rows.push([
    kind,
    `fn_Passport ${PASSPORTS.toLocaleString('en-US')} rows, fresh`,
    fmt(pas.seconds),
    fmt(basePas),
    `${(pas.seconds / basePas).toFixed(1)}x`,
    `${pas.maxRssMb.toFixed(0)} MB`,
  ]);
  rows.push([
    kind,
    `fn_Passport ${PASSPORTS.toLocaleString('en-US')} rows, full update`,
    fmt(pasUpd.seconds),
    fmt(basePas),
    `${(pasUpd.seconds / basePas).toFixed(1)}x`,
    `${pasUpd.maxRssMb.toFixed(0)} MB`,
  ]);
  rows.push([
    kind,
    `fn_Passport ${Math.round(PASSPORTS / 10).toLocaleString('en-US')} rows, fresh (RSS ratio 1M/100k: ${(pas.maxRssMb / pasSmall.maxRssMb).toFixed(2)})`,
    fmt(pasSmall.seconds),
    '',
    '',
    `${pasSmall.maxRssMb.toFixed(0)} MB`,
  ]);
  return baseName;
}

const baselines = [await runEngine('sqlite')];
if (usePg) baselines.push(await runEngine('postgres'));
console.log(
  `\n${new Date().toISOString().slice(0, 10)} · ${os.cpus().length} cores ${os.cpus()[0]?.model ?? ''} · ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version}`,
);
console.log(`baselines: ${baselines.join('; ')}`);
if (unindexed.length)
  console.log(`sqlite3 .import into an unindexed table: ${unindexed.map(fmt).join(', ')}\n`);
console.log('| engine | file | Caseport | baseline | ratio | Caseport peak RSS |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

if (!process.argv.includes('--no-hostile')) {
  console.log('');
  for (const line of await runHostile()) console.log(line);
}

if (!process.argv.includes('--no-arrival')) {
  console.log('\n| engine | measure | Caseport | baseline | transfer |');
  console.log('|---|---|---|---|---|');
  for (const line of await runArrival('sqlite', path.join(OUT, 'arrival-sqlite'))) console.log(line);
  if (usePg) {
    const db = `caseport_bench_arrival_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`create database ${db}`);
    const u = new URL(PG_ADMIN);
    u.pathname = `/${db}`;
    try {
      for (const line of await runArrival('postgres', path.join(OUT, 'arrival-pg'), u.toString()))
        console.log(line);
    } finally {
      await admin.query(`drop database if exists ${db} with (force)`);
      await admin.end();
    }
  }
}

if (!process.argv.includes('--no-export')) {
  console.log('');
  const args = ['--import', 'tsx', 'bench/export.ts', ...(usePg ? ['--pg'] : [])];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
