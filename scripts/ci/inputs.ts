import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Outcome } from '../github/comment.js';

/** What the CI scripts read from their environment and the files the plan step wrote. */

type Env = Readonly<Record<string, string | undefined>>;

/** The text of a file the CI step wrote, at most its first `max` bytes; '' when there is none. */
export function readBounded(path: string | undefined, max = 1024 * 1024): string {
  if (!path) return '';
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(max);
    let length = 0;
    for (let n; length < max && (n = readSync(fd, buffer, length, max - length, null)) > 0;) length += n;
    return buffer.subarray(0, length).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The outcome of the plan step, as the action and the GitLab recipe hand it over:
 * ECFENCE_EXIT_CODE (empty: ecfence did not run), ECFENCE_PLAN_MD (the Markdown plan), ECFENCE_LOG
 * (ecfence's stderr), ECFENCE_FORK=true (a fork's pull request: validated only).
 */
export function outcomeFrom(env: Env): Outcome {
  const code = env['ECFENCE_EXIT_CODE'];
  return {
    exitCode: code === undefined || !/^\d+$/.test(code) ? undefined : Number(code),
    markdown: readBounded(env['ECFENCE_PLAN_MD']),
    log: readBounded(env['ECFENCE_LOG']),
    fork: env['ECFENCE_FORK'] === 'true',
  };
}

/** `prod staging` or `prod,staging` → `['prod', 'staging']`. */
export function environmentsFrom(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

/** The module at `moduleUrl` is the script node was asked to run, through any symlink npm made to it. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
