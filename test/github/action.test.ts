/**
 * The composite action's run script, executed by bash the way the runner executes it (inputs as
 * environment variables), with the built binary against the emulator and the PR comment against
 * the GitHub-like server.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, repoRoot, runProcess, type CliResult } from '../support/cli.js';
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub } from './fake-github.js';

interface ActionStep {
  id?: string;
  name?: string;
  if?: string;
  run?: string;
  env?: Record<string, string>;
}
const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: ActionStep[] };
};
const step = action.runs.steps.find((s) => s.id === 'run');
const commentStep = action.runs.steps.find((s) => s.name === 'Comment the plan');
const KEY = 'essu_CANARY_action_key_0000';
const DEP = 'a0000000000000000000000000000001';

interface StepResult extends CliResult {
  outputs: Record<string, string>;
}

/** The step's `env:`, with the expressions the runner would substitute. */
function stepEnv(
  s: ActionStep | undefined,
  ctx: { actionPath: string; inputs: Record<string, string>; outputs: Record<string, string> },
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s?.env ?? {}).map(([k, v]) => [
      k,
      v.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
        if (expr === 'github.action_path') return ctx.actionPath;
        const input = /^inputs\.([\w-]+)$/.exec(expr)?.[1];
        if (input !== undefined) return ctx.inputs[input] ?? action.inputs[input]?.default ?? '';
        const output = /^steps\.run\.outputs\.([\w-]+)$/.exec(expr)?.[1];
        if (output !== undefined) return ctx.outputs[output] ?? '';
        throw new Error(`unknown expression ${expr}`);
      }),
    ]),
  );
}

