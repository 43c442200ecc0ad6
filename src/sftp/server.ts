// The SFTP server firms log in to: SSH (ssh2) with password or public-key login per firm, the sftp
// subsystem only, and each firm jailed in its virtual home (sftp-session.ts). Failed logins are
// throttled per address (attempts being checked counted with them); logins must finish in time; idle
// connections are ended; a connection has at most MAX_OPEN_DOWNLOADS files open for download.
import net, { type Socket } from 'node:net';
import ssh2, { type AuthContext, type Connection, type Session } from 'ssh2';
import { configError } from '../errors.js';
import { makeFolder } from '../folders.js';
import { DownloadSlots } from './download.js';
import { FirmView } from './firm-view.js';
import { IdleTimer } from './idle-timer.js';
import { defaultSiteLimits } from './limits.js';
import { decideThrottledLogin } from './login.js';
import { LoginThrottle } from './login-throttle.js';
import { SftpSession, type SiteLog } from './sftp-session.js';
import type { SiteBackend, SiteLimits } from './site.js';
import { StagedUploads } from './staged-uploads.js';
import { diskTempFiles, sweepTempFiles, type TempFiles } from './temp-files.js';

export { defaultSiteLimits } from './limits.js';

export interface SftpServerOptions {
  backend: SiteBackend;
  /** Overrides of defaultSiteLimits() (the environment's). */
  limits?: Partial<SiteLimits>;
  /** Where uploads are kept while under way (created if missing; private files). Downloads are not. */
  uploadDir: string;
  /** Structured events: logins, uploads, refusals, errors. Never given a password. */
  log?: SiteLog;
  /** A connection that has not logged in within this is dropped (default 30 s). */
  loginTimeoutMs?: number;
  /** How long an upload closed under a temporary name waits for its rename (default 1 hour). */
  stagedTtlMs?: number;
  /** How temp files are made; tests replace it to fail as a full disk does. */
  tempFiles?: TempFiles;
}

export interface SftpServer {
  /** The port listened on (the one chosen when 0 was asked for). */
  port: number;
  /** Stops listening, ends every connection (uploads never closed are discarded) and waits for them. */
  close(): Promise<void>;
}

/** SSH sessions one connection may hold open at once. */
const MAX_SESSIONS = 8;
/** Temp files not touched for this long at start were left by a process that stopped. */
const STALE_TEMP_MS = 24 * 3600_000;
/** How long close() waits for requests under way. */
const CLOSE_GRACE_MS = 10_000;
const AUTH_METHODS: ['password', 'publickey'] = ['password', 'publickey'];

interface Conn {
  socket: Socket;
  address: string;
  client?: Connection;
  firmId?: string;
  loginTimer?: NodeJS.Timeout;
  idle?: IdleTimer;
  sessions: number;
  sftp: Set<SftpSession>;
  downloads: DownloadSlots;
  closed: boolean;
}

/** IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d; one address is counted once. */
const addressOf = (s: Socket) => (s.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.)/, '');
const peerKey = (ip: string | undefined, port: number | undefined) => JSON.stringify([ip, port]);

