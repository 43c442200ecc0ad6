// Folders the CLI and the pipelines write to (the data folder, a firm's folders, an export's --out):
// created when missing without Node's recursive mkdir (which can spin forever), and checked with the
// reason in words when they cannot take files.
import { randomBytes } from 'node:crypto';
import { mkdirSync, type Stats, statSync } from 'node:fs';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

/**
 * Creates `dir` and its missing parents, like `mkdir -p`. Not Node's `mkdir(dir, { recursive: true })`:
 * it spins forever when a parent exists but cannot hold the child (`/proc/x`: procfs answers ENOENT; a
 * folder under a link to nothing), as it takes each ENOENT for a missing parent, creates the parent
 * (EEXIST) and tries the child again. Here a child is tried once more, after its parent exists, and
 * a second ENOENT is final.
 */
export async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const parent = path.dirname(dir);
    if (codeOf(e) === 'EEXIST') return; // a file there fails at the check or the open that follows
    if (codeOf(e) !== 'ENOENT' || parent === dir) throw e;
    await makeFolder(parent);
  }
  try {
    await mkdir(dir);
  } catch (e) {
    if (codeOf(e) === 'EEXIST') return; // made meanwhile by another export
    if (codeOf(e) === 'ENOENT') throw new Error(await whyNoChild(path.dirname(dir)));
    throw e;
  }
}

/** makeFolder for the few callers that cannot wait (opening the SQLite file). */
export function makeFolderSync(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (e) {
    const parent = path.dirname(dir);
    if (codeOf(e) === 'EEXIST') return;
    if (codeOf(e) !== 'ENOENT' || parent === dir) throw e;
    makeFolderSync(parent);
  }
  try {
    mkdirSync(dir);
  } catch (e) {
    if (codeOf(e) === 'EEXIST') return;
    if (codeOf(e) === 'ENOENT') {
      const isDir = (() => {
        try {
          return statSync(path.dirname(dir)).isDirectory();
        } catch {
          return false;
        }
      })();
      throw new Error(
        isDir
          ? `${path.dirname(dir)} does not take new folders (ENOENT)`
          : `${path.dirname(dir)} is not a folder`,
      );
    }
    throw e;
  }
}

/** Why a folder that exists (or seems to) answers ENOENT for a new entry in it. */
async function whyNoChild(parent: string): Promise<string> {
  const st = await stat(parent).catch(() => undefined);
  return st?.isDirectory()
    ? `${parent} does not take new folders (ENOENT)`
    : `${parent} is not a folder (a link to nothing?)`;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'something else already has that name',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

/** A file-system error in a few words, with its code: `permission denied (EACCES)`. */
export function fsReason(e: unknown): string {
  const code = codeOf(e);
  if (code && REASONS[code]) return `${REASONS[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Why `dir` cannot receive export files, after creating it if it is missing; undefined when it can.
 * The test is a real file created and removed there: permission bits do not tell (root passes them,
 * /proc refuses anyway).
 */
export async function exportFolderProblem(dir: string): Promise<string | undefined> {
  try {
    await makeFolder(dir);
  } catch (e) {
    return `the folder cannot be created: ${fsReason(e)}`;
  }
  let st: Stats;
  try {
    st = await stat(dir);
  } catch (e) {
    return `cannot be read: ${fsReason(e)}`;
  }
  if (!st.isDirectory()) return 'not a folder';
  const probe = path.join(dir, `.caseport-probe_${process.pid}_${randomBytes(6).toString('hex')}.tmp`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    // ENOENT in a folder that exists: the file system takes no new files there (/proc)
    const why = codeOf(e) === 'ENOENT' ? 'the file system refuses new files there (ENOENT)' : fsReason(e);
    return `not writable: ${why}`;
  }
  await unlink(probe).catch(() => {});
  return undefined;
}
