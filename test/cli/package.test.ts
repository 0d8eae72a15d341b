/**
 * What `npm install ecfence` gets: only what the binary and the CI scripts load, and source maps
 * that let an internal error name the TypeScript lines it came from.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { sourceMappedStack } from '../../src/cli/stack.js';
import { repoRoot } from '../support/cli.js';

it('npm pack ships the bundle, the CI scripts and their maps, and no compiled sources', () => {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: repoRoot, encoding: 'utf8' }),
  ) as { files: { path: string }[] }[];
  const files = (packed?.files ?? []).map((f) => f.path);
  for (const needed of [
    'dist/bin/ecfence.js',
    'dist/bin/ecfence.js.map',
    'dist/ci/github-comment.js',
    'dist/ci/gitlab-note.js',
  ]) {
    expect(files).toContain(needed);
  }
  expect(
    files.filter(
      (f) =>
        !/^(dist\/(bin|ci)\/|schemas\/[\w-]+\.schema\.json$|(README|CHANGELOG)\.md$|package\.json$)/.test(f),
    ),
  ).toEqual([]);
  // Every chunk the entry loads is shipped.
  const meta = JSON.parse(readFileSync(join(repoRoot, 'dist', 'bundle-meta.json'), 'utf8')) as {
    outputs: Record<string, unknown>;
  };
  for (const output of Object.keys(meta.outputs)) expect(files).toContain(output);
});

it('an internal error names the TypeScript line, read from the map shipped beside the bundle', () => {
  const bundle = join(repoRoot, 'dist', 'bin', 'ecfence.js');
  const lines = readFileSync(bundle, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes('This is a bug in ecfence'));
  const column = (lines[line] ?? '').indexOf('This is a bug in ecfence');
  const stack = `Error: boom\n    at report (${pathToFileURL(bundle).href}:${line + 1}:${column + 1})\n    at node:internal/x:1:1`;
  const source = readFileSync(join(repoRoot, 'src', 'cli', 'stack.ts'), 'utf8').split('\n');
  const expected = source.findIndex((l) => l.includes('This is a bug in ecfence')) + 1;
  expect(sourceMappedStack(stack)).toMatch(
    new RegExp(
      `^Error: boom\\n {4}at report \\(src/cli/stack\\.ts:${expected}:\\d+\\)\\n {4}at node:internal/x:1:1$`,
    ),
  );
});
