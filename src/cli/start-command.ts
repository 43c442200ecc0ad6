// `caseport start`: the first start on the embedded default, then the server. Creates the store, a demo
// firm with its SFTP password printed once and an on-arrival import task (uploads are processed within
// seconds), loads its petitions, case managers and custom fields, imports the sample files (and any
// file dropped in its local Import folder) through the same ledger the server uses, then serves the
// SFTP site until Ctrl-C, printing how to upload with `sftp`.

import { randomBytes } from 'node:crypto';
import { copyFile, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFolder } from '../folders.js';
import { importFile } from '../ingest/index.js';
import { makeFirmFolders, spoolFolder } from '../paths.js';
import { addTask, listTasks } from '../schedule/tasks.js';
import { addFirm, type Engine, findFirm, hashPassword } from '../store/index.js';
import { FIRM_LIST_TEMPLATES } from '../templates/index.js';
import { addUser, findUserByEmail } from '../web/accounts.js';
import { runImport } from './import-command.js';
import { EXIT, say } from './output.js';
import { runServe, type ServeCommandOptions } from './serve-command.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
export const DEMO_FIRM = 'demo';
export const DEMO_USER = 'demo@caseport.local';

export interface StartOptions extends ServeCommandOptions {
  /** Set up and import, then exit instead of serving. */
  serve?: boolean;
}

export async function startDemo(engine: Engine, dataDir: string, o: StartOptions = {}): Promise<number> {
  say(`Caseport store: ${engine.location}`);
  let firm = await findFirm(engine, DEMO_FIRM);
  const folders = await makeFirmFolders(dataDir, DEMO_FIRM);
  if (!firm) {
    const password = randomBytes(12).toString('base64url');
    firm = await addFirm(engine, {
      id: DEMO_FIRM,
      name: 'Demo Immigration LLP',
      zoomNoUpdate: true,
      recordLimit: 100000,
    });
    await engine.db
      .updateTable('firms')
      .set({ sftp_password_hash: hashPassword(password) })
      .where('id', '=', DEMO_FIRM)
      .execute();
    say('Created the demo firm. Its SFTP credentials (shown once, stored hashed):');
    say(`  user: ${DEMO_FIRM}   password: ${password}`);
    for (const t of FIRM_LIST_TEMPLATES) {
      const r = await importFile(engine, {
        firmId: DEMO_FIRM,
        file: path.join(EXAMPLES, 'kb', `${t.name}.csv`),
        template: t,
        resultDir: folders.results,
        spoolDir: spoolFolder(dataDir),
      });
      say(`  loaded ${t.name}: ${r.rows.created} entries`);
    }
    for (const f of await readdir(path.join(EXAMPLES, 'import'))) {
      await copyFile(path.join(EXAMPLES, 'import', f), path.join(folders.import, f));
    }
    say(`Sample files placed in ${folders.import}`);
  }
  // A user to sign in to the reports with (created once; its password is shown only now).
  let demoLogin: { email: string; password: string } | undefined;
  if (!(await findUserByEmail(engine, DEMO_USER))) {
    const { password } = await addUser(engine, { email: DEMO_USER, firmId: DEMO_FIRM });
    demoLogin = { email: DEMO_USER, password };
  }
  if (!(await listTasks(engine, DEMO_FIRM)).some((t) => t.onArrival)) {
    await addTask(engine, DEMO_FIRM, { kind: 'import', onArrival: true });
  }
  const files = (await readdir(folders.import)).filter((f) => f.toLowerCase().endsWith('.csv'));
  let code: number = EXIT.ok;
  if (files.length === 0) say(`No files waiting in ${folders.import}.`);
  else {
    await makeFolder(folders.archive);
    code = await runImport(
      engine,
      dataDir,
      files.map((x) => path.join(folders.import, x)),
      {
        firm: DEMO_FIRM,
        // An interrupted file stays in Import to be retried (e.g. once the allowance is raised).
        async onResult(file, r) {
          if (r.status !== 'interrupted') await rename(file, path.join(folders.archive, path.basename(file)));
          else say(`  kept in ${folders.import} to be retried`);
        },
      },
    );
    say(`Processed files are in ${folders.archive}; result files for rejected rows in ${folders.results}.`);
  }
  if (demoLogin) {
    say('Created a user of the demo firm for the reports web app (password shown once, stored hashed):');
    say(`  e-mail: ${demoLogin.email}   password: ${demoLogin.password}`);
  }
  if (o.serve === false) {
    say('Next: caseport serve · caseport import <file> --firm demo · caseport --help');
    return code === EXIT.interrupted ? code : EXIT.ok;
  }
  return runServe(engine, dataDir, {
    ...o,
    banner: ({ sftpPort, httpPort }) => {
      say('');
      say(`Caseport is serving (Ctrl-C stops it). Upload a file to the demo firm's Import folder:`);
      say(`  sftp -P ${sftpPort} ${DEMO_FIRM}@localhost`);
      say('  sftp> cd Import');
      say('  sftp> put examples/import/fn_Passport_Details_import_20261120.csv');
      say(`It is processed within seconds; see the outcome with`);
      say(`  ./bin/caseport.js runs --firm ${DEMO_FIRM}          (or --view need-attention)`);
      say(`and download result files from the Results folder (sftp> cd /Results).`);
      say(
        `Reports: http://localhost:${httpPort}/  (sign in as ${DEMO_USER}${demoLogin ? ', password above' : ''})`,
      );
      say(`Health: http://localhost:${httpPort}/health`);
    },
  });
}
