// Hostile files against the memory bound (peak RSS under 256 MB for any input) and linear reading: each
// imported by the compiled build in its own process, on SQLite. Run by bench/import.ts (or alone:
// node --import tsx bench/hostile.ts). Prints a markdown table for docs/benchmarks.md.
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { addFirm, openStore } from '../src/store/index.js';
import { importChild } from './import-child.js';

const OUT = path.resolve('bench/out/hostile');
const PEOPLE =
  'EmployerID,EmployeeID,FirstName,MiddleName,LastName,OtherNames,Gender,DateOfBirth,CityOfBirth,CountryOfBirth,CountryOfCitizenship,MaritalStatus,Email,WorkPhone,MobilePhone,JobTitle,Department,HireDate,EmploymentStatus,TerminationDate,WorkLocationCity,WorkLocationState,WorkLocationCountry,AnnualSalary,CurrentImmigrationStatus,StatusExpirationDate,ANumber,SSN';
const person = (i: number, ssn = '123-45-6789') =>
  `ACME,H${i},First${i},,Last${i},,Female,03/14/1990,Pune,India,India,Single,p${i}@x.example,,,Engineer,R&D,2021-06-01,Active,,Austin,TX,United States,120000,H-1B,2027-09-30,,${ssn}`;

/** Writes `parts` (strings, or [string, times]) to a file without holding it in memory. */
async function write(file: string, parts: Array<string | [string, number]>) {
  const out = createWriteStream(file);
  for (const p of parts) {
    const [text, times] = typeof p === 'string' ? [p, 1] : p;
    for (let i = 0; i < times; i++) if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

const rows = (n: number, line: (i: number) => string) => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${line(i)}\n`);
  return out.join('');
};

export async function runHostile(): Promise<string[]> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const dataDir = path.join(OUT, 'store');
  const engine = await openStore({ dataDir });
  await addFirm(engine, { id: 'bench', name: 'Bench' });
  await engine.close();
  const company = await write(path.join(OUT, 'company_Details_import_20261101.csv'), [
    'EmployerID,EmployerName,DBAName,FEIN,BusinessType,YearEstablished,NumberOfEmployees,GrossAnnualIncome,NetAnnualIncome,NAICSCode,AddressLine1,AddressLine2,City,State,PostalCode,Country,Phone,Email,Website,Status\n',
    'ACME,Acme,,12-3456789,Corporation,1990,1000,1000000,50000,541511,1 Main St,,Austin,TX,78701,United States,,,,Active\n',
  ]);
  importChild(dataDir, '', company);
  const f = (n: number) => path.join(OUT, `fn_Details_Data_import_20261102_${n}.csv`);
  const cases: Array<[string, string]> = [
    [
      'a 50 MB line of commas',
      await write(f(1), [`${PEOPLE}\n`, [','.repeat(1 << 20), 50], '\n', person(1), '\n']),
    ],
    [
      'a 100 MB line of commas',
      await write(f(2), [`${PEOPLE}\n`, [','.repeat(1 << 20), 100], '\n', person(2), '\n']),
    ],
    [
      'a 100 MB quoted cell that never closes',
      await write(f(3), [`${PEOPLE}\nACME,Q,"`, ['x'.repeat(1 << 20), 100], '\n']),
    ],
    [
      '50,000 rejected rows (bad SSN)',
      await write(f(4), [`${PEOPLE}\n`, rows(50_000, (i) => person(1_000 + i, 'bad'))]),
    ],
    [
      'an unclosed quote, then 16,000 rows',
      await write(f(5), [`${PEOPLE}\nACME,U,"open,,,\n`, rows(16_000, (i) => person(100_000 + i))]),
    ],
    ['1,000 rows of 1,000 cells each', await write(f(6), [`${PEOPLE}\n`, [`${'a,'.repeat(999)}a\n`, 1_000]])],
    [
      '5,000 valid rows with a 32,000-character cell (160 MB)',
      await write(f(7), [
        `${PEOPLE}\n`,
        rows(5_000, (i) => person(200_000 + i).replace('Engineer', 'e'.repeat(32_000))),
      ]),
    ],
    [
      '300 rejected rows of 19 cells of 32,000 characters (182 MB)',
      await write(f(8), [
        `${PEOPLE}\n`,
        rows(300, (i) => `ACME,L${i},${`${'z'.repeat(32_000)},`.repeat(19)}x`),
      ]),
    ],
    [
      '100 lines opening a quote, then 1,000,000 characters each (100 MB)',
      await write(f(9), [`${PEOPLE}\n`, rows(100, (i) => `ACME,"Q${i}${'z'.repeat(1_000_000)}`)]),
    ],
  ];
  const table = ['| hostile file (SQLite) | outcome | time | peak RSS |', '|---|---|--:|--:|'];
  for (const [what, file] of cases) {
    const r = importChild(dataDir, '', file);
    table.push(
      `| ${what} | ${r.status}: ${r.rows.total} rows, ${r.rows.rejected} rejected | ${r.seconds.toFixed(2)} s | ${r.maxRssMb.toFixed(0)} MB |`,
    );
  }
  return table;
}

if (process.argv[1]?.endsWith('hostile.ts')) {
  for (const line of await runHostile()) console.log(line);
}
