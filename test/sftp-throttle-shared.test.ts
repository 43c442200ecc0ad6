// SFTP's failed logins are counted in the store, so two nodes (two servers on one store, each with its
// own in-process throttle) together allow the limit once, not once each; in parallel too. The right
// password sent in parallel, more times than the limit, waits its turn and gets in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuthContext } from 'ssh2';
import { ledgerSite } from '../src/server/site-backend.js';
import { decideThrottledLogin } from '../src/sftp/login.js';
import { LoginThrottle } from '../src/sftp/login-throttle.js';
import { openFileStore } from '../src/store/file-store.js';
import { addFirm, updateFirm } from '../src/store/index.js';
import { ENGINES, openTestStore, type TestStore } from './helpers.js';

const password = (pw: string) =>
  ({ method: 'password', username: 'acme', password: pw }) as unknown as AuthContext;

for (const kind of ENGINES) {
  describe(`SFTP login failures shared by every node (${kind})`, () => {
    let s: TestStore;
    before(async () => {
      s = await openTestStore(kind);
      await addFirm(s.engine, { id: 'acme', name: 'Acme' });
      await updateFirm(s.engine, 'acme', { sftpPassword: 'right password here' });
    });
    after(() => s?.cleanup());

    test('3 failures on one node and 2 on another: both refuse the next attempt, the right password too', async () => {
      const site = ledgerSite(s.engine, openFileStore(s.engine, s.dataDir));
      const nodeA = new LoginThrottle({ maxFailedLogins: 5, failWindowMs: 60_000 });
      const nodeB = new LoginThrottle({ maxFailedLogins: 5, failWindowMs: 60_000 });
      const from = '203.0.113.7';
      for (let i = 0; i < 3; i++)
        assert.equal((await decideThrottledLogin(site, password(`wrong ${i}`), nodeA, from)).kind, 'failed');
      for (let i = 0; i < 2; i++)
        assert.equal((await decideThrottledLogin(site, password(`wrong b${i}`), nodeB, from)).kind, 'failed');
      assert.equal(nodeB.isBlocked(from), false, "node B's own count is 2");
      assert.equal(
        (await decideThrottledLogin(site, password('right password here'), nodeB, from)).kind,
        'throttled',
      );
      assert.equal(
        (await decideThrottledLogin(site, password('right password here'), nodeA, from)).kind,
        'throttled',
      );
      // Another address is not affected, and a success is not counted.
      assert.equal(
        (await decideThrottledLogin(site, password('right password here'), nodeA, '203.0.113.8')).kind,
        'accept',
      );
    });

    test('the right password sent at once to two nodes, more times than the limit: every one gets in', async () => {
      const site = ledgerSite(s.engine, openFileStore(s.engine, s.dataDir));
      const nodes = [0, 1].map(() => new LoginThrottle({ maxFailedLogins: 5, failWindowMs: 60_000 }));
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          decideThrottledLogin(site, password('right password here'), nodes[i % 2], '192.0.2.44'),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.kind),
        Array(16).fill('accept'),
      );
      const left = await s.engine.db
        .selectFrom('login_failures')
        .select('id')
        .where('address', '=', 'sftp:192.0.2.44')
        .execute();
      assert.equal(left.length, 0, 'a good login leaves nothing counted');
    });

    test('attempts sent at once to two nodes: at most the limit are checked', async () => {
      const site = ledgerSite(s.engine, openFileStore(s.engine, s.dataDir));
      const nodes = [0, 1].map(() => new LoginThrottle({ maxFailedLogins: 5, failWindowMs: 60_000 }));
      const from = '198.51.100.9';
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          decideThrottledLogin(site, password(`wrong ${i}`), nodes[i % 2], from),
        ),
      );
      const checked = answers.filter((a) => a.kind === 'failed').length;
      assert.ok(checked <= 5, `${checked} passwords were checked; at most 5 may be`);
      assert.equal(answers.filter((a) => a.kind === 'throttled').length, 16 - checked);
    });
  });
}
