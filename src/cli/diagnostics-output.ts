import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Io } from './io.js';
import { renderDiagnosticsText, type SourceLines } from './render/diagnostics.js';

/** Files larger than this are not quoted (the loader refuses them anyway). */
const MAX_QUOTED_BYTES = 5 * 1024 * 1024;

/**
 * The lines of the files diagnostics point into, read when first quoted. Only a regular file of
 * valid UTF-8 text is quoted (opened without blocking, so a FIFO put in its place cannot hang the
 * run); anything else is simply not quoted. The loader read these files a moment before and
 * confined their paths; this only shows what it read.
 */
export function sourceLinesReader(cwd: string): SourceLines {
  const cache = new Map<string, readonly string[] | undefined>();
  return (file) => {
    if (!cache.has(file)) cache.set(file, readLines(resolve(cwd, file)));
    return cache.get(file);
  };
}

function readLines(path: string): readonly string[] | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_QUOTED_BYTES) return undefined;
    const text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(fd));
    return text.split(/\r?\n/);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Diagnostics to stderr as people read them (see `renderDiagnosticsText`); returns the causes printed. */
export function printDiagnostics(
  io: Io,
  diagnostics: readonly Diagnostic[],
): { errors: number; warnings: number } {
  const { text, causes } = renderDiagnosticsText(diagnostics, sourceLinesReader(io.cwd));
  if (text !== '') io.stderr(text);
  return causes;
}

/**
 * The root of the repository `cwd` is in, which GitHub and GitLab name files from: `variable`
 * (GITHUB_WORKSPACE, CI_PROJECT_DIR) when the CI sets it, else the nearest directory above `cwd`
 * holding `.git` (a directory, or a file in a worktree or submodule), found without running git.
 * Undefined outside a repository: paths then stay relative to `cwd`.
 */
export function findRepositoryRoot(io: Pick<Io, 'cwd' | 'env'>, variable: string): string | undefined {
  const set = io.env[variable];
  if (set !== undefined && isAbsolute(set)) return set;
  for (let dir = resolve(io.cwd); ; dir = dirname(dir)) {
    try {
      lstatSync(join(dir, '.git'));
      return dir;
    } catch {
      // not here: one level up
    }
    if (dirname(dir) === dir) return undefined;
  }
}
