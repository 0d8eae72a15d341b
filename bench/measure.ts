/**
 * Runs a Node script as a child process and measures it from outside: wall time from spawn to
 * exit (Node start-up included, as a user sees it) and, through the preloaded rusage hook, the
 * child's own CPU time and peak RSS.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ProcessMeasure {
  exitCode: number;
  wallMs: number;
  /** User + system CPU of the child. */
  cpuMs: number;
  /** Peak resident set of the child. */
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

/** The repository root, found from this module whether it runs built (dist/bench) or as source. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the repository root');
    dir = parent;
  }
  return dir;
}

/** The middle value (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Built artefacts the benchmark runs as child processes (`npm run build` makes them). */
export const BUILT = {
  cli: join(repoRoot(), 'dist', 'bin', 'ecfence.js'),
  hook: join(repoRoot(), 'dist', 'bench', 'rusage-hook.js'),
  baseline: join(repoRoot(), 'dist', 'bench', 'baseline-main.js'),
} as const;

export interface RunOptions {
  cwd: string;
  env: Record<string, string | undefined>;
}

export async function measureNode(
  script: string,
  args: readonly string[],
  options: RunOptions,
): Promise<ProcessMeasure> {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-bench-rusage-'));
  const rusageFile = join(dir, 'rusage.json');
  try {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', pathToFileURL(BUILT.hook).href, script, ...args], {
      cwd: options.cwd,
      env: { ...options.env, ECFENCE_BENCH_RUSAGE_FILE: rusageFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const wallMs = performance.now() - started;
    const usage = JSON.parse(readFileSync(rusageFile, 'utf8')) as {
      userUs: number;
      systemUs: number;
      maxRssKb: number;
    };
    return {
      exitCode,
      wallMs,
      cpuMs: (usage.userUs + usage.systemUs) / 1000,
      peakRssMb: usage.maxRssKb / 1024,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
