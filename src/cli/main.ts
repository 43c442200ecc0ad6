// The caseport command line: parses arguments, runs one command, turns errors into one line and an
// exit code (0 ok, 2 usage, 3 some rows rejected, 4 a file interrupted, 1 anything else).

import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CaseportError, isCaseportError } from '../errors.js';
import { KB_LISTS } from '../kb/entries.js';
import { makeFirmFolders } from '../paths.js';
import { addFirm, type Engine, type Firm, listFirms, updateFirm } from '../store/index.js';
import { addUser } from '../web/accounts.js';
import { type GlobalOptions, withStore } from './context.js';
import { runExport } from './export-command.js';
import { runImport } from './import-command.js';
import { kbImport, kbList } from './kb-command.js';
import { exportCountries } from './kb-export.js';
import { EXIT, endOutputQuietlyWhenClosed, outputFailed, printJson, say, warn } from './output.js';
import { runServe, runWorker } from './serve-command.js';
import { startDemo } from './start-command.js';
import { runsReport, taskAdd, taskList, taskRemove, taskRun } from './task-command.js';

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

function port(v: string): number {
  const n = wholeNumber(v);
  if (n > 65535) throw new InvalidArgumentError('expected a port number (0-65535; 0 picks a free one)');
  return n;
}

function atLeastOne(max: number) {
  return (v: string): number => {
    const n = wholeNumber(v);
    if (n < 1 || n > max) throw new InvalidArgumentError(`expected a number from 1 to ${max}`);
    return n;
  };
}

function count(max: number) {
  return (v: string): number => {
    const n = wholeNumber(v);
    if (n > max) throw new InvalidArgumentError(`expected a number from 0 to ${max}`);
    return n;
  };
}

