import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot, runProcess } from '../support/cli.js';

it('npm run demo ends with no changes, and writes no colour codes into a pipe', async () => {
  const r = await runProcess(process.execPath, [join(repoRoot, 'dist', 'scripts', 'demo.js')], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'] ?? '' },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('No changes. Live state matches the configuration.');
  expect(r.stdout + r.stderr).not.toContain('\u001b');
});
