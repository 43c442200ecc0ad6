// Valid sample rows for every template, and a seeded firm: the base that rule tests change one cell of.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ImportResult } from '../src/ingest/index.js';
import { importFile } from '../src/ingest/index.js';
import type { Engine } from '../src/store/index.js';
import {
  caseManagersList,
  customFieldsList,
  IMPORT_TEMPLATES,
  type ImportTemplate,
  petitionsList,
} from '../src/templates/index.js';
import { SAMPLE_ROWS } from '../src/templates/samples.js';
import { tempDir, writeCsv } from './helpers.js';

export const header = (t: ImportTemplate) => t.columns.map((c) => c.name);

/** A valid row per template, by column name (the product's sample rows). */
export const VALID = SAMPLE_ROWS;

export function templateNamed(name: string): ImportTemplate {
  const t = IMPORT_TEMPLATES.find((x) => x.name === name);
  if (!t) throw new Error(`no template ${name}`);
  return t;
}

export function rowOf(t: ImportTemplate, patch: Record<string, string> = {}): string[] {
  const base = { ...VALID[t.name], ...patch };
  return t.columns.map((c) => base[c.name] ?? '');
}

/** A CSV of `n` rows of template t, row i patched by patch(i); written fast (cells that need no quoting). */
export function manyRows(
  dir: string,
  name: string,
  t: ImportTemplate,
  n: number,
  patch: (i: number) => Record<string, string>,
): string {
  const lines = [header(t).join(',')];
  for (let i = 0; i < n; i++) lines.push(rowOf(t, patch(i)).join(','));
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

let seq = 0;
/** Imports rows (given as patches of the valid row) as a file of template t; a fresh name each time. */
export async function importRows(
  engine: Engine,
  t: ImportTemplate,
  patches: Array<Record<string, string>>,
  opts: { firmId?: string; dryRun?: boolean } = {},
): Promise<ImportResult> {
  const dir = tempDir();
  seq++;
  const file = writeCsv(dir, `${t.name}_20261120_${seq}.csv`, [
    header(t),
    ...patches.map((p) => rowOf(t, p)),
  ]);
  return importFile(engine, { firmId: opts.firmId ?? 'acme', file, resultDir: dir, dryRun: opts.dryRun });
}

async function importList(engine: Engine, t: ImportTemplate, rows: string[][], firmId: string) {
  const dir = tempDir();
  const file = writeCsv(dir, `${t.name}.csv`, [header(t), ...rows]);
  return importFile(engine, { firmId, file, template: t, resultDir: dir });
}

/** Seeds employer ACME, supervisor S1 and contact C1, client E1, petitions, case managers, custom fields. */
export async function seedFirm(engine: Engine, firmId = 'acme'): Promise<void> {
  await importList(
    engine,
    petitionsList,
    [
      ['H1B-EXT', 'H-1B Extension', 'I-129', 'H-1B', '', 'Y'],
      ['OLD-PET', 'Retired petition', 'I-129', 'H-1B', '', 'N'],
    ],
    firmId,
  );
  await importList(
    engine,
    caseManagersList,
    [['CM1', 'Maria', 'Lopez', 'maria@firm.example', '', 'Paralegal', 'Y']],
    firmId,
  );
  await importList(
    engine,
    customFieldsList,
    [
      ['CostCenter', 'text', ''],
      ['Budget', 'number', ''],
      ['Onboarded', 'date', ''],
      ['Remote', 'yesno', ''],
      ['Site', 'list', 'Austin|Remote'],
    ],
    firmId,
  );
  const opts = { firmId };
  await importRows(engine, templateNamed('company_Details_import'), [{}], opts);
  await importRows(
    engine,
    templateNamed('company_Additional_Contact_import'),
    [{}, { ContactID: 'C1', ContactType: 'Contact', FirstName: 'Dana' }],
    opts,
  );
  await importRows(engine, templateNamed('fn_Details_Data_import'), [{}], opts);
}
