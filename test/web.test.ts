// The reports web app and API on both engines, against the real server (serve() with a worker and its
// HTTP port): signing in, Need Attention, a file's errors, result file, comments and acknowledgement,
// API tokens; and what must be refused: no session, no CSRF token, too many failed sign-ins, another
// firm's anything (404, the same as an id that does not exist), an operator's page for a firm user.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import pino from 'pino';
import { importFile } from '../src/ingest/index.js';
import { receiveFile } from '../src/ledger/files.js';
import { addTask, listTasks } from '../src/schedule/tasks.js';
import { type Running, serve } from '../src/server/serve.js';
import { addFirm, findFirm, updateFirm } from '../src/store/index.js';
import { IMPORT_TEMPLATES } from '../src/templates/index.js';
import { addUser, createApiToken, findUserByEmail } from '../src/web/accounts.js';
import { header, rowOf, seedFirm, templateNamed } from './fixtures.js';
import { ENGINES, openTestStore, type TestStore, tempDir, writeCsv, writeRaw } from './helpers.js';
import { api, Browser, csrfOf } from './web-client.js';

const employers = templateNamed('company_Details_import');
const log = pino({ level: 'silent' });
const PASSWORD = 'correct horse battery';

for (const kind of ENGINES) {
  describe(`reports web app and API (${kind})`, () => {
    let s: TestStore;
    let server: Running;
    let base: string;
    const dir = tempDir();
    const files: Record<string, number> = {};

    /** Uploads a file with one good and `bad` rejected rows to a firm; waits for its final status. */
    async function incompleteFile(firmId: string, name: string, bad = 1) {
      const rows = [rowOf(employers, { EmployerID: `${firmId.toUpperCase()}1` })];
      for (let i = 0; i < bad; i++) rows.push(rowOf(employers, { EmployerID: `B${i}`, FEIN: `bad-${i}` }));
      return processed(firmId, name, employers, rows);
    }

    /** Uploads a file to a firm's Import folder and waits for its final status. */
    async function processed(firmId: string, name: string, t: typeof employers, rows: string[][]) {
      const f = await receiveFile(s.engine, server.store, {
        firmId,
        name,
        localPath: writeCsv(dir, `${firmId}-${name}`, [header(t), ...rows]),
      });
      for (let i = 0; i < 400; i++) {
        const row = await s.engine.db
          .selectFrom('files')
          .select('status')
          .where('id', '=', f.id)
          .executeTakeFirstOrThrow();
        if (['completed', 'incomplete', 'interrupted'].includes(row.status)) return Number(f.id);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name} was not processed`);
    }

    before(async () => {
      s = await openTestStore(kind);
      for (const id of ['acme', 'beta']) {
        await addFirm(s.engine, { id, name: id === 'acme' ? 'Acme Corp' : 'Beta LLP', recordLimit: 1000 });
        await addTask(s.engine, id, { kind: 'import', onArrival: true });
      }
      await addUser(s.engine, { email: 'ann@acme.example', firmId: 'acme', password: PASSWORD });
      await addUser(s.engine, { email: 'bob@beta.example', firmId: 'beta', password: PASSWORD });
      await addUser(s.engine, { email: 'ops@caseport.example', operator: true, password: PASSWORD });
      server = await serve({
        engine: s.engine,
        dataDir: s.dataDir,
        log,
        httpPort: 0,
        host: '127.0.0.1',
        workers: 1,
        scheduler: false,
        pollMs: 50,
      });
      base = `http://127.0.0.1:${server.httpPort}`;
      files.acme = await incompleteFile('acme', 'company_Details_import_20261120.csv', 3);
      files.beta = await incompleteFile('beta', 'company_Details_import_20261121.csv');
    });
    after(async () => {
      await server?.close();
      await s?.cleanup();
    });

    const signedIn = async (email: string) => {
      const b = new Browser(base);
      const r = await b.login(email, PASSWORD);
      assert.equal(r.status, 303, r.text);
      return b;
    };

    test('a page without a session goes to sign-in; the API without a token is 401', async () => {
      const b = new Browser(base);
      const r = await b.get('/f/acme/attention');
      assert.equal(r.status, 303);
      assert.match(r.location ?? '', /^\/login\?next=/);
      assert.equal((await api(base, undefined, 'GET', '/api/v1/me')).status, 401);
      assert.equal((await api(base, 'cpt_not-a-token', 'GET', '/api/v1/firms/acme/attention')).status, 401);
      // A session cookie does not authenticate the API (a browser sends it by itself).
      const ann = await signedIn('ann@acme.example');
      const cookie = [...ann.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const viaCookie = await fetch(`${base}/api/v1/me`, { headers: { cookie } });
      assert.equal(viaCookie.status, 401);
    });

    test('a wrong password is refused, and the session cookie is HttpOnly and SameSite', async () => {
      const b = new Browser(base);
      const bad = await b.login('ann@acme.example', 'wrong password!');
      assert.equal(bad.status, 401);
      assert.match(bad.text, /do not match an account/);
      const page = await b.get('/login');
      const r = await b.request('POST', '/login', {
        form: { _csrf: csrfOf(page.text), email: 'ANN@acme.example', password: PASSWORD },
      });
      assert.equal(r.status, 303);
      const cookie = r.headers.getSetCookie().find((c) => c.startsWith('caseport_session='));
      assert.ok(cookie, 'a session cookie is set');
      assert.match(cookie!, /HttpOnly/i);
      assert.match(cookie!, /SameSite=Lax/i);
    });

    test("Need Attention lists the firm's Incomplete file with its counts, and not another firm's", async () => {
      const ann = await signedIn('ann@acme.example');
      const home = await ann.get('/');
      assert.equal(home.location, '/f/acme/attention');
      const r = await ann.get('/f/acme/attention');
      assert.equal(r.status, 200);
      assert.match(r.text, /company_Details_import_20261120\.csv/);
      assert.doesNotMatch(r.text, /company_Details_import_20261121\.csv/);
      assert.match(r.text, /Incomplete/);
      const filtered = await ann.get('/f/acme/attention?status=interrupted');
      assert.doesNotMatch(filtered.text, /company_Details_import_20261120\.csv/);
      assert.match(filtered.text, /No files match these filters/);
    });

    test("a file's errors, result file and comments; acknowledged, it leaves the list and stays findable", async () => {
      const ann = await signedIn('ann@acme.example');
      const path = `/f/acme/files/${files.acme}`;
      const page = await ann.get(path);
      assert.equal(page.status, 200);
      assert.match(page.text, /Errors \(3\)/);
      assert.match(page.text, /FEIN/);
      assert.match(page.text, /bad-0/);
      const result = await ann.get(`${path}/result`);
      assert.equal(result.status, 200);
      assert.match(result.headers.get('content-disposition') ?? '', /attachment/);
      assert.equal(result.text.trim().split(/\r?\n/).length, 4, 'header and the three rejected rows');
      assert.match(result.text, /bad-2/);

      const comment = await ann.submit(path, `${path}/comments`, {
        body: 'Fixed the FEINs in Workday <b>today</b>',
      });
      assert.equal(comment.status, 303);
      const after = await ann.get(path);
      assert.match(after.text, /Fixed the FEINs in Workday &lt;b&gt;today&lt;\/b&gt;/, 'kept, escaped');
      assert.match(after.text, /ann@acme\.example/);

      const ack = await ann.submit(path, `${path}/acknowledge`);
      assert.equal(ack.status, 303);
      const list = await ann.get('/f/acme/attention');
      assert.doesNotMatch(list.text, /company_Details_import_20261120\.csv/);
      assert.match(list.text, /Nothing needs attention/);
      const findable = await ann.get('/f/acme/attention?acknowledged=1');
      assert.match(findable.text, /company_Details_import_20261120\.csv/);
      assert.match((await ann.get(path)).text, /acknowledged/);
    });

    test("a form without its CSRF token, or with another session's, is refused", async () => {
      const ann = await signedIn('ann@acme.example');
      const bob = await signedIn('bob@beta.example');
      const path = `/f/beta/files/${files.beta}`;
      const none = await bob.request('POST', `${path}/comments`, { form: { body: 'no token' } });
      assert.equal(none.status, 403);
      const annToken = csrfOf((await ann.get('/account')).text);
      const foreign = await bob.request('POST', `${path}/comments`, { form: { _csrf: annToken, body: 'x' } });
      assert.equal(foreign.status, 403);
      const loginNoToken = await new Browser(base).request('POST', '/login', {
        form: { email: 'ann@acme.example', password: PASSWORD },
      });
      assert.equal(loginNoToken.status, 403);
      const comments = await s.engine.db
        .selectFrom('file_comments')
        .select('body')
        .where('file_id', '=', files.beta)
        .execute();
      assert.deepEqual(comments, []);
    });

    test("firm A's user gets 404 for firm B's pages, files, errors, result, comments and acknowledgement", async () => {
      const ann = await signedIn('ann@acme.example');
      const b = `/f/beta/files/${files.beta}`;
      for (const p of ['/f/beta/attention', b, `${b}/result`, `${b}?page=2`, '/firms']) {
        assert.equal((await ann.get(p)).status, 404, p);
      }
      // Beta's file under Acme's own path is no file of Acme's.
      assert.equal((await ann.get(`/f/acme/files/${files.beta}`)).status, 404);
      assert.equal((await ann.get(`/f/acme/files/${files.beta}/result`)).status, 404);
      const csrf = csrfOf((await ann.get('/account')).text);
      for (const p of [
        `${b}/comments`,
        `${b}/acknowledge`,
        `/f/acme/files/${files.beta}/comments`,
        `/f/acme/files/${files.beta}/acknowledge`,
      ]) {
        const r = await ann.request('POST', p, { form: { _csrf: csrf, body: 'sneaky' } });
        assert.equal(r.status, 404, p);
      }
      const still = await s.engine.db
        .selectFrom('files')
        .select(['acknowledged_at'])
        .where('id', '=', files.beta)
        .executeTakeFirstOrThrow();
      assert.equal(still.acknowledged_at, null);
      assert.equal(
        (
          await s.engine.db
            .selectFrom('file_comments')
            .select('id')
            .where('file_id', '=', files.beta)
            .execute()
        ).length,
        0,
      );
    });

    test('API tokens: created once on the account page, scoped to the firm, refused once revoked', async () => {
      const ann = await signedIn('ann@acme.example');
      const made = await ann.submit('/account', '/account/tokens', { name: 'nightly script' });
      assert.equal(made.status, 303, 'the POST redirects: a reload makes no second token');
      assert.equal(made.location, '/account');
      const shown = await ann.get('/account');
      const token = /<code id="new-token">([^<]+)<\/code>/.exec(shown.text)?.[1];
      assert.ok(token, 'the token is shown once');
      assert.doesNotMatch((await ann.get('/account')).text, new RegExp(token!), 'and not again');
      assert.equal(
        (
          await s.engine.db
            .selectFrom('api_tokens')
            .select('name')
            .where('name', '=', 'nightly script')
            .execute()
        ).length,
        1,
      );
      const stored = await s.engine.db.selectFrom('api_tokens').select('token_hash').execute();
      assert.ok(
        stored.every((t) => t.token_hash !== token),
        'only a hash is kept',
      );

      const me = await api(base, token, 'GET', '/api/v1/me');
      assert.deepEqual(me.body, { email: 'ann@acme.example', role: 'firm', firmId: 'acme' });
      const list = await api(base, token, 'GET', '/api/v1/firms/acme/attention?acknowledged=true');
      assert.equal(list.status, 200);
      assert.ok((list.body.files as Array<{ id: number }>).some((f) => f.id === files.acme));
      const errors = await api(
        base,
        token,
        'GET',
        `/api/v1/firms/acme/files/${files.acme}/errors?limit=2&offset=1`,
      );
      assert.equal(errors.status, 200);
      assert.equal(errors.body.total, 3);
      assert.deepEqual(
        (errors.body.errors as Array<{ value: string }>).map((e) => e.value),
        ['bad-1', 'bad-2'],
      );

      const other = `/api/v1/firms/beta/files/${files.beta}`;
      for (const [method, p, body] of [
        ['GET', '/api/v1/firms/beta/attention'],
        ['GET', other],
        ['GET', `${other}/errors`],
        ['GET', `${other}/result`],
        ['GET', `${other}/comments`],
        ['POST', `${other}/comments`, { body: 'sneaky' }],
        ['POST', `${other}/acknowledge`],
        ['GET', `/api/v1/firms/acme/files/${files.beta}`],
        ['POST', `/api/v1/firms/acme/files/${files.beta}/acknowledge`],
      ] as const) {
        assert.equal((await api(base, token, method, p, body)).status, 404, `${method} ${p}`);
      }
      const bad = await api(base, token, 'GET', '/api/v1/firms/acme/attention?limit=0');
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.message), /limit/);
      const blank = await api(base, token, 'POST', `/api/v1/firms/acme/files/${files.acme}/comments`, {
        body: '',
      });
      assert.equal(blank.status, 400);

      const id = /action="\/account\/tokens\/(\d+)\/revoke"/.exec((await ann.get('/account')).text)?.[1];
      assert.equal((await ann.submit('/account', `/account/tokens/${id}/revoke`)).status, 303);
      assert.equal((await api(base, token, 'GET', '/api/v1/me')).status, 401);
    });

    test('an operator sees every firm; the OpenAPI document is served', async () => {
      const ops = await signedIn('ops@caseport.example');
      assert.equal((await ops.get('/')).location, '/firms');
      const firms = await ops.get('/firms');
      assert.match(firms.text, /Acme Corp/);
      assert.match(firms.text, /Beta LLP/);
      assert.equal((await ops.get(`/f/beta/files/${files.beta}`)).status, 200);
      assert.equal((await ops.get('/f/nosuch/attention')).status, 404);
      const doc = await fetch(`${base}/api/openapi.json`).then((r) => r.json());
      assert.equal(doc.openapi, '3.0.3');
      assert.ok(doc.paths['/api/v1/firms/{firm}/files/{id}/errors'], 'routes are documented');
      assert.equal((await fetch(`${base}/api/docs/`)).status, 200);
    });

    test('Completed Runs shows each run with its files and counts; Upcoming Runs the next scheduled runs', async () => {
      // A new firm has the default daily import at 02:00 in its time zone, and here an on-arrival task.
      const ann = await signedIn('ann@acme.example');
      const done = await ann.get('/f/acme/completed');
      assert.equal(done.status, 200);
      assert.match(done.text, /Import run \d+/);
      assert.match(done.text, /On arrival/);
      assert.match(done.text, /company_Details_import_20261120\.csv/);
      assert.doesNotMatch(done.text, /company_Details_import_20261121\.csv/, "not beta's");
      const up = await ann.get('/f/acme/upcoming');
      assert.equal(up.status, 200);
      assert.match(up.text, /processed within seconds of arrival/);
      assert.match(up.text, /America\/Los_Angeles/);
      assert.match(up.text, /2:00 AM/, "02:00 in the firm's time");
      assert.match(up.text, /(09|10):00 UTC/, 'and in UTC (PST or PDT)');

      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const token = (await createApiToken(s.engine, annUser, 't')).token;
      const jobs = await api(base, token, 'GET', '/api/v1/firms/acme/completed');
      assert.equal(jobs.status, 200);
      const files = (
        jobs.body.jobs as Array<{ files: Array<{ name: string; rows: { rejected: number } }> }>
      ).flatMap((j) => j.files);
      assert.ok(files.some((f) => f.name === 'company_Details_import_20261120.csv' && f.rows.rejected === 3));
      const upcoming = await api(base, token, 'GET', '/api/v1/firms/acme/upcoming');
      assert.equal(upcoming.status, 200);
      assert.equal((upcoming.body.runs as unknown[]).length, 5);
      assert.equal(upcoming.body.timezone, 'America/Los_Angeles');
      for (const p of ['/api/v1/firms/beta/completed', '/api/v1/firms/beta/upcoming']) {
        assert.equal((await api(base, token, 'GET', p)).status, 404, p);
      }
      for (const p of ['/f/beta/completed', '/f/beta/upcoming'])
        assert.equal((await ann.get(p)).status, 404, p);
    });

    test('Billing shows the allowance, used and left, a chart of records per day, and records per run', async () => {
      const ann = await signedIn('ann@acme.example');
      const page = await ann.get('/f/acme/billing');
      assert.equal(page.status, 200);
      assert.match(page.text, /1,000 records/);
      assert.match(page.text, /<svg[^>]+role="img"/);
      assert.match(page.text, /company_Details_import_20261120\.csv/);
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'billing')).token;
      const b = await api(base, token, 'GET', '/api/v1/firms/acme/billing');
      assert.equal(b.status, 200);
      assert.equal(b.body.allowance, 1000);
      assert.equal(b.body.used, 4, "the acme file's four rows (beta's are beta's)");
      assert.equal(b.body.left, 996);
      const days = b.body.days as Array<{ day: string; records: number }>;
      assert.equal(
        days.reduce((a, d) => a + d.records, 0),
        4,
      );
      assert.equal((b.body.runs as unknown[]).length, 1);
      assert.equal((await api(base, token, 'GET', '/api/v1/firms/beta/billing')).status, 404);
      assert.equal((await ann.get('/f/beta/billing')).status, 404);
    });

    test("a client's page shows its records and the audit trail of the field a run changed; search finds it", async () => {
      const clients = templateNamed('fn_Details_Data_import');
      const passports = templateNamed('fn_Passport_Details_import');
      const client = { EmployerID: 'ACME1', EmployeeID: 'E1001', FirstName: 'Priya', LastName: 'Sharma' };
      await processed('acme', 'fn_Details_Data_import_20261122.csv', clients, [
        rowOf(clients, { ...client, JobTitle: 'Engineer' }),
      ]);
      await processed('acme', 'fn_Passport_Details_import_20261122.csv', passports, [
        rowOf(passports, { EmployerID: 'ACME1', EmployeeID: 'E1001', PassportNumber: 'Z1234567' }),
      ]);
      const second = await processed('acme', 'fn_Details_Data_import_20261123.csv', clients, [
        rowOf(clients, { ...client, JobTitle: 'Staff <Engineer>' }),
      ]);
      const run = await s.engine.db
        .selectFrom('files')
        .select('run_id')
        .where('id', '=', second)
        .executeTakeFirstOrThrow();

      const ann = await signedIn('ann@acme.example');
      for (const q of ['E1001', 'sha', 'PRIYA']) {
        const found = await ann.get(`/f/acme/clients?q=${encodeURIComponent(q)}`);
        assert.match(found.text, /Priya Sharma/, q);
      }
      assert.match(
        (await ann.get('/f/acme/clients?q=%25')).text,
        /No client matches/,
        'a % is a character, not a wildcard',
      );
      const id = /href="\/f\/acme\/clients\/(\d+)"/.exec(
        (await ann.get('/f/acme/clients?q=E1001')).text,
      )?.[1];
      const page = await ann.get(`/f/acme/clients/${id}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /Z1234567/, 'its passport');
      assert.match(
        page.text,
        /JobTitle<\/td>\s*<td>Engineer<\/td>\s*<td>Staff &lt;Engineer&gt;<\/td>/,
        'the change, from what to what',
      );
      assert.match(
        page.text,
        new RegExp(`<a href="/f/acme/files/${second}">fn_Details_Data_import_20261123\\.csv</a>`),
        'by the file whose run changed it',
      );

      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'records')).token;
      const hits = await api(base, token, 'GET', '/api/v1/firms/acme/clients?q=E1001');
      assert.equal((hits.body.clients as unknown[]).length, 1);
      const rec = await api(base, token, 'GET', `/api/v1/firms/acme/clients/${id}`);
      assert.equal(rec.status, 200);
      const audit = rec.body.audit as Array<{ column: string; old: string; now: string; runId: number }>;
      assert.deepEqual(
        audit.map((a) => [a.column, a.old, a.now, a.runId]),
        [['JobTitle', 'Engineer', 'Staff <Engineer>', run.run_id]],
      );

      const bob = await signedIn('bob@beta.example');
      assert.equal((await bob.get(`/f/beta/clients/${id}`)).status, 404, "acme's client under beta's path");
      assert.equal((await bob.get(`/f/acme/clients/${id}`)).status, 404);
      assert.doesNotMatch((await bob.get('/f/beta/clients?q=E1001')).text, /Priya/);
      const bobUser = (await findUserByEmail(s.engine, 'bob@beta.example'))!;
      const bobToken = (await createApiToken(s.engine, bobUser, 'records')).token;
      assert.equal((await api(base, bobToken, 'GET', `/api/v1/firms/beta/clients/${id}`)).status, 404);
      assert.equal((await api(base, bobToken, 'GET', `/api/v1/firms/acme/clients/${id}`)).status, 404);
    });

    test('Templates and lists: every column described; each sample template imports cleanly; lists download', async () => {
      const ops = await signedIn('ops@caseport.example');
      await addFirm(s.engine, { id: 'gamma', name: 'Gamma' });
      await seedFirm(s.engine, 'gamma'); // the employer, contacts, client and lists the sample rows name
      const listPage = await ops.get('/f/gamma/templates');
      assert.equal(listPage.status, 200);
      for (const t of IMPORT_TEMPLATES) {
        assert.match(listPage.text, new RegExp(`id="${t.name}"`));
        for (const c of t.columns)
          assert.ok(listPage.text.includes(`<code>${c.name}</code>`), `${t.name} ${c.name}`);
      }
      for (const t of IMPORT_TEMPLATES) {
        const r = await ops.get(`/f/gamma/templates/${t.name}.csv`);
        assert.equal(r.status, 200, t.name);
        assert.match(r.headers.get('content-disposition') ?? '', new RegExp(`${t.name}_template\\.csv`));
        const lines = r.text.trim().split(/\r?\n/);
        assert.equal(lines.length, 2, `${t.name}: the header and a sample row`);
        const file = writeRaw(dir, `${t.name}_20261125.csv`, r.text);
        const result = await importFile(s.engine, { firmId: 'gamma', file, resultDir: dir });
        assert.equal(result.rows.rejected, 0, `${t.name}'s sample row imports: ${JSON.stringify(result)}`);
      }
      const xlsx = await fetch(`${base}/f/gamma/lists/countries.xlsx`, {
        headers: { cookie: [...ops.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      assert.equal(xlsx.status, 200);
      assert.equal(
        Buffer.from(await xlsx.arrayBuffer())
          .subarray(0, 2)
          .toString(),
        'PK',
        'an xlsx (zip) file',
      );
      const csv = await ops.get('/f/gamma/lists/countries.csv');
      assert.ok(csv.text.trim().split(/\r?\n/).length > 250);
      assert.match((await ops.get('/f/gamma/lists/visa-types.csv')).text, /H-1B/);
      assert.match(
        (await ops.get('/f/gamma/lists/petitions.csv')).text,
        /H1B-EXT/,
        "the firm's own petitions",
      );
      assert.equal((await ops.get('/f/gamma/lists/nosuch.csv')).status, 404);
      assert.equal((await ops.get('/f/gamma/templates/nosuch.csv')).status, 404);
      const opsUser = (await findUserByEmail(s.engine, 'ops@caseport.example'))!;
      const token = (await createApiToken(s.engine, opsUser, 'templates')).token;
      const all = await api(base, token, 'GET', '/api/v1/templates');
      assert.equal((all.body.templates as unknown[]).length, IMPORT_TEMPLATES.length + 3);
      const viaApi = await api(
        base,
        token,
        'GET',
        '/api/v1/firms/gamma/templates/fn_Passport_Details_import',
      );
      assert.equal(viaApi.status, 200);
      assert.match(viaApi.text, /^EmployerID,EmployeeID,PassportNumber/);
      assert.match(
        (await api(base, token, 'GET', '/api/v1/firms/gamma/lists/petitions.csv')).text,
        /H1B-EXT/,
      );
      const ann = await signedIn('ann@acme.example');
      assert.equal((await ann.get('/f/gamma/lists/petitions.csv')).status, 404, "another firm's list");
      assert.equal((await ann.get('/f/gamma/templates')).status, 404);
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const annToken = (await createApiToken(s.engine, annUser, 'templates')).token;
      assert.equal((await api(base, annToken, 'GET', '/api/v1/firms/gamma/lists/petitions.csv')).status, 404);
      assert.equal(
        (await api(base, annToken, 'GET', '/api/v1/firms/gamma/templates/fn_Passport_Details_import')).status,
        404,
      );
    });

    test('Setup: operators add, pause, resume, reschedule and remove tasks and change settings; a firm user may not', async () => {
      await addFirm(s.engine, { id: 'delta', name: 'Delta' });
      await addUser(s.engine, { email: 'dee@delta.example', firmId: 'delta', password: PASSWORD });
      const dee = await signedIn('dee@delta.example');
      const seen = await dee.get('/f/delta/setup');
      assert.equal(seen.status, 200);
      assert.match(seen.text, /<code>0 2 \* \* \*<\/code>/, 'the default daily import');
      assert.doesNotMatch(seen.text, /Add task/, 'no forms for a firm user');
      const csrf = csrfOf(seen.text);
      const refused = await dee.request('POST', '/f/delta/setup/settings', {
        form: { _csrf: csrf, timezone: 'UTC', dateFormat: 'YYYY-MM-DD', recordLimit: '' },
      });
      assert.equal(refused.status, 403, 'an operator-only action by a firm user');
      assert.equal(
        (
          await dee.request('POST', '/f/delta/setup/tasks', {
            form: { _csrf: csrf, kind: 'import', onArrival: '1' },
          })
        ).status,
        403,
      );
      assert.equal((await findFirm(s.engine, 'delta'))!.timezone, 'America/Los_Angeles');

      const ops = await signedIn('ops@caseport.example');
      const add = await ops.submit('/f/delta/setup', '/f/delta/setup/tasks', {
        kind: 'export',
        cron: '0 6 * * 1',
        template: 'fn_passport_details_export',
        scope: 'delta',
      });
      assert.equal(add.status, 303);
      assert.match(add.location ?? '', /\?done=added-\d+/);
      assert.match((await ops.get(add.location!)).text, /Task #\d+ added\./);
      const tasks = await listTasks(s.engine, 'delta');
      const exp = tasks.find((t) => t.kind === 'export')!;
      assert.deepEqual(
        [exp.template, exp.scope, exp.cron],
        ['fn_passport_details_export', 'delta', '0 6 * * 1'],
      );
      assert.equal((await ops.submit('/f/delta/setup', `/f/delta/setup/tasks/${exp.id}/pause`)).status, 303);
      assert.equal((await listTasks(s.engine, 'delta')).find((t) => t.id === exp.id)!.paused, true);
      assert.doesNotMatch(
        (await ops.get('/f/delta/upcoming')).text,
        /fn_passport_details_export/,
        'a paused task has no upcoming run',
      );
      assert.equal((await ops.submit('/f/delta/setup', `/f/delta/setup/tasks/${exp.id}/resume`)).status, 303);
      const bad = await ops.submit('/f/delta/setup', `/f/delta/setup/tasks/${exp.id}/schedule`, {
        cron: 'every day',
      });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /role="alert">The schedule &quot;every day&quot; is not a cron expression/);
      assert.doesNotMatch(bad.text, /--cron/, 'a message for the web, not the command line');
      assert.match(bad.text, /value="every day"/, 'what was typed is still in the form');
      assert.equal(
        (
          await ops.submit('/f/delta/setup', `/f/delta/setup/tasks/${exp.id}/schedule`, {
            cron: '30 7 * * *',
          })
        ).status,
        303,
      );
      assert.equal((await listTasks(s.engine, 'delta')).find((t) => t.id === exp.id)!.cron, '30 7 * * *');
      const badTz = await ops.submit('/f/delta/setup', '/f/delta/setup/settings', {
        timezone: 'Mars/Olympus',
        dateFormat: 'YYYY-MM-DD',
        recordLimit: '',
      });
      assert.equal(badTz.status, 400);
      assert.match(badTz.text, /role="alert">Time zone &quot;Mars\/Olympus&quot; is not an IANA time zone/);
      assert.match(badTz.text, /name="timezone" value="Mars\/Olympus"/, 'the form keeps what was typed');
      assert.match(badTz.text, /<option selected>YYYY-MM-DD<\/option>/);
      const badLimit = await ops.submit('/f/delta/setup', '/f/delta/setup/settings', {
        timezone: 'America/Chicago',
        dateFormat: 'MM/DD/YYYY',
        recordLimit: 'lots',
      });
      assert.equal(badLimit.status, 400);
      assert.match(badLimit.text, /The allowance is a whole number/);
      assert.match(badLimit.text, /name="recordLimit"[^>]*value="lots"/);
      assert.match(badLimit.text, /value="America\/Chicago"/);
      const badTask = await ops.submit('/f/delta/setup', '/f/delta/setup/tasks', {
        kind: 'export',
        cron: '0 6 * * 1',
        template: 'no_such_export',
      });
      assert.equal(badTask.status, 400);
      assert.match(badTask.text, /&quot;no_such_export&quot; is not an export template/);
      assert.doesNotMatch(badTask.text, /--template/);
      assert.match(badTask.text, /<option value="export" selected>/, 'the add form keeps its choices');
      assert.match(
        (await ops.get('/f/delta/setup?done=%3Cb%3Ecall%20us%3C%2Fb%3E')).text,
        /<h1>Setup<\/h1>(?![\s\S]*call us)/,
        'the confirmation line is never text from the link',
      );
      const ok = await ops.submit('/f/delta/setup', '/f/delta/setup/settings', {
        zoomNoUpdate: '1',
        timezone: 'America/New_York',
        dateFormat: 'YYYY-MM-DD',
        recordLimit: '5000',
      });
      assert.equal(ok.status, 303);
      const f = (await findFirm(s.engine, 'delta'))!;
      assert.deepEqual(
        [f.zoomNoUpdate, f.timezone, f.exportDateFormat, f.recordLimit],
        [true, 'America/New_York', 'YYYY-MM-DD', 5000],
      );
      assert.equal((await ops.submit('/f/delta/setup', `/f/delta/setup/tasks/${exp.id}/remove`)).status, 303);
      assert.ok(!(await listTasks(s.engine, 'delta')).some((t) => t.id === exp.id));
      assert.equal(
        (await ops.submit('/f/delta/setup', `/f/delta/setup/tasks/${exp.id}/remove`)).status,
        404,
        'gone',
      );
      const ann = await signedIn('ann@acme.example');
      assert.equal((await ann.get('/f/delta/setup')).status, 404, "another firm's setup");
    });

    test("the Setup API: everyone of the firm reads tasks and settings, operators change them, another firm's are 404", async () => {
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const opsUser = (await findUserByEmail(s.engine, 'ops@caseport.example'))!;
      const ann = (await createApiToken(s.engine, annUser, 'setup')).token;
      const ops = (await createApiToken(s.engine, opsUser, 'setup')).token;
      const list = await api(base, ann, 'GET', '/api/v1/firms/acme/tasks');
      assert.equal(list.status, 200);
      assert.ok((list.body.tasks as Array<{ onArrival: boolean }>).some((t) => t.onArrival));
      assert.equal(
        (await api(base, ann, 'POST', '/api/v1/firms/acme/tasks', { kind: 'import', onArrival: true }))
          .status,
        403,
      );
      assert.equal(
        (await api(base, ann, 'PATCH', '/api/v1/firms/acme/settings', { timezone: 'UTC' })).status,
        403,
      );
      const firstTask = (list.body.tasks as Array<{ id: number }>)[0].id;
      assert.equal((await api(base, ann, 'DELETE', `/api/v1/firms/acme/tasks/${firstTask}`)).status, 403);
      for (const [m, p] of [
        ['GET', '/api/v1/firms/beta/tasks'],
        ['GET', '/api/v1/firms/beta/settings'],
        ['POST', '/api/v1/firms/beta/tasks'],
      ] as const) {
        assert.equal(
          (await api(base, ann, m, p, m === 'POST' ? { kind: 'import', onArrival: true } : undefined)).status,
          404,
          p,
        );
      }
      const betaTask = (await listTasks(s.engine, 'beta'))[0].id;
      assert.equal(
        (await api(base, ann, 'PATCH', `/api/v1/firms/acme/tasks/${betaTask}`, { paused: true })).status,
        403,
        'a firm user: refused before looking',
      );
      assert.equal(
        (await api(base, ops, 'PATCH', `/api/v1/firms/acme/tasks/${betaTask}`, { paused: true })).status,
        404,
        "beta's task under acme",
      );
      assert.equal((await listTasks(s.engine, 'beta'))[0].paused, false);

      const made = await api(base, ops, 'POST', '/api/v1/firms/acme/tasks', {
        kind: 'export',
        template: 'fn_passport_details_export',
        cron: '0 6 * * *',
        scope: 'delta',
      });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.scope, 'delta');
      const bad = await api(base, ops, 'PATCH', `/api/v1/firms/acme/tasks/${made.body.id}`, {
        cron: 'sometimes',
      });
      assert.equal(bad.status, 400);
      assert.equal(
        (await api(base, ops, 'PATCH', `/api/v1/firms/acme/tasks/${made.body.id}`, { paused: true })).body
          .paused,
        true,
      );
      assert.equal((await api(base, ops, 'DELETE', `/api/v1/firms/acme/tasks/${made.body.id}`)).status, 204);
      const tz = await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', { timezone: 'Nowhere/Town' });
      assert.equal(tz.status, 400);
      assert.match(String(tz.body.message), /Nowhere\/Town/);
      const set = await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', {
        notifyEmails: ['hr@acme.example'],
        webhookUrl: 'https://hooks.example/caseport',
      });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body.notifyEmails, ['hr@acme.example']);
      assert.ok(set.body.webhookSecret, 'an operator sees the signing secret');
      const seen = await api(base, ann, 'GET', '/api/v1/firms/acme/settings');
      assert.equal(seen.body.webhookSecret, null, 'a firm user does not');
      assert.equal(seen.body.timezone, 'America/Los_Angeles');
    });

    test('hostile parameters are a 404 or a 400, never a 500 (found by the review)', async () => {
      const ann = await signedIn('ann@acme.example');
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const opsUser = (await findUserByEmail(s.engine, 'ops@caseport.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'hostile')).token;
      const ops = (await createApiToken(s.engine, opsUser, 'hostile')).token;
      for (const p of [
        '/f/acme/files/2147483648',
        '/f/acme/files/99999999999',
        '/f/acme/clients/2147483648',
        '/f/acme/files/2147483648/result',
      ]) {
        assert.equal((await ann.get(p)).status, 404, p);
      }
      for (const p of [
        '/api/v1/firms/acme/files/2147483648',
        '/api/v1/firms/acme/files/99999999999/errors',
        '/api/v1/firms/acme/clients/2147483648',
      ]) {
        assert.ok([400, 404].includes((await api(base, token, 'GET', p)).status), p);
      }
      for (const p of [
        '/api/v1/firms/acme/clients?q=a%00b',
        '/api/v1/firms/acme/attention?template=a%00b',
        '/api/v1/firms/acme/attention?offset=9223372036854775807',
      ]) {
        assert.equal((await api(base, token, 'GET', p)).status, 400, p);
      }
      assert.equal((await ann.get('/f/acme/clients?q=a%00b')).status, 400);
      assert.equal(
        (
          await api(base, token, 'POST', `/api/v1/firms/acme/files/${files.acme}/comments`, {
            body: 'a\u0000b',
          })
        ).status,
        400,
      );
      assert.equal(
        (
          await ann.submit(`/f/acme/files/${files.acme}`, `/f/acme/files/${files.acme}/comments`, {
            body: 'a\u0000b',
          })
        ).status,
        400,
      );
      for (const recordLimit of [1e300, 2 ** 63]) {
        assert.equal(
          (await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', { recordLimit })).status,
          400,
          String(recordLimit),
        );
      }
      assert.equal((await findFirm(s.engine, 'acme'))!.recordLimit, 1000);
      for (const next of ['/\\evil.example', '/\t/evil.example', '//evil.example']) {
        const b = new Browser(base);
        const page = await b.get('/login');
        const r = await b.request('POST', `/login?next=${encodeURIComponent(next)}`, {
          form: { _csrf: csrfOf(page.text), email: 'ann@acme.example', password: PASSWORD },
        });
        assert.equal(r.location, '/', next);
      }
    });

    test('second review: deep links survive sign-in, refused input is said where it was typed, API bodies are taken as sent', async () => {
      // A deep link opened signed out comes back after signing in (the form carries it).
      const b = new Browser(base);
      const away = await b.get('/f/acme/completed?page=1');
      assert.equal(away.location, `/login?next=${encodeURIComponent('/f/acme/completed?page=1')}`);
      const form = await b.get(away.location!);
      assert.match(form.text, /name="next" value="\/f\/acme\/completed\?page=1"/);
      const signed = await b.request('POST', '/login', {
        form: {
          _csrf: csrfOf(form.text),
          next: '/f/acme/completed?page=1',
          email: 'ann@acme.example',
          password: PASSWORD,
        },
      });
      assert.equal(signed.location, '/f/acme/completed?page=1');
      const evil = new Browser(base);
      const login = await evil.get('/login?next=//evil.example');
      assert.doesNotMatch(login.text, /evil/, 'a foreign next is not carried');
      const r = await evil.request('POST', '/login', {
        form: {
          _csrf: csrfOf(login.text),
          next: '//evil.example',
          email: 'ann@acme.example',
          password: PASSWORD,
        },
      });
      assert.equal(r.location, '/');

      // A file of four rejected rows: a blank or doubled comment is refused on its page.
      const file = await incompleteFile('acme', 'company_Details_import_20261125.csv', 250);
      const ann = await signedIn('ann@acme.example');
      const path = `/f/acme/files/${file}`;
      const blank = await ann.submit(path, `${path}/comments`, { body: '   ' });
      assert.equal(blank.status, 400);
      assert.match(blank.text, /role="alert">A comment cannot be blank/);
      const page = await ann.get(path);
      const twice = await ann.request('POST', `${path}/comments`, {
        form: [
          ['_csrf', csrfOf(page.text)],
          ['body', 'a'],
          ['body', 'b'],
        ],
      });
      assert.equal(twice.status, 400);
      assert.match(twice.text, /sent more than once/);
      assert.match((await ann.get(path)).text, /No comments yet/, 'nothing was saved');

      // Errors past the last page show the last page; the pager has first, last and a page to go to.
      const past = await ann.get(`${path}?page=2000`);
      assert.equal(past.status, 200);
      assert.match(past.text, /Page 3 of 3/);
      assert.match(past.text, /rel="first"/);
      assert.match(past.text, /Go to page/);
      assert.match(past.text, /bad-249/, 'the last rows are on the last page');

      // Need Attention: a bad filter is said, on the page and in the API; times name their zone.
      for (const q of ['status=done', 'template=nope', 'from=2026-13-40', 'from=2026-11-20&to=2026-11-01']) {
        const bad = await ann.get(`/f/acme/attention?${q}`);
        assert.equal(bad.status, 400, q);
        assert.match(bad.text, /role="alert"/, q);
      }
      const list = await ann.get('/f/acme/attention');
      assert.match(list.text, /<time [^>]*>.*?(AM|PM) (PST|PDT)<\/span><\/time>/, 'the time names its zone');
      // Filter days are the firm's days (Los Angeles), not UTC's.
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(new Date());
      assert.match((await ann.get(`/f/acme/attention?from=${today}&to=${today}`)).text, /20261125\.csv/);

      // An Interrupted file says why in the list.
      await s.engine.db
        .updateTable('files')
        .set({ status: 'interrupted', message: 'the store was unreachable for 10 minutes' })
        .where('id', '=', file)
        .execute();
      assert.match((await ann.get('/f/acme/attention')).text, /the store was unreachable for 10 minutes/);

      // A Completed file is not acknowledged, on the page or by the API.
      const done = await processed('acme', 'company_Details_import_20261126.csv', employers, [
        rowOf(employers, { EmployerID: 'ACME7' }),
      ]);
      const refused = await ann.submit(`/f/acme/files/${done}`, `/f/acme/files/${done}/acknowledge`);
      assert.equal(refused.status, 400);
      assert.match(
        refused.text,
        /Only an Interrupted or Incomplete file can be acknowledged; this one is completed/,
      );
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const opsUser = (await findUserByEmail(s.engine, 'ops@caseport.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'review 2')).token;
      const ops = (await createApiToken(s.engine, opsUser, 'review 2')).token;
      const ack = await api(base, token, 'POST', `/api/v1/firms/acme/files/${done}/acknowledge`);
      assert.equal(ack.status, 409);
      assert.equal(ack.body.error, 'conflict');
      const acked = await s.engine.db
        .selectFrom('files')
        .select('acknowledged_at')
        .where('id', '=', done)
        .executeTakeFirstOrThrow();
      assert.equal(acked.acknowledged_at, null);
      assert.equal((await api(base, token, 'GET', '/api/v1/firms/acme/attention?template=nope')).status, 400);

      // API bodies: no coercion, no unknown keys, JSON only, UTF-8 only, no __proto__.
      const comments = `/api/v1/firms/acme/files/${file}/comments`;
      const n = await api(base, token, 'POST', comments, { body: 123 });
      assert.equal(n.status, 400);
      assert.match(String(n.body.message), /body\.body must be string/);
      const extra = await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', {
        timezone: 'UTC',
        colour: 'red',
      });
      assert.equal(extra.status, 400);
      assert.match(String(extra.body.message), /"colour" is not a field/);
      assert.equal((await findFirm(s.engine, 'acme'))!.timezone, 'America/Los_Angeles', 'nothing changed');
      const raw = (body: BodyInit, type: string) =>
        fetch(base + comments, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': type },
          body,
        }).then(async (res) => ({ status: res.status, json: (await res.json()) as { message: string } }));
      const formBody = await raw('body=hello', 'application/x-www-form-urlencoded');
      assert.equal(formBody.status, 415);
      assert.match(formBody.json.message, /JSON bodies only/);
      const proto = await raw('{"body":"x","__proto__":{"admin":true}}', 'application/json');
      assert.equal(proto.status, 400);
      assert.match(proto.json.message, /__proto__/);
      const latin1 = await raw(
        Buffer.from([0x7b, 0x22, 0x62, 0x6f, 0x64, 0x79, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]),
        'application/json',
      );
      assert.equal(latin1.status, 400);
      assert.match(latin1.json.message, /not UTF-8/);
      const broken = await raw('{"body":', 'application/json');
      assert.equal(broken.status, 400);
      assert.match(broken.json.message, /not valid JSON/);
      const listed = await api(base, token, 'GET', comments);
      assert.deepEqual(listed.body.comments, [], 'no refused body was stored');

      // Client search: the start of an EmployeeID, or a first and a last name, any case.
      for (const q of ['e10', 'priya sh', 'SHAR']) {
        assert.match((await ann.get(`/f/acme/clients?q=${encodeURIComponent(q)}`)).text, /Priya/, q);
      }
    });

    test('sign-in is throttled per account: after 5 failures even the right password waits', async () => {
      await addUser(s.engine, { email: 'tom@acme.example', firmId: 'acme', password: PASSWORD });
      const b = new Browser(base);
      for (let i = 0; i < 5; i++)
        assert.equal((await b.login('tom@acme.example', `wrong-${i}-password`)).status, 401);
      const r = await b.login('tom@acme.example', PASSWORD);
      assert.equal(r.status, 429);
      assert.match(r.text, /Too many failed sign-ins/);
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      // Another account from the same address still signs in (the address limit is higher).
      assert.equal((await b.login('ann@acme.example', PASSWORD)).status, 303);
    });

    test('third review: sessions, redirects, settings changed all or nothing, ids and bodies, search in any script', async () => {
      const ann = await signedIn('ann@acme.example');
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const opsUser = (await findUserByEmail(s.engine, 'ops@caseport.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'review 3')).token;
      const ops = (await createApiToken(s.engine, opsUser, 'review 3')).token;

      // The session cookie is renewed with the session on every page.
      const renewed = (await ann.get('/f/acme/attention')).headers
        .getSetCookie()
        .find((c) => c.startsWith('caseport_session='));
      assert.match(renewed ?? '', /Max-Age=43200/);

      // A form posted after the session ended returns, after sign-in, to the page it was on.
      const file = await incompleteFile('acme', 'company_Details_import_20261127.csv', 1);
      const path = `/f/acme/files/${file}`;
      const pageText = (await ann.get(path)).text;
      await s.engine.db.deleteFrom('sessions').execute();
      const late = await ann.request('POST', `${path}/comments`, {
        form: { _csrf: csrfOf(pageText), body: 'typed before lunch' },
        headers: { referer: `${base}${path}` },
      });
      assert.equal(late.location, `/login?next=${encodeURIComponent(path)}`);

      // A next with letters outside ASCII is percent-encoded, not a 500.
      const b = new Browser(base);
      const login = await b.get(`/login?next=${encodeURIComponent('/f/acme/clients?q=日本')}`);
      const r = await b.request('POST', '/login', {
        form: {
          _csrf: csrfOf(login.text),
          next: '/f/acme/clients?q=日本',
          email: 'ann@acme.example',
          password: PASSWORD,
        },
      });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/f/acme/clients?q=%E6%97%A5%E6%9C%AC');
      assert.equal((await b.get('/login?next=%2F%C3%A9')).location, '/%C3%A9');

      // A comment counts a line break once, as the browser's maxlength does.
      const lines = `${'x'.repeat(99)}\r\n`.repeat(40);
      assert.equal(lines.length, 4040);
      assert.equal((await b.submit(path, `${path}/comments`, { body: lines })).status, 303);

      // A query parameter given twice, an address that cannot be decoded: a 400 said on a page or in JSON.
      const twice = await b.get('/f/acme/clients?q=a&q=b');
      assert.equal(twice.status, 400);
      assert.match(twice.text, /given more than once/);
      const badUrl = await b.get('/f/%FF/attention');
      assert.equal(badUrl.status, 400);
      assert.match(badUrl.headers.get('content-type') ?? '', /text\/html/);
      const badApi = await api(base, token, 'GET', '/api/v1/firms/%FF/attention');
      assert.equal(badApi.status, 400);
      assert.equal(badApi.body.error, 'bad_request');

      // Ids are digits only; a route without a body refuses one; a GET with a content type is fine.
      for (const p of [
        '/api/v1/firms/acme/clients/1e3',
        '/api/v1/firms/acme/clients/0x10',
        `/api/v1/firms/acme/files/+${file}`,
      ])
        assert.equal((await api(base, token, 'GET', p)).status, 400, p);
      const ack = await api(base, token, 'POST', `/api/v1/firms/acme/files/${file}/acknowledge`, {
        colour: 'red',
      });
      assert.equal(ack.status, 400);
      assert.match(String(ack.body.message), /"colour" is not a field/);
      assert.equal(
        (await api(base, token, 'GET', `/api/v1/firms/acme/files/${file}`)).body.acknowledgedAt,
        null,
      );
      const plain = await fetch(`${base}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      });
      assert.equal(plain.status, 200);

      // Settings: all or nothing; the allowance has the stores' bound; a time zone is trimmed.
      const partial = await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', {
        timezone: 'Europe/Paris',
        zoomNoUpdate: true,
        notifyEmails: ['not-an-email'],
      });
      assert.equal(partial.status, 400);
      const firm = (await findFirm(s.engine, 'acme'))!;
      assert.deepEqual([firm.timezone, firm.zoomNoUpdate], ['America/Los_Angeles', false], 'nothing changed');
      const huge = await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', {
        recordLimit: 3_000_000_000,
      });
      assert.equal(huge.status, 400);
      const opsWeb = await signedIn('ops@caseport.example');
      const hugeForm = await opsWeb.submit('/f/acme/setup', '/f/acme/setup/settings', {
        timezone: 'America/Los_Angeles',
        dateFormat: 'MM/DD/YYYY',
        recordLimit: '5,000,000,000',
      });
      assert.equal(hugeForm.status, 400);
      assert.match(hugeForm.text, /from 0 to 2,147,483,647/);
      assert.match(hugeForm.text, /value="5,000,000,000"/);
      const max = await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', {
        recordLimit: 2_147_483_647,
        timezone: '  America/Los_Angeles ',
      });
      assert.equal(max.status, 200, max.text);
      assert.equal((await findFirm(s.engine, 'acme'))!.recordLimit, 2_147_483_647);
      await api(base, ops, 'PATCH', '/api/v1/firms/acme/settings', { recordLimit: 1000 });
      const both = await opsWeb.submit('/f/acme/setup', '/f/acme/setup/tasks', {
        kind: 'import',
        onArrival: '1',
        cron: '0 3 * * *',
      });
      assert.equal(both.status, 400);
      assert.match(both.text, /An on-arrival import has no schedule/);

      // A token needs one name.
      assert.equal((await b.submit('/account', '/account/tokens', { name: '  ' })).status, 400);
      const acct = await b.get('/account');
      const dup = await b.request('POST', '/account/tokens', {
        form: [
          ['_csrf', csrfOf(acct.text)],
          ['name', 'a'],
          ['name', 'b'],
        ],
      });
      assert.equal(dup.status, 400);
      assert.doesNotMatch((await b.get('/account')).text, /a,b/);

      // to=9999-12-31 is no upper bound; a name starting with an accented capital is found in any case.
      const all = await api(base, token, 'GET', '/api/v1/firms/acme/attention?to=9999-12-31');
      assert.ok(Number(all.body.total) > 0);
      const clients = templateNamed('fn_Details_Data_import');
      await processed('acme', 'fn_Details_Data_import_20261127.csv', clients, [
        rowOf(clients, { EmployerID: 'ACME1', EmployeeID: 'E2001', FirstName: 'Émile', LastName: 'Zola' }),
        rowOf(clients, { EmployerID: 'ACME1', EmployeeID: 'E2002', FirstName: 'Ömer', LastName: 'Şahin' }),
      ]);
      for (const [q, who] of [
        ['Émile', 'Zola'],
        ['émile', 'Zola'],
        ['ÉMILE ZO', 'Zola'],
        ['şahin', 'Ömer'],
        ['ö', 'Şahin'],
      ]) {
        const hits = await api(base, token, 'GET', `/api/v1/firms/acme/clients?q=${encodeURIComponent(q)}`);
        assert.match(JSON.stringify(hits.body), new RegExp(who), q);
      }
    });

    test('the OpenAPI document: every schema compiles, and real answers (and errors) match what it says', async () => {
      const doc = (await fetch(`${base}/api/openapi.json`).then((r) => r.json())) as {
        paths: Record<
          string,
          Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
        >;
      };
      assert.equal(doc.paths['/health'], undefined, 'operations endpoints are not part of the API');
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats.default(ajv);
      const schemaOf = (p: string, method: string, status: number) => {
        const content = doc.paths[p]?.[method]?.responses?.[String(status)]?.content;
        assert.ok(content, `${method} ${p} documents ${status}`);
        return content!;
      };
      for (const [p, methods] of Object.entries(doc.paths))
        for (const [m, op] of Object.entries(methods))
          for (const [status, r] of Object.entries(op.responses ?? {}))
            for (const [type, c] of Object.entries(r.content ?? {}))
              if (type === 'application/json')
                assert.doesNotThrow(() => ajv.compile(c.schema), `${m} ${p} ${status}`);
      assert.ok(schemaOf('/api/v1/firms/{firm}/templates/{name}', 'get', 200)['text/csv']);
      assert.ok(schemaOf('/api/v1/firms/{firm}/files/{id}/result', 'get', 404)['application/json']);
      assert.ok(schemaOf('/api/v1/firms/{firm}/files/{id}/comments', 'post', 415)['application/json']);

      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'contract')).token;
      const clientId = (
        await s.engine.db
          .selectFrom('clients')
          .select('id')
          .where('firm_id', '=', 'acme')
          .executeTakeFirstOrThrow()
      ).id;
      const checks: Array<[string, string, number]> = [
        ['/api/v1/me', '/api/v1/me', 200],
        ['/api/v1/firms/{firm}/attention', '/api/v1/firms/acme/attention?acknowledged=true', 200],
        ['/api/v1/firms/{firm}/files/{id}', `/api/v1/firms/acme/files/${files.acme}`, 200],
        ['/api/v1/firms/{firm}/files/{id}/errors', `/api/v1/firms/acme/files/${files.acme}/errors`, 200],
        ['/api/v1/firms/{firm}/files/{id}/comments', `/api/v1/firms/acme/files/${files.acme}/comments`, 200],
        ['/api/v1/firms/{firm}/completed', '/api/v1/firms/acme/completed', 200],
        ['/api/v1/firms/{firm}/upcoming', '/api/v1/firms/acme/upcoming', 200],
        ['/api/v1/firms/{firm}/billing', '/api/v1/firms/acme/billing', 200],
        ['/api/v1/firms/{firm}/clients', '/api/v1/firms/acme/clients?q=e', 200],
        ['/api/v1/firms/{firm}/clients/{id}', `/api/v1/firms/acme/clients/${clientId}`, 200],
        ['/api/v1/firms/{firm}/tasks', '/api/v1/firms/acme/tasks', 200],
        ['/api/v1/firms/{firm}/settings', '/api/v1/firms/acme/settings', 200],
        ['/api/v1/templates', '/api/v1/templates', 200],
        ['/api/v1/firms/{firm}/files/{id}', '/api/v1/firms/beta/files/1', 404],
        ['/api/v1/firms/{firm}/files/{id}/result', '/api/v1/firms/acme/files/2147483647/result', 404],
        ['/api/v1/firms/{firm}/templates/{name}', '/api/v1/firms/acme/templates/nope', 404],
        ['/api/v1/firms/{firm}/attention', '/api/v1/firms/acme/attention?status=nope', 400],
      ];
      for (const [p, url, status] of checks) {
        const r = await api(base, token, 'GET', url);
        assert.equal(r.status, status, url);
        const validate = ajv.compile(schemaOf(p, 'get', status)['application/json'].schema);
        assert.ok(validate(r.body), `${url}: ${JSON.stringify(validate.errors)}`);
      }
    });

    test('fourth review: a file being processed shows its progress; a client names the file that made it; billing past the allowance', async () => {
      const ann = await signedIn('ann@acme.example');
      const annUser = (await findUserByEmail(s.engine, 'ann@acme.example'))!;
      const token = (await createApiToken(s.engine, annUser, 'review 4')).token;

      // A file still running: its run is found by file_id, its counts are the batches committed so far.
      const file = await incompleteFile('acme', 'company_Details_import_20261128.csv', 2);
      const run = await s.engine.db
        .selectFrom('files')
        .select('run_id')
        .where('id', '=', file)
        .executeTakeFirstOrThrow();
      await s.engine.db
        .updateTable('files')
        .set({ status: 'running', run_id: null, finished_at: null })
        .where('id', '=', file)
        .execute();
      const live = await api(base, token, 'GET', `/api/v1/firms/acme/files/${file}`);
      assert.equal(live.body.runId, run.run_id);
      assert.deepEqual(live.body.rows, { total: 3, created: 0, updated: 0, unchanged: 1, rejected: 2 });
      const page = await ann.get(`/f/acme/files/${file}`);
      assert.match(page.text, /being processed: so far<\/span> 3 read/);
      assert.match(page.text, /Errors \(2\)/, 'the rows rejected so far');

      // Need Attention's counts add up: Unchanged has its column.
      assert.match((await ann.get('/f/acme/attention')).text, /<th class="n">Unchanged<\/th>/);

      // A client's own created and changed runs name their file.
      const client = await s.engine.db
        .selectFrom('clients')
        .select(['id', 'created_run_id'])
        .where('firm_id', '=', 'acme')
        .where('employee_id', '=', 'E2001')
        .executeTakeFirstOrThrow();
      const made = await s.engine.db
        .selectFrom('runs')
        .select(['file_id'])
        .where('id', '=', client.created_run_id!)
        .executeTakeFirstOrThrow();
      assert.match(
        (await ann.get(`/f/acme/clients/${client.id}`)).text,
        new RegExp(
          `<dt>Created</dt><dd>.*\\(<a href="/f/acme/files/${made.file_id}">fn_Details_Data_import_20261127\\.csv</a>\\)`,
        ),
      );

      // Billing past a lowered allowance says by how much, and the real percentage.
      await updateFirm(s.engine, 'acme', { recordLimit: 5 });
      const bill = await ann.get('/f/acme/billing');
      assert.match(bill.text, /over the allowance by/);
      assert.doesNotMatch(bill.text, /\(100%\)/);
      await updateFirm(s.engine, 'acme', { recordLimit: 1000 });

      // An id of eleven digits is said to be too large, not "not digits".
      const big = await api(base, token, 'GET', '/api/v1/firms/acme/files/99999999999');
      assert.equal(big.status, 400);
      assert.match(String(big.body.message), /must be <= 2147483647/);
    });

    test('fifth review: a failed export is marked failed without server paths; a 400 page is not "something went wrong"; a late form without Referer returns to its page', async () => {
      const now = new Date().toISOString();
      const job = await s.engine.db
        .insertInto('jobs')
        .values({
          firm_id: 'acme',
          task_id: null,
          trigger: 'schedule',
          kind: 'export',
          due_at: now,
          status: 'done',
          message: 'stopped after 5 attempts: the server could not use its working folder (mkdir: ENOTDIR)',
          created_at: now,
          started_at: now,
          finished_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const ann = await signedIn('ann@acme.example');
      const done = await ann.get('/f/acme/completed');
      const section = new RegExp(`Export run ${job.id}[\\s\\S]*?</section>`).exec(done.text)?.[0] ?? '';
      assert.match(section, /badge failed/);
      assert.match(section, /The export failed: no file was made/);
      assert.doesNotMatch(section, /No file was waiting/);

      const bad = await ann.get('/f/acme/attention?template=x&template=y');
      assert.equal(bad.status, 400);
      assert.doesNotMatch(bad.text, /Something went wrong/);

      const file = await incompleteFile('acme', 'company_Details_import_20261129.csv', 1);
      const pageText = (await ann.get(`/f/acme/files/${file}`)).text;
      await s.engine.db.deleteFrom('sessions').execute();
      const late = await ann.request('POST', `/f/acme/files/${file}/comments`, {
        form: { _csrf: csrfOf(pageText), body: 'no referer' },
      });
      assert.equal(late.location, `/login?next=${encodeURIComponent(`/f/acme/files/${file}`)}`);
    });

    test('sign-in attempts sent in parallel are throttled like attempts one after another', async () => {
      await addUser(s.engine, { email: 'par@acme.example', firmId: 'acme', password: PASSWORD });
      const b = new Browser(base);
      const csrf = csrfOf((await b.get('/login')).text);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          b.request('POST', '/login', {
            form: { _csrf: csrf, email: 'par@acme.example', password: `wrong-${i}-password` },
          }),
        ),
      );
      const checked = answers.filter((a) => a.status === 401).length;
      assert.ok(checked <= 5, `${checked} passwords were checked; at most 5 may be`);
      assert.equal(answers.filter((a) => a.status === 429).length, 12 - checked);
      // The right password sent at once, more times than the limit, is not throttled: each waits its turn.
      await addUser(s.engine, { email: 'many@acme.example', firmId: 'acme', password: PASSWORD });
      const many = await Promise.all(
        Array.from({ length: 8 }, () =>
          b.request('POST', '/login', {
            form: { _csrf: csrf, email: 'many@acme.example', password: PASSWORD },
          }),
        ),
      );
      assert.deepEqual(
        many.map((a) => a.status),
        Array(8).fill(303),
      );
    });
  });
}
