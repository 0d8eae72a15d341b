/**
 * examples/github/plan-matrix.yml: its combine step, run by bash as the runner runs it, on the
 * artifacts the matrix jobs leave (one per environment: exit code, and the Markdown plan if any).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, runProcess } from '../support/cli.js';

interface Step {
  name?: string;
  run?: string;
}
const workflow = parse(readFileSync(join(repoRoot, 'examples', 'github', 'plan-matrix.yml'), 'utf8')) as {
  jobs: Record<string, { steps: Step[] }>;
};
const combine = workflow.jobs['comment']?.steps.find((s) => s.name === "Combine the environments' plans");

it('combines the environments into one comment whose verdict is the worst outcome', async () => {
  if (!combine?.run) throw new Error('plan-matrix.yml has no combine step');
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-matrix-'));
  const artifact = (name: string, code: string, markdown?: string): void => {
    const at = join(dir, 'plans', `ecfence-plan-${name}`);
    mkdirSync(at, { recursive: true });
    writeFileSync(join(at, 'exitcode'), `${code}\n`);
    if (markdown !== undefined) writeFileSync(join(at, 'plan.md'), markdown);
  };
  artifact('hosted-prod', '2', '### ecfence plan\n\n**Plan: 1 to create.**\n');
  artifact('onprem', '1', '### ecfence plan\n\n**Nothing planned. 1 environment could not be read.**\n');
  artifact('serverless', '3');
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const result = await runProcess('bash', ['-e', '-c', combine.run], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', GITHUB_OUTPUT: output },
  });
  expect(result.code).toBe(0);
  expect(readFileSync(output, 'utf8')).toBe('exitcode=1\n');
  const combined = readFileSync(join(dir, 'combined.md'), 'utf8');
  expect(combined.indexOf('Plan: 1 to create')).toBeLessThan(combined.indexOf('could not be read'));
  expect(combined).toContain('### ecfence plan: serverless\n\nNo plan (exit 3): see the job log');
});
