// `caseport export <template> --firm F [--out DIR] [--since ISO | --delta] [--json]`: write one export
// file now, recorded as an export run: Completed (exit 0) or Interrupted (4, no file, mark unmoved).
import path from 'node:path';
import { outputRefused, usageError } from '../errors.js';
import { type ExportResult, type ExportScope, exportFile, exportFolderProblem } from '../export/index.js';
import { firmFolders } from '../paths.js';
import type { Engine } from '../store/index.js';
import { EXIT, printJson, say, warn } from './output.js';

export interface ExportCommandOptions {
  firm: string;
  out?: string;
  since?: string;
  delta?: boolean;
  json?: boolean;
}

export function scopeOf(o: Pick<ExportCommandOptions, 'since' | 'delta'>): ExportScope {
  if (o.since !== undefined && o.delta) {
    throw usageError(
      '--since and --delta cannot be used together: --delta starts at the last successful export',
    );
  }
  if (o.since !== undefined) return { kind: 'since', since: o.since };
  return o.delta ? { kind: 'delta' } : { kind: 'all' };
}

/**
 * The folder --out names, created if missing and checked before the export starts: a folder that cannot
 * take the file is the user's to fix, so it is a one-line error, not an Interrupted run. Without --out
 * the firm's Export folder is left to the export, which checks the firm first.
 */
async function outFolder(out: string | undefined, dataDir: string, firmId: string): Promise<string> {
  if (out === undefined) return path.resolve(firmFolders(dataDir, firmId).export);
  // path.resolve('') is the current folder: an empty value (an unset variable) must not write there.
  if (out === '') throw usageError(`--out "${out}": the value is empty; give the folder to write to`);
  const dir = path.resolve(out);
  const problem = await exportFolderProblem(dir);
  if (problem) throw outputRefused('--out', dir, problem);
  return dir;
}

function summary(r: ExportResult): string {
  const scope = r.since ? `changed since ${r.since}` : 'all';
  return `${r.template}: ${r.status.toUpperCase()} · run ${r.runId} · ${r.rows} rows (${scope})`;
}

export async function runExport(engine: Engine, dataDir: string, template: string, o: ExportCommandOptions) {
  const scope = scopeOf(o);
  const outDir = await outFolder(o.out, dataDir, o.firm);
  const r = await exportFile(engine, { firmId: o.firm, template, outDir, scope });
  if (o.json) {
    printJson({
      file: r.file,
      template: r.template,
      rows: r.rows,
      runId: r.runId,
      status: r.status,
      since: r.since,
      message: r.message,
    });
  } else {
    say(summary(r));
    if (r.file) say(`  ${r.file}`);
    if (r.message) warn(`  ${r.message}`);
  }
  return r.status === 'completed' ? EXIT.ok : EXIT.interrupted;
}
