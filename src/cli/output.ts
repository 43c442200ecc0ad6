// How the CLI talks: one clear line per error on stderr, JSON or readable text on stdout, and a
// progress bar on stderr for long work when a person is watching.
import cliProgress from 'cli-progress';

export const EXIT = { ok: 0, failure: 1, usage: 2, incomplete: 3, interrupted: 4 } as const;

// Control characters a terminal acts on: C0 but the line feed (ESC starts colour and cursor sequences,
// CR and BS overwrite what is shown), DEL, and C1 (U+009B alone is a CSI, like ESC [). Messages quote
// cell values, file names and arguments as given, so they must reach the screen as visible text.
const TERMINAL_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
// JSON.stringify escapes only what is below U+0020; DEL and C1 stay raw in its strings.
const JSON_RAW_CONTROLS = /[\u007f-\u009f]/g;

/** A character as a visible escape: `\x1b`; C1 as `\u009b`, which is one character, not the byte 0x9B. */
function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x80
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text as it may be shown on a terminal: control characters escaped, line feeds kept. */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROLS, visibleEscape);
}

/** JSON with DEL and C1 written as \u escapes too, so it is as inert on a terminal as in a parser. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    JSON_RAW_CONTROLS,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

let guarded = false;
let writeFailed = false;

/**
 * Makes a reader that stops early (`caseport ... | head`) end the output, not the command: the
 * stream's EPIPE is otherwise an unhandled 'error' event, a stack trace in the middle of the work.
 * The command still finishes (an import still commits) with its own exit code; what it would have
 * printed is dropped, as the reader asked for no more. Any other write error (a full disk under
 * `> file`) is one line and exit 1, as the output the user asked for is incomplete.
 */
export function endOutputQuietlyWhenClosed(): void {
  if (guarded) return; // main() can run more than once in a process (tests)
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') return;
      const first = !writeFailed;
      writeFailed = true;
      process.exitCode = EXIT.failure;
      if (first && stream !== process.stderr) warn(`caseport: cannot write the output: ${e.message}`);
    });
  }
}

/** True once stdout or stderr failed for another reason than a reader that went away. */
export function outputFailed(): boolean {
  return writeFailed;
}

/** Writes unless the reader has gone (the stream was destroyed by its EPIPE): nothing to say then. */
function write(stream: NodeJS.WriteStream, text: string): void {
  if (!stream.destroyed) stream.write(text);
}

export function printJson(value: unknown): void {
  write(process.stdout, `${safeJson(value)}\n`);
}

export function say(line: string): void {
  write(process.stdout, `${terminalSafe(line)}\n`);
}

export function warn(line: string): void {
  write(process.stderr, `${terminalSafe(line)}\n`);
}

export interface Progress {
  /** `fraction` of the work done (0–1), and the rows done so far. */
  update(fraction: number, rows: number): void;
  stop(): void;
}

/** A bar on stderr while a person watches (a terminal, and not --json): percent, rows, time left. */
export function progressBar(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${terminalSafe(label)} [{bar}] {percentage}% | {rows} rows | {eta_formatted} left`,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(fraction, rows) {
      if (!started) {
        bar.start(1000, 0, { rows: 0 });
        started = true;
      }
      bar.update(Math.round(Math.min(1, fraction) * 1000), { rows: rows.toLocaleString('en-US') });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** Text for stdout as it is (JSON pieces written by a streaming printer; see safeJson). */
export function printRaw(text: string): void {
  write(process.stdout, text);
}