export async function startSftpServer(
  o: SftpServerOptions & { port: number; host?: string },
): Promise<SftpServer> {
  const limits: SiteLimits = { ...defaultSiteLimits(), ...o.limits };
  const loginTimeoutMs = o.loginTimeoutMs ?? 30_000;
  const tempFiles = o.tempFiles ?? diskTempFiles;
  const log: SiteLog = (event, detail) => {
    try {
      o.log?.(event, detail);
    } catch {
      // a failing logger must not take a connection down
    }
  };
  await makeFolder(o.uploadDir);
  await sweepTempFiles(o.uploadDir, STALE_TEMP_MS);
  const hostKey = await o.backend.hostKey();
  const parsed = ssh2.utils.parseKey(hostKey);
  if (parsed instanceof Error) throw configError(`the SFTP host key cannot be read: ${parsed.message}`);

  const throttle = new LoginThrottle(limits);
  const staged = new StagedUploads(o.stagedTtlMs ?? 3600_000, 100, (firm, name) =>
    log('sftp.upload_discarded', { firm, name, reason: 'not renamed to a final name in time' }),
  );
  const conns = new Set<Conn>();
  /** Sockets handed to ssh2 whose SSH connection has not shown itself yet, by peer ip and port. */
  const awaiting = new Map<string, Conn>();
  const ending = new Set<Promise<void>>();
  let closing = false;

  const ssh = new ssh2.Server({ hostKeys: [hostKey], ident: 'Caseport' });
  ssh.on('error', (e: Error) => log('sftp.error', { error: e.message }));

  const drop = (conn: Conn, why?: string) => {
    if (why) log(why, { address: conn.address, firm: conn.firmId });
    try {
      conn.client?.end();
    } catch {
      // already gone
    }
    if (!conn.client) conn.socket.destroy();
    else setTimeout(() => conn.socket.destroy(), 1000).unref();
  };

  const onClosed = (conn: Conn) => {
    if (conn.closed) return;
    conn.closed = true;
    clearTimeout(conn.loginTimer);
    conn.idle?.stop();
    awaiting.delete(peerKey(conn.socket.remoteAddress, conn.socket.remotePort));
    conns.delete(conn);
    for (const s of conn.sftp) endSession(s, 'the connection closed before the file was closed');
  };

  /** Ends an SFTP session (its unclosed uploads discarded) and keeps track until its requests are done. */
  const endSession = (s: SftpSession, reason: string) => {
    const p = s
      .end(reason)
      .then(() => s.drain())
      .catch((e) => log('sftp.bug', { error: String((e as Error)?.stack ?? e) }))
      .finally(() => ending.delete(p));
    ending.add(p);
  };

  const netServer = net.createServer((socket) => {
    if (closing) return socket.destroy();
    const conn: Conn = {
      socket,
      address: addressOf(socket),
      sessions: 0,
      sftp: new Set(),
      downloads: new DownloadSlots(),
      closed: false,
    };
    conns.add(conn);
    socket.on('error', () => {});
    socket.once('close', () => onClosed(conn));
    conn.loginTimer = setTimeout(() => drop(conn, 'sftp.login_timeout'), loginTimeoutMs);
    awaiting.set(peerKey(socket.remoteAddress, socket.remotePort), conn);
    ssh.injectSocket(socket);
  });

  ssh.on('connection', (client: Connection, info: { ip: string; port: number }) => {
    const key = peerKey(info.ip, info.port);
    const conn = awaiting.get(key);
    awaiting.delete(key);
    if (!conn) return client.end();
    conn.client = client;
    client.on('error', (e: Error) =>
      log('sftp.connection_error', { address: conn.address, firm: conn.firmId, error: e.message }),
    );
    client.on('authentication', (ctx) => {
      authenticate(conn, ctx).catch((e) => {
        log('sftp.bug', { address: conn.address, error: String((e as Error)?.stack ?? e) });
        rejectQuietly(ctx);
      });
    });
    client.on('ready', () => {
      clearTimeout(conn.loginTimer);
      if (conn.closed) return;
      conn.idle = new IdleTimer(limits.idleTimeoutMs, () => drop(conn, 'sftp.idle_timeout'));
    });
    client.on('session', (accept, reject) => {
      if (conn.sessions >= MAX_SESSIONS || !conn.firmId || !conn.idle) return reject();
      conn.sessions++;
      const session = accept();
      session.once('close', () => conn.sessions--);
      refuseAllBut(session, conn);
    });
    // Forwarding of any kind is refused: the SSH server is for files only.
    client.on('tcpip', (_a, reject) => refused(conn, 'tcpip forwarding', reject));
    client.on('openssh.streamlocal', (_a, reject) => refused(conn, 'unix socket forwarding', reject));
    client.on('request', (_a, reject, name) => refused(conn, `${name} request`, reject));
  });

  const refused = (conn: Conn, what: string, reject: (() => void) | undefined) => {
    log('sftp.refused', { address: conn.address, firm: conn.firmId, what });
    reject?.();
  };

  /** Allows the sftp subsystem on a session; refuses shells, commands, terminals, agents, X11. */
  const refuseAllBut = (session: Session, conn: Conn) => {
    for (const what of ['pty', 'x11', 'auth-agent', 'shell', 'exec']) {
      session.on(what, (_a: unknown, reject?: () => void) => refused(conn, what, reject));
    }
    // Sent by many clients as a matter of course (OpenSSH's SendEnv LANG): refused without a log line.
    for (const what of ['env', 'signal', 'window-change']) {
      session.on(what, (_a: unknown, reject?: () => void) => reject?.());
    }
    session.on('subsystem', (_a, reject, info) => refused(conn, `subsystem ${info.name}`, reject));
    session.on('sftp', (accept, reject) => {
      const firmId = conn.firmId;
      const idle = conn.idle;
      if (!firmId || !idle || conn.closed) return reject();
      const sftp = accept();
      const s = new SftpSession(sftp, {
        view: new FirmView(firmId, o.backend, staged),
        address: conn.address,
        backend: o.backend,
        staged,
        tempFiles,
        uploadDir: o.uploadDir,
        maxFileBytes: limits.maxFileBytes,
        downloads: conn.downloads,
        log,
        activity: idle,
      });
      conn.sftp.add(s);
      sftp.on('error', (e: Error) =>
        log('sftp.session_error', { address: conn.address, firm: firmId, error: e.message }),
      );
      // The client's EOF ends the session: close our side too, or OpenSSH's sftp waits for it forever.
      sftp.once('end', () => sftp.end());
      sftp.once('close', () => {
        conn.sftp.delete(s);
        endSession(s, 'the session closed before the file was closed');
      });
    });
  };

  const authenticate = async (conn: Conn, ctx: AuthContext) => {
    const detail = { address: conn.address, firm: ctx.username, method: ctx.method };
    if (conn.closed) return rejectQuietly(ctx);
    const decision = await decideThrottledLogin(o.backend, ctx, throttle, conn.address);
    if (conn.closed) return rejectQuietly(ctx);
    switch (decision.kind) {
      case 'throttled':
        log('sftp.login_throttled', detail);
        rejectQuietly(ctx);
        return drop(conn);
      case 'accept':
        conn.firmId = ctx.username;
        log('sftp.login_ok', detail);
        return ctx.accept();
      case 'key_acceptable':
        return ctx.accept();
      case 'failed':
        log('sftp.login_failed', { ...detail, reason: decision.why });
        return ctx.reject(AUTH_METHODS);
      case 'not_accepted':
        return ctx.reject(AUTH_METHODS);
    }
  };

  await new Promise<void>((resolve, reject) => {
    netServer.once('error', reject);
    netServer.listen(o.port, o.host, () => {
      netServer.off('error', reject);
      resolve();
    });
  });
  netServer.on('error', (e) => log('sftp.error', { error: e.message }));
  const address = netServer.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  log('sftp.listening', { host: o.host ?? '(all)', port });

  return {
    port,
    async close() {
      closing = true;
      const stopped = new Promise<void>((resolve) => netServer.close(() => resolve()));
      for (const conn of conns) drop(conn);
      const deadline = Date.now() + 2000;
      while (conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const conn of conns) conn.socket.destroy();
      // Requests under way (an upload being received) are waited for, but not for ever.
      const settled = (async () => {
        while (ending.size > 0) await Promise.allSettled([...ending]);
      })();
      await Promise.race([settled, new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
      await staged.clear();
      await stopped;
    },
  };
}

function rejectQuietly(ctx: AuthContext): void {
  try {
    ctx.reject(AUTH_METHODS);
  } catch {
    // the connection is already gone
  }
}
