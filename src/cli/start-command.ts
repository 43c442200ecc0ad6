// `caseport start`: the first start on the embedded default. Creates the store, a demo firm with its
// SFTP credentials printed once, its folders, loads its petitions and custom fields, and imports the
// sample files dropped in its Import folder, moving each processed file to Archive.

import { randomBytes } from 'node:crypto';
import { copyFile, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFolder } from '../folders.js';
import { importFile } from '../ingest/index.js';
import { makeFirmFolders, spoolFolder } from '../paths.js';
import { addFirm, type Engine, findFirm, hashPassword } from '../store/index.js';
import { FIRM_LIST_TEMPLATES } from '../templates/index.js';
import { printSummary, runOrder } from './import-command.js';
import { EXIT, say } from './output.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
export const DEMO_FIRM = 'demo';

export async function startDemo(engine: Engine, dataDir: string): Promise<number> {
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
  const files = (await readdir(folders.import)).filter((f) => f.toLowerCase().endsWith('.csv'));
  if (files.length === 0)
    say(`No files waiting in ${folders.import}: drop template files there and run start again.`);
  let worst: number = EXIT.ok;
  await makeFolder(folders.archive);
  for (const f of runOrder(files.map((x) => path.join(folders.import, x)))) {
    const r = await importFile(engine, {
      firmId: DEMO_FIRM,
      file: f,
      resultDir: folders.results,
      spoolDir: spoolFolder(dataDir),
    });
    printSummary(r);
    // An interrupted file stays in Import to be retried (e.g. once the allowance is raised).
    if (r.status !== 'interrupted') await rename(f, path.join(folders.archive, path.basename(f)));
    else say(`  kept in ${folders.import} to be retried`);
    if (r.status === 'interrupted') worst = EXIT.interrupted;
    else if (r.status === 'incomplete' && worst === EXIT.ok) worst = EXIT.incomplete;
  }
  say(`Processed files are in ${folders.archive}; result files for rejected rows in ${folders.results}.`);
  say('Next: caseport import <file> --firm demo · caseport kb list countries · caseport --help');
  return worst === EXIT.interrupted ? worst : EXIT.ok;
}
