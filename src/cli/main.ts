// The caseport command line: parses arguments, runs one command, turns errors into one line and an
// exit code (0 ok, 2 usage, 3 some rows rejected, 4 a file interrupted, 1 anything else).

import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CaseportError, isCaseportError } from '../errors.js';
import { makeFirmFolders } from '../paths.js';
import { addFirm, type Engine, type Firm, listFirms, updateFirm } from '../store/index.js';
import { type GlobalOptions, withStore } from './context.js';
import { runExport } from './export-command.js';
import { runImport } from './import-command.js';
import { KB_LISTS, kbImport, kbList } from './kb-command.js';
import { exportCountries } from './kb-export.js';
import { EXIT, endOutputQuietlyWhenClosed, outputFailed, printJson, say, warn } from './output.js';
import { startDemo } from './start-command.js';

const USAGE_CODES = new Set([
  'USAGE',
  'CONFIG',
  'FIRM_NOT_FOUND',
  'FIRM_EXISTS',
  'KB_LIST_UNKNOWN',
  'TEMPLATE_UNKNOWN',
]);

function wholeNumber(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** Rows per transaction: at least 1; at most 50,000 (memory is bounded by characters too, see read.ts). */
function batchSize(v: string): number {
  const n = wholeNumber(v);
  if (n < 1 || n > 50_000) throw new InvalidArgumentError('expected a number of rows from 1 to 50000');
  return n;
}

function onOff(v: string): boolean {
  if (/^(on|yes|y|true|1)$/i.test(v)) return true;
  if (/^(off|no|n|false|0)$/i.test(v)) return false;
  throw new InvalidArgumentError('expected on or off');
}

function describeFirm(f: Firm): string {
  return [
    `${f.id}  ${f.name}`,
    `tz ${f.timezone}`,
    `Zoom No Update ${f.zoomNoUpdate ? 'on' : 'off'}`,
    `allowance ${f.recordLimit ?? 'unlimited'}/${f.billingPeriod}`,
    `dates ${f.exportDateFormat}`,
  ].join(' · ');
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('caseport')
    .description('Flat-file integration hub for immigration case management')
    .option('--data <dir>', 'data folder (env CASEPORT_DATA)', undefined)
    .option(
      '--db <url>',
      'database URL: postgres://... (env DATABASE_URL); default SQLite in the data folder',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (s) => warn(s.trim()) });
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const run = (fn: (engine: Engine, dataDir: string) => Promise<number | undefined>) =>
    withStore(g(), async (engine, dataDir) => setExit((await fn(engine, dataDir)) ?? EXIT.ok));

  program
    .command('init')
    .description('create the data folder and the database, applying migrations (safe to repeat)')
    .action(() =>
      run(async (engine, dataDir) => {
        say(`Caseport store ready: ${engine.location} (data folder ${dataDir})`);
        return EXIT.ok;
      }),
    );

  program
    .command('start')
    .description('first start on the embedded default: store, demo firm with its credentials, sample import')
    .action(() => run((engine, dataDir) => startDemo(engine, dataDir)));

  const firm = program.command('firm').description('firms (tenants)');
  firm
    .command('add <firmId>')
    .description('add a firm')
    .requiredOption('--name <name>', 'firm name')
    .option('--timezone <tz>', 'IANA time zone', 'America/Los_Angeles')
    .option('--zoom-no-update', 'honour the "Zoom No Update" keyword')
    .option('--record-limit <n>', 'rows allowed per billing period', wholeNumber)
    .addOption(
      new Option('--billing-period <p>', 'billing period').choices(['month', 'year']).default('month'),
    )
    .addOption(new Option('--date-format <f>', 'export date format').choices(['MM/DD/YYYY', 'YYYY-MM-DD']))
    .option('--sftp-password <p>', 'SFTP password (stored hashed)')
    .option('--sftp-key <file>', 'SFTP public key file (OpenSSH format)')
    .option('--json', 'print JSON')
    .action((id: string, o) =>
      run(async (engine, dataDir) => {
        let key: string | undefined;
        if (o.sftpKey) {
          key = (
            await readFile(o.sftpKey, 'utf8').catch(() => {
              throw new CaseportError('CONFIG', `--sftp-key: cannot read ${o.sftpKey}`);
            })
          ).trim();
          if (!/^(ssh-(rsa|ed25519)|ecdsa-sha2-\S+) \S+/.test(key)) {
            throw new CaseportError('CONFIG', `--sftp-key: ${o.sftpKey} is not an OpenSSH public key`);
          }
        }
        const f = await addFirm(engine, {
          id,
          name: o.name,
          timezone: o.timezone,
          zoomNoUpdate: o.zoomNoUpdate === true,
          recordLimit: o.recordLimit ?? null,
          billingPeriod: o.billingPeriod,
          exportDateFormat: o.dateFormat,
          sftpPassword: o.sftpPassword,
          sftpPublicKey: key,
        });
        await makeFirmFolders(dataDir, f.id);
        if (o.json) printJson(f);
        else say(`added ${describeFirm(f)}`);
        return EXIT.ok;
      }),
    );
  firm
    .command('set <firmId>')
    .description("change a firm's settings")
    .option('--zoom-no-update <on|off>', 'honour the "Zoom No Update" keyword', onOff)
    .option('--record-limit <n>', 'rows allowed per billing period', wholeNumber)
    .option('--timezone <tz>', 'IANA time zone')
    .addOption(new Option('--date-format <f>', 'export date format').choices(['MM/DD/YYYY', 'YYYY-MM-DD']))
    .action((id: string, o) =>
      run(async (engine) => {
        const f = await updateFirm(engine, id, {
          zoomNoUpdate: o.zoomNoUpdate,
          recordLimit: o.recordLimit,
          timezone: o.timezone,
          exportDateFormat: o.dateFormat,
        });
        say(`updated ${describeFirm(f)}`);
        return EXIT.ok;
      }),
    );
  firm
    .command('list')
    .description('list firms')
    .option('--json', 'print JSON')
    .action((o) =>
      run(async (engine) => {
        const firms = await listFirms(engine);
        if (o.json) printJson(firms);
        else if (firms.length === 0) say('no firms yet: caseport firm add <firmId> --name <name>');
        else for (const f of firms) say(describeFirm(f));
        return EXIT.ok;
      }),
    );

  const kb = program.command('kb').description('knowledge base: countries, visa types, petitions, ...');
  kb.command('list <list>')
    .description(`list a knowledge-base list (${KB_LISTS.join(', ')})`)
    .option('--firm <firmId>', "include the firm's own entries (required for per-firm lists)")
    .option('--json', 'print JSON')
    .action((list: string, o) => run((engine) => kbList(engine, list, o)));
  kb.command('import <list> <file>')
    .description(
      'load a CSV into a list: petitions, case-managers, custom-fields, or Value entries of a shipped list',
    )
    .requiredOption('--firm <firmId>', 'the firm the entries belong to')
    .option('--dry-run', 'validate and report, write nothing')
    .option('--json', 'print JSON')
    .action((list: string, file: string, o) =>
      run((engine, dataDir) => kbImport(engine, dataDir, list, file, o)),
    );
  kb.command('export <list>')
    .description('download a list as a file (countries: the Country List)')
    .addOption(new Option('--format <format>', 'file format').choices(['xlsx', 'csv']).default('xlsx'))
    .requiredOption('--out <file>', 'file to write')
    .action(async (list: string, o) => {
      if (list !== 'countries')
        throw new CaseportError('USAGE', 'only the countries list can be exported as a file');
      setExit(await exportCountries(o.format, o.out));
    });

  program
    .command('import <files...>')
    .description('import files now, in run order: Completed (exit 0), Incomplete (3), Interrupted (4)')
    .requiredOption('--firm <firmId>', 'the firm the files belong to')
    .option('--dry-run', 'validate against the current data and report what would change; write nothing')
    .option('--json', 'print the outcome of each file as JSON')
    .option('--batch-size <n>', 'rows per transaction (1-50000, default 2000)', batchSize)
    .action((files: string[], o) => run((engine, dataDir) => runImport(engine, dataDir, files, o)));

  program
    .command('export <template>')
    .description('write an export file now: all rows, --since an instant, or --delta since the last export')
    .requiredOption('--firm <firmId>', 'the firm whose rows are exported')
    .option('--out <dir>', "folder to write to (default: the firm's Export folder)")
    .option('--since <iso>', 'only rows changed since this ISO 8601 instant (no offset: the firm time zone)')
    .option('--delta', "only rows changed since this template's last successful export")
    .option('--json', 'print {file, template, rows, runId, ...} as JSON')
    .action((template: string, o) => run((engine, dataDir) => runExport(engine, dataDir, template, o)));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  endOutputQuietlyWhenClosed();
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      code = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (isCaseportError(e)) {
      warn(`caseport: ${e.message}`);
      code = USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.failure;
    } else {
      const why = e instanceof Error ? e.message : String(e);
      warn(`caseport: internal error: ${why}`);
      if (process.env.CASEPORT_DEBUG && e instanceof Error) warn(e.stack ?? '');
      code = EXIT.failure;
    }
  }
  // Output the user asked for that could not be written (not a reader that stopped early) is a failure.
  process.exitCode = code === EXIT.ok && outputFailed() ? EXIT.failure : code;
}
