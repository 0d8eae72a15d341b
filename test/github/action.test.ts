/**
 * The composite action's run script, executed by bash the way the runner executes it (inputs as
 * environment variables), with the built binary against the emulator and the PR comment against
 * the GitHub-like server.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, repoRoot } from '../support/cli.js';
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub } from './fake-github.js';

interface ActionStep {
  id?: string;
  run?: string;
  env?: Record<string, string>;
}
const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: ActionStep[] };
};
const step = action.runs.steps.find((s) => s.id === 'run');
const KEY = 'essu_CANARY_action_key_0000';
const DEP = 'a0000000000000000000000000000001';

function runStep(
  inputs: Record<string, string>,
  cwd: string,
  extraEnv: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string; outputs: Record<string, string> }> {
  const temp = mkdtempSync(join(tmpdir(), 'ecfence-action-'));
  const outputFile = join(temp, 'output');
  writeFileSync(outputFile, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    NO_COLOR: '1',
    RUNNER_TEMP: temp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_JOB: 'test',
    ECFENCE_BIN: join(repoRoot, 'dist', 'bin', 'ecfence.js'),
    ECFENCE_COMMENT_JS: join(repoRoot, 'dist', 'scripts', 'github', 'pr-comment.js'),
    ECFENCE_COMMAND: inputs['command'] ?? '',
    ECFENCE_ARGS: inputs['args'] ?? '',
    ECFENCE_ENVIRONMENTS: inputs['environments'] ?? '',
    ECFENCE_WORKING_DIRECTORY: '.',
    ECFENCE_COMMENT: inputs['comment'] ?? 'true',
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    // How the runner invokes a composite `shell: bash` step.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step?.run ?? 'exit 99'], {
      cwd,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const outputs = Object.fromEntries(
        readFileSync(outputFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      resolve({ code, stdout, stderr, outputs });
    });
  });
}

describe('action.yml', () => {
  let emulator: Emulator;
  let github: FakeGitHub;
  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: { deployments: [{ id: DEP, name: 'prod-a', region: 'us-east-1' }] },
    });
    github = await startFakeGitHub();
  });
  afterAll(async () => {
    await emulator.close();
    await github.close();
  });

  it('is a composite action on Node 20 that builds ecfence from its own checkout', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.inputs['node-version']?.default).toBe('20');
    const install = action.runs.steps.find((s) => s.run?.includes('npm ci'));
    expect(install?.run).toContain('npm run build');
    // The paths the run step uses are what `npm run build` produces.
    expect(step?.env?.['ECFENCE_BIN']).toBe('${{ github.action_path }}/dist/bin/ecfence.js');
    expect(existsSync(join(repoRoot, 'dist', 'bin', 'ecfence.js'))).toBe(true);
    expect(step?.env?.['ECFENCE_COMMENT_JS']).toBe(
      '${{ github.action_path }}/dist/scripts/github/pr-comment.js',
    );
    expect(existsSync(join(repoRoot, 'dist', 'scripts', 'github', 'pr-comment.js'))).toBe(true);
    // No input is spliced into the script itself.
    expect(step?.run).not.toContain('${{');
    // Where keys may go is the workflow's to say (an input), never a file of the repository's.
    expect(action.inputs['allowed-endpoints']?.default).toBe('');
    expect(step?.env?.['ECFENCE_ALLOWED_ENDPOINTS']).toBe('${{ inputs.allowed-endpoints }}');
  });

  it('plans, comments once and updates that comment, and turns exit 2 into changes=true', async () => {
    const dir = makeProject({
      'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${emulator.url}\n`,
      'policies/main.yaml':
        'environment: prod\npolicies:\n  - name: office\n    region: us-east-1\n    type: ip\n    rules:\n      - source: 10.0.0.0/8\n' +
        `associations:\n  - deployment: ${DEP}\n    policies: [office]\n`,
    });
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: 3, head: { sha: 'abc' } } }));
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const githubEnv = {
      EC_API_KEY: KEY,
      GITHUB_TOKEN: FAKE_TOKEN,
      GITHUB_REPOSITORY: 'acme/infra',
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_PATH: event,
      GITHUB_STEP_SUMMARY: summary,
    };
    const first = await runStep({ command: 'plan', environments: 'prod' }, dir, githubEnv);
    expect(first.stderr).not.toContain(KEY);
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({ exitcode: '2', changes: 'true' });
    expect(first.stdout).toContain('| prod | 1 | 0 | 0 | 1 | 0 | 0 | 2 |');
    expect(JSON.parse(readFileSync(first.outputs['plan-file'] ?? '', 'utf8'))).toMatchObject({
      summary: { create: 1, associate: 1 },
    });
    const second = await runStep({ command: 'plan', environments: 'prod' }, dir, githubEnv);
    expect(second.code).toBe(0);
    const comments = github.comments.get(3) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^<!-- ecfence-plan:\.:prod -->\n### ecfence plan/);
    expect(readFileSync(summary, 'utf8')).toContain('### ecfence plan');

    writeFileSync(join(dir, 'policies', 'main.yaml'), 'environment: prod\npolicies:\n  - name: x\n');
    const invalid = await runStep({ command: 'validate' }, dir, {});
    expect(invalid.code).toBe(3);
    expect(invalid.stdout).toMatch(/^::error file=policies\/main\.yaml,line=3/m);
  });
});
