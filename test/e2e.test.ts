// End to end in headless Chromium (Debian's chromium, driven by playwright-core), against `caseport
// serve` as a real process on both engines: sign in, upload a file over SFTP that becomes Incomplete,
// find it in Need Attention, open its errors, download its result file, comment, acknowledge it and
// see it leave the list; then open a client's record and see the field a run changed in its audit
// trail. Every page is checked for horizontal scrolling at 1280 px, and on SQLite each page's screenshot
// is saved into docs/screenshots/ (the README shows them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { header, rowOf, templateNamed } from './fixtures.js';
import { ENGINES, openTestStore, type TestStore, tempDir, writeCsv } from './helpers.js';
import {
  BIN,
  caseport,
  type ServerProcess,
  type SftpSession,
  sftpLogin,
  startProcess,
  upload,
  waitFor,
} from './server-processes.js';

const CHROMIUM = process.env.CASEPORT_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/screenshots');
const PASSWORD = 'a long enough password';
const employers = templateNamed('company_Details_import');
const clients = templateNamed('fn_Details_Data_import');

for (const kind of ENGINES) {
  describe(`reports in Chromium (${kind})`, () => {
    let s: TestStore;
    let g: string[];
    let server: ServerProcess;
    let site: SftpSession;
    let browser: Browser;
    let page: Page;
    let base: string;
    const dir = tempDir();

    before(async () => {
      assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install chromium)`);
      s = await openTestStore(kind);
      g = ['--data', s.dataDir, ...(s.dbUrl ? ['--db', s.dbUrl] : [])];
      const ok = (r: { code: number | null; err: string }) => assert.equal(r.code, 0, r.err);
      ok(
        caseport(
          g,
          'firm',
          'add',
          'acme',
          '--name',
          'Acme Immigration LLP',
          '--sftp-password',
          'pw-acme',
          '--record-limit',
          '50000',
        ),
      );
      ok(caseport(g, 'task', 'add', 'acme', '--kind', 'import', '--on-arrival'));
      const add = spawnWithStdin(
        g,
        ['user', 'add', 'hr@acme.example', '--firm', 'acme', '--password-stdin'],
        `${PASSWORD}\n`,
      );
      ok(add);
      server = await startProcess(g, [
        'serve',
        '--sftp-port',
        '0',
        '--http-port',
        '0',
        '--host',
        '127.0.0.1',
      ]);
      base = `http://127.0.0.1:${server.httpPort}`;
      site = await sftpLogin(server.sftpPort!, 'acme', 'pw-acme');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = await (
        await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
      ).newPage();
    });
    after(async () => {
      await browser?.close();
      site?.end();
      await server?.stop();
      await s?.cleanup();
    });

    /** The page fits 1280 px (no horizontal scrolling); on SQLite its screenshot is saved. */
    async function checkPage(name: string, screenshot = true) {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 1280, `${name}: ${width} px wide at 1280`);
      if (kind === 'sqlite' && screenshot) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
      }
    }

    async function uploadAndWait(name: string, rows: string[][], t = employers) {
      await upload(site, writeCsv(dir, name, [header(t), ...rows]), `/Import/${name}`);
      await waitFor(`${name} processed`, () => {
        const r = caseport(g, 'runs', '--firm', 'acme', '--json');
        const runs = JSON.parse(r.out || '[]') as Array<{ file: string; status: string }>;
        return runs.some(
          (x) => x.file === name && ['completed', 'incomplete', 'interrupted'].includes(x.status),
        );
      });
    }

    test("sign in, review an Incomplete file, download its result, comment, acknowledge; a client's audit trail", async () => {
      await page.goto(`${base}/f/acme/attention`);
      assert.match(page.url(), /\/login/, 'signing in first');
      await checkPage('login');
      await page.getByLabel('E-mail').fill('hr@acme.example');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/f\/acme\/attention/);
      await page.getByText('Nothing needs attention').waitFor();

      await uploadAndWait('company_Details_import_20261120.csv', [
        rowOf(employers, { EmployerID: 'ACME' }),
        rowOf(employers, { EmployerID: 'BAD1', FEIN: '123456789' }),
        rowOf(employers, { EmployerID: 'BAD2', Country: 'Atlantis' }),
      ]);
      await page.reload();
      const link = page.getByRole('link', { name: 'company_Details_import_20261120.csv' });
      await link.waitFor();
      await checkPage('need-attention');
      await link.click();
      await page.getByRole('heading', { name: 'Errors (2)' }).waitFor();
      assert.ok(await page.getByRole('cell', { name: 'Atlantis', exact: true }).isVisible());
      await checkPage('file-errors');

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: /Download the result file/ }).click(),
      ]);
      const saved = path.join(dir, 'result.csv');
      await download.saveAs(saved);
      const result = readFileSync(saved, 'utf8');
      assert.match(result, /BAD1/);
      assert.match(result, /Atlantis/);
      assert.doesNotMatch(result, /^ACME,/m, 'only the rejected rows');

      await page.getByLabel('Add a comment').fill('Workday sends FEIN without the dash; fixed in the feed.');
      await page.getByRole('button', { name: 'Add comment' }).click();
      await page.getByText('Workday sends FEIN without the dash').waitFor();
      await page.getByRole('button', { name: 'Acknowledge' }).click();
      await page.waitForURL(/\/attention$/);
      await page.getByText('Nothing needs attention').waitFor();
      assert.equal(await page.getByRole('link', { name: 'company_Details_import_20261120.csv' }).count(), 0);

      // A client, then a change to one of its fields: the audit trail says which run changed it.
      const client = { EmployerID: 'ACME', EmployeeID: 'E1001', FirstName: 'Priya', LastName: 'Sharma' };
      await uploadAndWait(
        'fn_Details_Data_import_20261121.csv',
        [rowOf(clients, { ...client, JobTitle: 'Engineer' })],
        clients,
      );
      await uploadAndWait(
        'fn_Details_Data_import_20261122.csv',
        [rowOf(clients, { ...client, JobTitle: 'Senior Engineer' })],
        clients,
      );
      await page.getByRole('link', { name: 'Clients' }).click();
      await page.getByLabel('EmployeeID or name').fill('E1001');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: 'Priya Sharma' }).click();
      await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
      const row = page.locator('tr', { hasText: 'JobTitle' }).filter({ hasText: 'Senior Engineer' });
      assert.equal(await row.count(), 1);
      const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
      assert.deepEqual(cells.slice(2, 5), ['JobTitle', 'Engineer', 'Senior Engineer']);
      assert.equal(cells[5], 'fn_Details_Data_import_20261122.csv', 'the file whose run changed it');
      const byFile = row.getByRole('link', { name: 'fn_Details_Data_import_20261122.csv' });
      assert.match((await byFile.getAttribute('href')) ?? '', /^\/f\/acme\/files\/\d+$/);
      await checkPage('client-record');

      for (const [name, label] of [
        ['completed-runs', 'Completed runs'],
        ['upcoming-runs', 'Upcoming runs'],
        ['setup', 'Setup'],
        ['billing', 'Billing'],
        ['templates', 'Templates'],
      ] as const) {
        await page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: label }).click();
        await page
          .getByRole('heading', { level: 1, name: label === 'Templates' ? 'Templates and lists' : label })
          .waitFor();
        await checkPage(name);
      }
      await page.goto(`${base}/account`);
      await checkPage('account');
    });

    test('a 236-character file name and a comment without spaces do not widen any page', async () => {
      const name = `company_Details_import_20261121_${'7'.repeat(200)}.csv`;
      await uploadAndWait(name, [rowOf(employers, { EmployerID: 'LONG1', FEIN: 'not-a-fein' })]);
      await page.goto(`${base}/f/acme/attention`);
      await checkPage('need-attention (long name)', false);
      await page.getByRole('link', { name }).click();
      await page.getByLabel('Add a comment').fill('x'.repeat(3000));
      await page.getByRole('button', { name: 'Add comment' }).click();
      await page.getByText('x'.repeat(3000)).waitFor();
      await checkPage('file (long name and comment)', false);
      for (const p of ['completed', 'billing']) {
        await page.goto(`${base}/f/acme/${p}`);
        await checkPage(`${p} (long name)`, false);
      }
    });

    test('the keyboard reaches sign-in and the navigation', async () => {
      const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      await p.goto(`${base}/login`);
      await p.waitForFunction(() => document.activeElement?.getAttribute('name') === 'email'); // focused on load
      await p.keyboard.type('hr@acme.example');
      await p.keyboard.press('Tab');
      await p.keyboard.type(PASSWORD);
      await p.keyboard.press('Enter');
      await p.waitForURL(/\/f\/acme\/attention/, { timeout: 10_000 }).catch(async (e) => {
        throw new Error(`${e}: at ${p.url()}: ${((await p.textContent('body')) ?? '').slice(0, 300)}`);
      });
      await p.keyboard.press('Tab');
      assert.equal(await p.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      await p.close();
    });
  });
}

/** Runs caseport with text on its standard input (a password). */
function spawnWithStdin(globals: string[], args: string[], input: string) {
  const r = spawnSync(process.execPath, [BIN, ...globals, ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
