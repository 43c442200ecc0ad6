// `caseport kb export countries --out FILE [--format xlsx|csv]`: the Country List as a file to hand to
// people who fill in the templates.
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { outputRefused, usageError } from '../errors.js';
import { fsReason } from '../export/index.js';
import { COUNTRIES } from '../kb/countries.js';
import { countryListFile } from '../kb/country-list.js';
import { EXIT, say } from './output.js';

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
  const content = await countryListFile(format);
  try {
    await writeFile(file, content);
  } catch (e) {
    throw outputRefused('--out', file, await whyUnwritable(file, e));
  }
  say(`${COUNTRIES.length} countries written to ${file}`);
  return EXIT.ok;
}
