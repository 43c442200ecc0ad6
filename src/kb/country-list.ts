// The Country List as a file to hand to people who fill in the templates: CSV or an Excel workbook.
import Papa from 'papaparse';
import { usageError } from '../errors.js';
import { COUNTRIES } from './countries.js';

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

export async function countryListFile(format: string): Promise<string | Uint8Array> {
  if (format === 'csv') return `${Papa.unparse([HEADER, ...countryRows()])}\r\n`;
  if (format === 'xlsx') return xlsxOf(countryRows());
  throw usageError(`--format must be xlsx or csv, not "${format}"`);
}
