// `caseport import <file...> --firm F [--dry-run] [--json]`: process files now, in run order.
import path from 'node:path';
import { dryRunTogether, type ImportResult, importFile } from '../ingest/index.js';
import { firmFolders } from '../paths.js';
import type { Engine } from '../store/index.js';
import { compareForRun, type RecognisedFile, recogniseFileName } from '../templates/index.js';
import { EXIT, printJson, progressBar, say, warn } from './output.js';

export interface ImportCommandOptions {
  firm: string;
  dryRun?: boolean;
  json?: boolean;
  batchSize?: number;
}

/** Files in the order a run processes them; names that match no template keep their place at the end. */
export function runOrder(files: string[]): string[] {
  const known: Array<{ file: string; r: RecognisedFile }> = [];
  const unknown: string[] = [];
  for (const file of files) {
    try {
      known.push({ file, r: recogniseFileName(path.basename(file)) });
    } catch {
      unknown.push(file);
    }
  }
  known.sort((a, b) => compareForRun(a.r, b.r));
  return [...known.map((k) => k.file), ...unknown];
}

export function exitCodeOf(results: ImportResult[]): number {
  if (results.some((r) => r.status === 'interrupted')) return EXIT.interrupted;
  if (results.some((r) => r.status === 'incomplete')) return EXIT.incomplete;
  return EXIT.ok;
}

export function printSummary(r: ImportResult): void {
  const c = r.rows;
  const head = `${path.basename(r.file)}: ${r.status.toUpperCase()}${r.dryRun ? ' (dry run, nothing written)' : ''}`;
  say(head + (r.runId ? ` · run ${r.runId}` : ''));
  if (r.message) say(`  ${r.message}`);
  if (r.status !== 'interrupted' || c.total > 0) {
    say(
      `  rows: ${c.total} total, ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`,
    );
  }
  for (const w of r.warnings) say(`  warning: ${w}`);
  const shown = r.errors.slice(0, 20);
  for (const e of shown) say(`  row ${e.row}${e.column ? `, ${e.column}` : ''}: ${e.message}`);
  if (r.errors.length > shown.length) say(`  … and ${r.errors.length - shown.length} more problems`);
  if (r.resultFile) say(`  rejected rows with their errors: ${r.resultFile}`);
}

export async function runImport(engine: Engine, dataDir: string, files: string[], o: ImportCommandOptions) {
  const results: ImportResult[] = [];
  const importAll = async (store: Engine) => {
    for (const file of runOrder(files)) {
      const bar = progressBar(path.basename(file), !o.json);
      try {
        results.push(
          await importFile(store, {
            firmId: o.firm,
            file,
            dryRun: o.dryRun,
            batchSize: o.batchSize,
            resultDir: firmFolders(dataDir, o.firm).results,
            onProgress: (done, total) => bar.update(done, total),
          }),
        );
      } finally {
        bar.stop();
      }
      if (!o.json) printSummary(results[results.length - 1]);
    }
  };
  // A dry run of several files is one transaction, rolled back: each file sees the ones before it.
  if (o.dryRun) await dryRunTogether(engine, importAll);
  else await importAll(engine);
  if (o.json) printJson(results.length === 1 ? results[0] : results);
  else if (results.length > 1) warn(`${results.length} files processed`);
  return exitCodeOf(results);
}
