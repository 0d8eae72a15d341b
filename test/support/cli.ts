import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built binary, as users run it (npm test builds first). */
export const cliPath = join(repoRoot, 'dist', 'bin', 'ecfence.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `ecfence` binary in `cwd` with a clean environment plus `env`. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<CliResult> {
  return runProcess(process.execPath, [cliPath, ...args], {
    ...options,
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', ...options.env },
  });
}

/** util-linux `script` is installed: it gives the binary a terminal (see `runCliOnTerminal`). */
export const canRunOnTerminal = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Runs the built binary on a terminal (a pseudo-terminal from util-linux `script`), typing `input`:
 * for what ecfence does only on a terminal, such as asking before it applies. Its stdout and stderr
 * arrive together, as on a screen.
 */
export function runCliOnTerminal(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input: string },
): Promise<CliResult> {
  const quoted = [process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return runProcess('script', ['-qec', quoted, '/dev/null'], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', TERM: 'dumb', ...options.env },
    input: options.input,
  });
}

/** Runs a command with exactly the environment `env`, and collects its output and exit code. */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string>; input?: string },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // A child that exits without reading its input: its output and exit code are what count.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A throw-away project directory with the given files (paths relative to it). */
export function makeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-test-'));
  writeProjectFiles(dir, files);
  return dir;
}

export function writeProjectFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}
