// Test support for the server: `caseport serve` and `caseport worker` as real processes, and an SFTP
// client (ssh2's) to upload, list and download as a firm's HR system does.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type SFTPWrapper } from 'ssh2';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/caseport.js');

export interface ServerProcess {
  child: ChildProcess;
  sftpPort?: number;
  httpPort?: number;
  /** Every log line so far. */
  lines: string[];
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `caseport <args>` and resolves once it logs that it is ready. */
export function startProcess(
  globals: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, ...globals, ...args], {
    env: { ...process.env, CASEPORT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`not ready in 20 s:\n${lines.join('\n')}`)), 20_000);
    const p: ServerProcess = {
      child,
      lines,
      exited,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (/"msg":"(serve|worker): ready"/.test(line)) {
          const j = JSON.parse(line);
          p.sftpPort = j.sftpPort;
          p.httpPort = j.httpPort;
          clearTimeout(timer);
          resolve(p);
        }
        nl = buf.indexOf('\n');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before it was ready:\n${lines.join('\n')}`));
    });
  });
}

/** Runs a short caseport command; its JSON output parsed when --json. */
export function caseport(globals: string[], ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...globals, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export interface SftpSession {
  sftp: SFTPWrapper;
  end(): void;
}

/** Logs in to the SFTP site with a password. */
export function sftpLogin(port: number, username: string, password: string): Promise<SftpSession> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () =>
      c.sftp((err, sftp) => {
        if (err) return reject(err);
        resolve({ sftp, end: () => c.end() });
      }),
    );
    c.on('error', reject);
    c.connect({ host: '127.0.0.1', port, username, password, readyTimeout: 20_000 });
  });
}

export function upload(s: SftpSession, local: string, remote: string): Promise<void> {
  return new Promise((resolve, reject) => s.sftp.fastPut(local, remote, (e) => (e ? reject(e) : resolve())));
}

export function download(s: SftpSession, remote: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.sftp
      .createReadStream(remote)
      .on('data', (d: Buffer) => parts.push(d))
      .on('end', () => resolve(Buffer.concat(parts).toString('utf8')))
      .on('error', reject);
  });
}

export function list(s: SftpSession, dir: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    s.sftp.readdir(dir, (e, l) => (e ? reject(e) : resolve(l.map((x) => x.filename).sort()))),
  );
}

/** Polls until `check` is true (or throws after `ms`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
