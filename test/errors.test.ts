// What a firm is told when something failed on the server: the kind of failure, never the server's paths.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { publicReason } from '../src/errors.js';
import { tempDir } from './helpers.js';

test('a system error names what failed and its code, not the path', async () => {
  const dir = tempDir();
  await writeFile(path.join(dir, 'work'), 'a file where a folder should be');
  const e = await mkdir(path.join(dir, 'work', 'export-5'), { recursive: true }).catch((x: unknown) => x);
  const reason = publicReason(e);
  assert.match(reason, /could not use its working folder \(mkdir: ENOTDIR\)/);
  assert.ok(!reason.includes(dir), reason);
  assert.equal(publicReason(new Error('the template has no such column')), 'the template has no such column');
});
