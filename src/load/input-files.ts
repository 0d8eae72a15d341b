import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { SourcePosition } from '../model/types.js';

/*
 * Every file the loader reads arrives in a pull request, so every path is hostile until confined:
 * it must resolve, symlinks followed, inside the directory that holds ecfence.yaml, be a regular
 * file, and be read in full within the size cap. Anything else stops the run with its own code:
 * a run that could not read all of its files must not plan (a policy in an unread file would be
 * planned for deletion).
 */

/** Files above this size are refused (counted as read, never trusted from `stat`). */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** The directory input must stay in: the one that holds ecfence.yaml, symlinks resolved. */
export interface InputRoot {
  /** As given (what paths are shown relative to). */
  dir: string;
  /** Its real path. */
  real: string;
}

export function inputRoot(dir: string): InputRoot {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    real = resolve(dir);
  }
  return { dir, real };
}

/** Why a path cannot be read as input; `code` is a diagnostic code. */
export interface PathProblem {
  code: string;
  /** Completes "'path' …". */
  reason: string;
}

/** Where a path leads: its real path, inside the root, or why it is refused. Reads nothing. */
export function confinePath(root: InputRoot, abs: string): { real: string } | PathProblem {
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (err) {
    return pathProblem(abs, err);
  }
  if (real !== root.real && !real.startsWith(root.real.endsWith(sep) ? root.real : root.real + sep)) {
    return {
      code: 'E_PATH_OUTSIDE',
      reason:
        'is outside the repository: paths must stay inside the directory that holds ecfence.yaml (symlinks included); it was not read',
    };
  }
  // git's own files are not input, and a checkout may keep a token in .git/config.
  if (relative(root.real, real).split(sep)[0] === '.git') {
    return {
      code: 'E_PATH_OUTSIDE',
      reason:
        "leads into the repository's .git directory (git's own files, which may hold credentials); it was not read",
    };
  }
  return { real };
}

function pathProblem(abs: string, err: unknown): PathProblem {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP')
    return { code: 'E_SYMLINK_LOOP', reason: 'is a symlink that loops (it never reaches a file)' };
  if (code === 'EACCES' || code === 'EPERM')
    return { code: 'E_UNREADABLE', reason: 'cannot be read (permission denied)' };
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return isSymlink(abs)
      ? {
          code: 'E_DANGLING_SYMLINK',
          reason: 'is a symlink to something that does not exist (a submodule not checked out?)',
        }
      : { code: 'E_MISSING_PATH', reason: 'does not exist' };
  }
  return { code: 'E_UNREADABLE', reason: `cannot be read (${code ?? 'read error'})` };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** `confinePath`, and the path must lead to a regular file. Reads nothing. */
export function confineFile(root: InputRoot, abs: string): { real: string } | PathProblem {
  const confined = confinePath(root, abs);
  if ('code' in confined) return confined;
  let stat: Stats;
  try {
    stat = statSync(confined.real);
  } catch (err) {
    return pathProblem(confined.real, err);
  }
  const kind = specialKind(stat);
  return kind === undefined ? confined : { code: 'E_SPECIAL_FILE', reason: `is ${kind}, not a regular file` };
}

