/**
 * The CLI's only window on the world: stdout for the product, stderr for messages. Commands take
 * an `Io` so tests of the command layer can capture both, and nothing else prints.
 */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stdout is a terminal (colour, live progress, confirmation prompt). */
  isTty: boolean;
  stdinIsTty: boolean;
  color: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): Io {
  const isTty = Boolean(process.stdout.isTTY);
  const noColor = process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '';
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTty,
    stdinIsTty: Boolean(process.stdin.isTTY),
    color: isTty && !noColor && process.env['TERM'] !== 'dumb',
    env: process.env,
    cwd: process.cwd(),
  };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(io: Pick<Io, 'color'>, colour: Colour, text: string): string {
  return io.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}
