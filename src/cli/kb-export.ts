// `caseport kb export countries --out FILE [--format xlsx|csv]`: the Country List as a file to hand to
// people who fill in the templates.
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { outputRefused, usageError } from '../errors.js';
import { fsReason } from '../export/index.js';
import { COUNTRIES } from '../kb/countries.js';
import { EXIT, say } from './output.js';

const HEADER = ['Name', 'ISO2', 'ISO3', 'Historical'];

function countryRows(): string[][] {
  return COUNTRIES.map((c) => [c.name, c.iso2 ?? '', c.iso3, c.historical ? 'Y' : 'N']);
}

async function xlsxOf(rows: string[][]): Promise<Uint8Array> {
  const { default: ExcelJS } = await import('exceljs'); // heavy: loaded only for this command
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Caseport';
  const ws = wb.addWorksheet('Country List');
  ws.columns = [
    { header: 'Name', key: 'name', width: 40 },
    { header: 'ISO2', key: 'iso2', width: 8 },
    { header: 'ISO3', key: 'iso3', width: 8 },
    { header: 'Historical', key: 'historical', width: 11 },
  ];
  ws.getRow(1).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  for (const r of rows) ws.addRow(r);
  // Built in memory (256 rows) and written by us, so a bad --out fails in one place, in our words.
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

async function contentOf(format: string): Promise<string | Uint8Array> {
  if (format === 'csv') return `${Papa.unparse([HEADER, ...countryRows()])}\r\n`;
  if (format === 'xlsx') return xlsxOf(countryRows());
  throw usageError(`--format must be xlsx or csv, not "${format}"`);
}

/** The file --out names, refused before any work when it is empty or a folder. */
async function outFile(out: string): Promise<string> {
  // An empty value (an unset shell variable) names no file: say so, rather than fail opening ''.
  if (out === '')
    throw usageError('--out "": the value is empty; give the file to write, e.g. countries.xlsx');
  const file = path.resolve(out);
  if ((await stat(file).catch(() => undefined))?.isDirectory())
    throw outputRefused(
      '--out',
      file,
      `is a folder; give a file name, e.g. ${path.join(file, 'countries.xlsx')}`,
    );
  return file;
}

/** Why writing `file` failed, naming the folder when that is what is missing. */
async function whyUnwritable(file: string, e: unknown): Promise<string> {
  const dir = path.dirname(file);
  const dirOk = (await stat(dir).catch(() => undefined))?.isDirectory();
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `cannot be written: ${fsReason(e)}`;
  // ENOENT in a folder that exists: the file system takes no new files there (/proc)
  return dirOk
    ? 'cannot be written: the file system refuses new files there (ENOENT)'
    : `its folder ${dir} does not exist`;
}

export async function exportCountries(format: string, out: string): Promise<number> {
  const file = await outFile(out);
  const content = await contentOf(format);
  try {
    await writeFile(file, content);
  } catch (e) {
    throw outputRefused('--out', file, await whyUnwritable(file, e));
  }
  say(`${COUNTRIES.length} countries written to ${file}`);
  return EXIT.ok;
}