/** What a non-regular file is, for messages; undefined for a regular file. */
export function specialKind(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * The text of one input file, read in full: opened without blocking (a FIFO would wait for a
 * writer for ever), checked to be a regular file on the open descriptor, and read up to one byte
 * past the cap, so that a file that lies about its size (a device, /proc) is still bounded.
 */
export function readInputFile(
  absPath: string,
  file: string,
  maxBytes: number = MAX_FILE_BYTES,
): { text: string } | { diagnostics: Diagnostic[] } {
  const fail = (code: string, message: string) => ({
    diagnostics: [diagnostic('error', code, message, { file })],
  });
  let fd: number;
  try {
    fd = openSync(absPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const problem = pathProblem(absPath, err);
    const code = problem.code === 'E_MISSING_PATH' ? 'E_FILE_NOT_FOUND' : problem.code;
    return fail(code, `cannot read '${file}': it ${problem.reason}`);
  }
  try {
    const kind = specialKind(fstatSync(fd));
    if (kind !== undefined)
      return fail('E_SPECIAL_FILE', `cannot read '${file}': it is ${kind}, not a regular file`);
    const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const room = Math.min(buffer.length, maxBytes + 1 - total);
      const n = readSync(fd, buffer, 0, room, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      total += n;
      if (total > maxBytes) {
        const mib = (maxBytes / (1024 * 1024)).toFixed(1);
        return fail('E_FILE_TOO_LARGE', `'${file}' is larger than ${mib} MiB; larger files are refused`);
      }
    }
    return decodeText(Buffer.concat(chunks, total), file, fail);
  } catch (err) {
    return fail(
      'E_UNREADABLE',
      `cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'read error'})`,
    );
  } finally {
    closeSync(fd);
  }
}

function decodeText<T>(
  bytes: Uint8Array,
  file: string,
  fail: (code: string, message: string) => T,
): { text: string } | T {
  if (bytes.includes(0)) return fail('E_NOT_TEXT', `'${file}' is not a text file (it contains NUL bytes)`);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return fail('E_NOT_TEXT', `'${file}' is not valid UTF-8 text`);
  }
}

/** One entry of `policies:` in ecfence.yaml, with where it was written. */
export interface PolicyPathEntry {
  value: string;
  at: SourcePosition;
}

/** A policy file found: the path shown to the user and the real path it is read from. */
export interface PolicyFilePath {
  abs: string;
  real: string;
}

const YAML_NAME = /\.ya?ml$/i;

/**
 * Expands the configured paths to policy files: files as given, directories recursively
 * (`*.yaml`, `*.yml`, names sorted, hidden entries such as `.github/` skipped). Every path must
 * stay inside `root`; a path or directory entry that cannot be followed (missing, a dangling or
 * looping symlink, unreadable, a FIFO, socket or device) is an error, never a skip. A directory
 * reached twice (through a symlink) is read once, and the config file itself is never a policy file.
 */
export function collectPolicyFiles(
  entries: readonly PolicyPathEntry[],
  root: InputRoot,
  configReal: string,
): { files: PolicyFilePath[]; diagnostics: Diagnostic[] } {
  const files: PolicyFilePath[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const walked = new Set<string>();
  const shown = (abs: string) => relative(root.dir, abs) || '.';

  // Policy files met (read now or already), so that a directory is called empty only when it is.
  let met = 0;
  const walk = (dir: string, realDir: string, at: SourcePosition, entry: string): void => {
    if (walked.has(realDir)) {
      met++;
      return;
    }
    walked.add(realDir);
    let names: string[];
    try {
      names = readdirSync(realDir).sort();
    } catch (err) {
      const problem = pathProblem(realDir, err);
      diagnostics.push(
        diagnostic('error', problem.code, `policies: directory '${shown(dir)}' ${problem.reason}`, at),
      );
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      visit(abs, at, entry, YAML_NAME.test(name));
    }
  };

  /** `wanted`: a file here is a policy file (a `policies:` entry, or a YAML name in a walked directory). */
  const visit = (abs: string, at: SourcePosition, entry: string, wanted: boolean): void => {
    const report = (code: string, reason: string) =>
      diagnostics.push(
        diagnostic(
          'error',
          code,
          abs === resolve(root.dir, entry)
            ? `policies: path '${entry}' ${reason}`
            : `policies: '${shown(abs)}' (under '${entry}') ${reason}`,
          at,
        ),
      );
    const confined = confinePath(root, abs);
    if ('code' in confined) {
      // Outside the repository: only what would be read is an error (a directory, a policy file).
      if (confined.code === 'E_PATH_OUTSIDE' && !wanted && !isDirectory(abs)) return;
      report(
        confined.code,
        confined.code === 'E_MISSING_PATH'
          ? `${confined.reason} (paths are relative to the directory of ecfence.yaml)`
          : confined.reason,
      );
      return;
    }
    let stat: Stats;
    try {
      stat = statSync(confined.real);
    } catch (err) {
      const problem = pathProblem(confined.real, err);
      report(problem.code, problem.reason);
      return;
    }
    if (stat.isDirectory()) {
      walk(abs, confined.real, at, entry);
      return;
    }
    const kind = specialKind(stat);
    if (kind !== undefined) {
      report('E_SPECIAL_FILE', `is ${kind}: policy paths must be regular files or directories`);
      return;
    }
    // The config file is never a policy file.
    if (!wanted || confined.real === configReal) return;
    met++;
    if (seen.has(confined.real)) return;
    seen.add(confined.real);
    files.push({ abs, real: confined.real });
  };

  for (const entry of entries) {
    const abs = resolve(root.dir, entry.value);
    const metBefore = met;
    const errorsBefore = diagnostics.length;
    visit(abs, entry.at, entry.value, true);
    if (met === metBefore && diagnostics.length === errorsBefore && isDirectory(abs)) {
      diagnostics.push(
        diagnostic(
          'warning',
          'W_NO_POLICY_FILES',
          `policies: directory '${entry.value}' contains no *.yaml or *.yml files`,
          entry.at,
        ),
      );
    }
  }
  return { files, diagnostics };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
