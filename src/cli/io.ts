import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Redactor } from '../secrets/redactor.js';
import { safeOutput } from '../secrets/untrusted-text.js';

/**
 * The CLI's only window on the world: stdout for the product, stderr for messages, and the files a
 * command writes. Commands take an `Io` so tests of the command layer can capture all of it, and
 * nothing else prints.
 *
 * Every write is a final write (issue 22): the implementation scrubs it of the run's secrets
 * (`redactor`, last), and stdout and stderr also escape control characters and defuse lines that
 * GitHub Actions would run as workflow commands. Only `workflowCommands` may write those.
 */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Workflow commands ecfence means (`validate --format github`), to stdout: scrubbed only. */
  workflowCommands: (text: string) => void;
  /** Writes a file atomically (temp file + rename, so a reader never sees half of it), scrubbed. */
  writeFile: (path: string, text: string) => void;
  /** The secrets of this run: every credential read is added here before it is sent. */
  redactor: Redactor;
  /** stdout is a terminal (colour, live progress, confirmation prompt). */
  isTty: boolean;
  stdinIsTty: boolean;
  color: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** `writeFile` of an `Io`: scrubbed, atomic, relative paths from `cwd`. */
function writeFileAtomically(redactor: Redactor, cwd: string, path: string, text: string): void {
  const full = resolve(cwd, path);
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.tmp`);
  writeFileSync(tmp, redactor.scrub(text), { mode: 0o644 });
  renameSync(tmp, full);
}

export function processIo(): Io {
  const isTty = Boolean(process.stdout.isTTY);
  const errIsTty = Boolean(process.stderr.isTTY);
  const noColor = process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '';
  const redactor = new Redactor();
  const cwd = process.cwd();
  return {
    stdout: (text) => void process.stdout.write(safeOutput(redactor, text, isTty)),
    stderr: (text) => void process.stderr.write(safeOutput(redactor, text, errIsTty)),
    workflowCommands: (text) => void process.stdout.write(redactor.scrub(text)),
    writeFile: (path, text) => writeFileAtomically(redactor, cwd, path, text),
    redactor,
    isTty,
    stdinIsTty: Boolean(process.stdin.isTTY),
    color: isTty && !noColor && process.env['TERM'] !== 'dumb',
    env: process.env,
    cwd,
  };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(io: Pick<Io, 'color'>, colour: Colour, text: string): string {
  return io.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}