/** One `shell: bash` step, run the way the runner runs it: its env over the job's. */
function runBash(script: string, cwd: string, env: Record<string, string>): Promise<CliResult> {
  return runProcess('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env });
}

/**
 * The action's run step and, when its condition holds, the comment step, with `inputs` and the
 * job's environment `jobEnv` (where a workflow's `env:` for the action goes).
 */
async function runAction(
  inputs: Record<string, string>,
  cwd: string,
  jobEnv: Record<string, string>,
  actionPath = repoRoot,
): Promise<StepResult> {
  const temp = mkdtempSync(join(tmpdir(), 'ecfence-action-'));
  const outputFile = join(temp, 'output');
  writeFileSync(outputFile, '');
  const base = {
    PATH: process.env['PATH'] ?? '',
    NO_COLOR: '1',
    RUNNER_TEMP: temp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_JOB: 'test',
    ...jobEnv,
  };
  const outputs = (): Record<string, string> =>
    Object.fromEntries(
      readFileSync(outputFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  const ctx: { actionPath: string; inputs: Record<string, string>; outputs: Record<string, string> } = {
    actionPath,
    inputs,
    outputs: {},
  };
  const first = await runBash(step?.run ?? 'exit 99', cwd, { ...base, ...stepEnv(step, ctx) });
  ctx.outputs = outputs();
  if (ctx.outputs['commentable'] !== 'true') return { ...first, outputs: ctx.outputs };
  const second = await runBash(commentStep?.run ?? 'exit 99', cwd, { ...base, ...stepEnv(commentStep, ctx) });
  return {
    code: first.code !== 0 ? first.code : second.code,
    stdout: first.stdout + second.stdout,
    stderr: first.stderr + second.stderr,
    outputs: ctx.outputs,
  };
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
    // The paths the steps use are what `npm run build` produces.
    expect(step?.env?.['ECFENCE_BIN']).toBe('${{ github.action_path }}/dist/bin/ecfence.js');
    expect(existsSync(join(repoRoot, 'dist', 'bin', 'ecfence.js'))).toBe(true);
    expect(commentStep?.env?.['ECFENCE_COMMENT_JS']).toBe(
      '${{ github.action_path }}/dist/scripts/github/pr-comment.js',
    );
    expect(existsSync(join(repoRoot, 'dist', 'scripts', 'github', 'pr-comment.js'))).toBe(true);
    // No input is spliced into a script itself.
    for (const s of action.runs.steps) expect(s.run ?? '').not.toContain('${{');
    // The comment also follows a refused plan (a failed step), never a cancelled run.
    expect(commentStep?.if).toBe("${{ !cancelled() && steps.run.outputs.commentable == 'true' }}");
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
      GITHUB_REPOSITORY: 'acme/infra',
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_PATH: event,
      GITHUB_STEP_SUMMARY: summary,
    };
    const first = await runAction(
      { command: 'plan', environments: 'prod', 'github-token': FAKE_TOKEN },
      dir,
      githubEnv,
    );
    expect(first.stderr).not.toContain(KEY);
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({ exitcode: '2', changes: 'true' });
    expect(first.stdout).toContain('| prod | 1 | 0 | 0 | 1 | 0 | 0 | 2 |');
    expect(JSON.parse(readFileSync(first.outputs['plan-file'] ?? '', 'utf8'))).toMatchObject({
      summary: { create: 1, associate: 1 },
    });
    const second = await runAction(
      { command: 'plan', environments: 'prod', 'github-token': FAKE_TOKEN },
      dir,
      githubEnv,
    );
    expect(second.code).toBe(0);
    const comments = github.comments.get(3) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^<!-- ecfence-plan:\.:prod -->\n### ecfence plan/);
    expect(readFileSync(summary, 'utf8')).toContain('### ecfence plan');

    writeFileSync(join(dir, 'policies', 'main.yaml'), 'environment: prod\npolicies:\n  - name: x\n');
    const invalid = await runAction({ command: 'validate' }, dir, {});
    expect(invalid.code).toBe(3);
    expect(invalid.stdout).toMatch(/^::error file=policies\/main\.yaml,line=3/m);
  });

  it('gives the Elastic key to ecfence only and the GitHub token to the comment step only', async () => {
    // Stand-ins for the built ecfence and comment script, recording the environment each is given.
    const stub = mkdtempSync(join(tmpdir(), 'ecfence-action-stub-'));
    const seen = { ecfence: join(stub, 'ecfence-env.json'), comment: join(stub, 'comment-env.json') };
    mkdirSync(join(stub, 'dist', 'bin'), { recursive: true });
    mkdirSync(join(stub, 'dist', 'scripts', 'github'), { recursive: true });
    const record = (file: string, then = '') =>
      `require('node:fs').writeFileSync(${JSON.stringify(file)}, JSON.stringify(process.env));${then}\n`;
    writeFileSync(
      join(stub, 'dist', 'bin', 'ecfence.js'),
      record(seen.ecfence, "process.stdout.write('### ecfence plan\\n'); process.exitCode = 2;"),
    );
    writeFileSync(join(stub, 'dist', 'scripts', 'github', 'pr-comment.js'), record(seen.comment));
    const token = 'ghs_CANARY_least_privilege_token';
    const result = await runAction(
      { command: 'plan', 'github-token': token },
      makeProject({}),
      {
        EC_API_KEY: KEY,
        GITHUB_TOKEN: token,
        GH_TOKEN: token,
        ACTIONS_RUNTIME_TOKEN: 'runtime-canary',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-canary',
        GITHUB_REPOSITORY: 'acme/infra',
        GITHUB_API_URL: 'http://127.0.0.1:9',
      },
      stub,
    );
    expect(result.code, result.stderr).toBe(0);
    const ecfence = JSON.parse(readFileSync(seen.ecfence, 'utf8')) as Record<string, string>;
    const comment = JSON.parse(readFileSync(seen.comment, 'utf8')) as Record<string, string>;
    expect(ecfence['EC_API_KEY']).toBe(KEY);
    for (const canary of [token, 'runtime-canary', 'oidc-canary']) {
      expect(Object.values(ecfence)).not.toContain(canary);
    }
    expect(Object.keys(comment).sort()).toEqual([
      'ECFENCE_COMMENT',
      'ECFENCE_WORKING_DIRECTORY',
      'GITHUB_API_URL',
      'GITHUB_REPOSITORY',
      'GITHUB_TOKEN',
      'PATH',
    ]);
    expect(comment['GITHUB_TOKEN']).toBe(token);
  });
});
