// The SFTP tests' site: the real one (ledgerSite over a SQLite store and its file store), with what the
// tests do around it: add firms, place result and export files, read what was received.

import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findOutput, listFolder, storeOutput } from '../src/ledger/files.js';
import { ledgerSite } from '../src/server/site-backend.js';
import type { SiteBackend, SiteFolder } from '../src/sftp/site.js';
import { openFileStore } from '../src/store/file-store.js';
import { addFirm, openStore } from '../src/store/index.js';
import { readAll } from './helpers.js';

export interface TestFirm {
  id: string;
  password?: string;
  publicKeys?: string[];
}

export interface ReceivedUpload {
  firmId: string;
  name: string;
  size: number;
}

/** The backend and what the tests do around it: add firms, place files, see what was received. */
export interface SiteFixture {
  backend: SiteBackend;
  addFirm(firm: TestFirm): Promise<void>;
  putFile(firmId: string, folder: SiteFolder, name: string, bytes: Buffer | string): Promise<void>;
  /** A file's bytes as the site holds it; undefined when there is none. */
  readFile(firmId: string, folder: SiteFolder, name: string): Promise<Buffer | undefined>;
  /** Every upload received (receive() resolved), in order. */
  received: ReceivedUpload[];
  close(): Promise<void>;
}

export async function makeLedgerBackend(dir: string): Promise<SiteFixture> {
  const engine = await openStore({ dataDir: dir });
  const store = openFileStore(engine, dir);
  const site = ledgerSite(engine, store);
  const received: ReceivedUpload[] = [];
  const scratch = mkdtempSync(path.join(dir, 'put-'));
  let n = 0;
  const backend: SiteBackend = {
    ...site,
    async receive(firmId, name, localPath, size) {
      await site.receive(firmId, name, localPath, size);
      received.push({ firmId, name, size });
    },
  };
  return {
    backend,
    received,
    async addFirm(f) {
      await addFirm(engine, {
        id: f.id,
        name: f.id,
        sftpPassword: f.password,
        sftpPublicKey: f.publicKeys?.join('\n'),
      });
    },
    async putFile(firmId, folder, name, bytes) {
      if (folder === 'Import') throw new Error('test site: files reach Import by upload only');
      const local = path.join(scratch, String(n++));
      writeFileSync(local, bytes);
      await engine.db
        .transaction()
        .execute((trx) => storeOutput(trx, store, { firmId, folder, name, localPath: local }));
    },
    async readFile(firmId, folder, name) {
      if (folder === 'Import') {
        const f = (await listFolder(engine, firmId, 'Import')).filter((x) => x.name === name).pop();
        return f?.content_key ? readAll(store.read(f.content_key)) : undefined;
      }
      const f = await findOutput(engine, firmId, folder, name);
      return f?.content_key ? readAll(store.read(f.content_key)) : undefined;
    },
    close: () => engine.close(),
  };
}