async function readPublicKey(file: string): Promise<string> {
  const key = (
    await readFile(file, 'utf8').catch(() => {
      throw new CaseportError('CONFIG', `--sftp-key: cannot read ${file}`);
    })
  ).trim();
  const lines = key.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  if (
    lines.length === 0 ||
    !lines.every((l) => /^(ssh-(rsa|ed25519)|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+/.test(l))
  ) {
    throw new CaseportError(
      'CONFIG',
      `--sftp-key: ${file} is not an OpenSSH public key (ssh-ed25519 AAAA...)`,
    );
  }
  return lines.join('\n');
}

function taskIdOf(v: string): number {
  const n = Number(v);
  if (!/^\d{1,15}$/.test(v))
    throw new CaseportError('USAGE', `task id "${v}" is not a number (caseport task list <firm>)`);
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
    .description('first start on the embedded default: store, demo firm, sample import, then the server')
    .option('--no-serve', 'set up and import the samples, then exit')
    .option('--sftp-port <n>', 'SFTP port (env CASEPORT_SFTP_PORT, default 2222)', port)
    .option('--http-port <n>', 'HTTP port (env CASEPORT_HTTP_PORT, default 8080)', port)
    .action((o) => run((engine, dataDir) => startDemo(engine, dataDir, o)));

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
        const key = o.sftpKey ? await readPublicKey(o.sftpKey) : undefined;
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
    .option('--sftp-password <p>', 'SFTP password (stored hashed)')
    .option('--sftp-key <file>', 'SFTP public key file (OpenSSH format; replaces the current keys)')
    .action((id: string, o) =>
      run(async (engine) => {
        const f = await updateFirm(engine, id, {
          zoomNoUpdate: o.zoomNoUpdate,
          recordLimit: o.recordLimit,
          timezone: o.timezone,
          exportDateFormat: o.dateFormat,
          sftpPassword: o.sftpPassword,
          sftpPublicKey: o.sftpKey ? await readPublicKey(o.sftpKey) : undefined,
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

  const user = program.command('user').description('accounts of the reports web app and API');
  user
    .command('add <email>')
    .description('add a firm user (--firm F: sees that firm only) or an operator (--operator: every firm)')
    .option('--firm <firmId>', 'the firm the user belongs to')
    .option('--operator', 'an operator: sets up every firm')
    .option(
      '--password-stdin',
      'read the password from standard input (else one is generated and printed once)',
    )
    .option('--json', 'print JSON')
    .action((email: string, o) =>
      run(async (engine) => {
        const password = o.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
        const r = await addUser(engine, { email, firmId: o.firm, operator: o.operator === true, password });
        const who = r.user.role === 'operator' ? 'operator' : `user of firm ${r.user.firmId}`;
        if (o.json) printJson({ ...r.user, password: password === undefined ? r.password : undefined });
        else {
          say(`added ${r.user.email}, ${who}`);
          if (password === undefined) say(`  password (shown once, stored hashed): ${r.password}`);
        }
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

  program
    .command('serve')
    .description(
      'run the integration server: SFTP site, /health and /metrics, scheduler, workers (until SIGTERM)',
    )
    .option('--sftp-port <n>', 'SFTP port (env CASEPORT_SFTP_PORT, default 2222)', port)
    .option(
      '--http-port <n>',
      'HTTP port for /health and /metrics (env CASEPORT_HTTP_PORT, default 8080)',
      port,
    )
    .option('--host <address>', 'address to listen on (default all)')
    .option(
      '--workers <n>',
      'workers in this process (default 1; 0 = SFTP, HTTP and scheduler only)',
      count(64),
    )
    .action((o) => run((engine, dataDir) => runServe(engine, dataDir, o)));

  program
    .command('worker')
    .description('run workers only: claim files and exports from the shared store (until SIGTERM)')
    .option('--concurrency <n>', 'workers in this process (1-64, default 1)', atLeastOne(64))
    .option('--http-port <n>', "also serve /health and /metrics on this port (this process's counters)", port)
    .option('--host <address>', 'address the HTTP port listens on (default all)')
    .action((o) => run((engine, dataDir) => runWorker(engine, dataDir, o)));

  const task = program.command('task').description("a firm's import and export tasks");
  task
    .command('add <firmId>')
    .description(
      'add a task: --kind import (--on-arrival | --cron EXPR), or --kind export --template T --cron EXPR [--delta]',
    )
    .addOption(
      new Option('--kind <kind>', 'what the task does').choices(['import', 'export']).makeOptionMandatory(),
    )
    .option('--on-arrival', 'import each file as soon as its upload is complete')
    .option('--cron <expr>', 'five-field cron expression in the firm\'s time zone, e.g. "0 2 * * *"')
    .option('--template <name>', 'export template')
    .option('--delta', 'export only rows changed since the last successful export of this task')
    .option('--json', 'print JSON')
    .action((firmId: string, o) => run((engine) => taskAdd(engine, firmId, o)));
  task
    .command('list <firmId>')
    .description("list a firm's tasks with their next run")
    .option('--json', 'print JSON')
    .action((firmId: string, o) => run((engine) => taskList(engine, firmId, o)));
  task
    .command('run <firmId> <taskId>')
    .description('run a task now: its job is queued for the workers')
    .option('--json', 'print JSON')
    .action((firmId: string, id: string, o) => run((engine) => taskRun(engine, firmId, taskIdOf(id), o)));
  task
    .command('remove <firmId> <taskId>')
    .description('remove a task (its past runs stay)')
    .action((firmId: string, id: string) => run((engine) => taskRemove(engine, firmId, taskIdOf(id))));

  program
    .command('runs')
    .description("a firm's runs: every file, what needs attention, completed files, or upcoming runs")
    .requiredOption('--firm <firmId>', 'the firm')
    .addOption(
      new Option('--view <view>', 'which report').choices(['need-attention', 'completed', 'upcoming']),
    )
    .option('--limit <n>', 'most files listed (default 100)', count(100000))
    .option('--json', 'print JSON')
    .action((o) => run((engine) => runsReport(engine, o)));

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

/** Standard input as text (a password piped in), at most 4 KB. */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.length > 4096) throw new CaseportError('USAGE', 'standard input: a password is at most 4 KB');
  }
  return text;
}
