/**
 * The composite action's steps, executed by bash the way the runner executes them (inputs as
 * environment variables), with ecfence installed from its packed tarball (`npm pack`, as it is
 * published), against the emulator, and the PR comment against the GitHub-like server: one test
 * per outcome the comment must tell.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
  'working-directory'?: string;
}
const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: ActionStep[] };
};
const stepById = (id: string): ActionStep | undefined => action.runs.steps.find((s) => s.id === id);
const commentStep = action.runs.steps.find((s) => s.name === 'Comment the plan');
const KEY = 'essu_CANARY_action_key_0000';
const DEP = 'a0000000000000000000000000000001';
const PKG = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

interface Context {
  actionPath: string;
  inputs: Record<string, string>;
  outputs: Record<string, Record<string, string>>;
  event: unknown;
}

interface ActionResult extends CliResult {
  outputs: Record<string, Record<string, string>>;
}

/** `github.event.pull_request.head.repo.full_name` and the like, read from the event. */
function eventValue(event: unknown, path: string[]): string {
  let value = event;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value === undefined || value === null ? '' : String(value);
}

/** `value` with the expressions the runner would substitute. */
function expand(value: string, ctx: Context): string {
  return value.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
    if (expr === 'github.action_path') return ctx.actionPath;
    if (expr.startsWith('github.event.')) return eventValue(ctx.event, expr.split('.').slice(2));
    const input = /^inputs\.([\w-]+)$/.exec(expr)?.[1];
    if (input !== undefined) return ctx.inputs[input] ?? action.inputs[input]?.default ?? '';
    const output = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (output) return ctx.outputs[output[1] as string]?.[output[2] as string] ?? '';
    throw new Error(`unknown expression ${expr}`);
  });
}

/** The step's `env:`, expanded. */
function stepEnv(s: ActionStep | undefined, ctx: Context): Record<string, string> {
  return Object.fromEntries(Object.entries(s?.env ?? {}).map(([k, v]) => [k, expand(v, ctx)]));
}

/** One `shell: bash` step, run the way the runner runs it: its env over the job's; its outputs. */
async function runStep(
  s: ActionStep | undefined,
  cwd: string,
  env: Record<string, string>,
  ctx: Context,
): Promise<CliResult & { outputs: Record<string, string> }> {
  const outputFile = join(mkdtempSync(join(tmpdir(), 'ecfence-step-')), 'output');
  writeFileSync(outputFile, '');
  const directory = s?.['working-directory'];
  const result = await runProcess(
    'bash',
    ['--noprofile', '--norc', '-eo', 'pipefail', '-c', s?.run ?? 'exit 99'],
    {
      cwd: directory === undefined ? cwd : resolve(cwd, expand(directory, ctx)),
      env: { ...env, GITHUB_OUTPUT: outputFile, ...stepEnv(s, ctx) },
    },
  );
  const outputs = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ...result, outputs };
}

/**
 * The action's steps after setup-node, with `inputs` and the job's environment `jobEnv` (where a
 * workflow's `env:` for the action goes). `home` stands for what the install step installed
 * (skipping it); the comment step runs when its condition holds (every plan).
 */
async function runAction(
  inputs: Record<string, string>,
  cwd: string,
  jobEnv: Record<string, string>,
  options: { home?: string; event?: unknown; actionPath?: string } = {},
): Promise<ActionResult> {
  const temp = mkdtempSync(join(tmpdir(), 'ecfence-action-'));
  const base = {
    PATH: process.env['PATH'] ?? '',
    HOME: temp,
    NO_COLOR: '1',
    RUNNER_TEMP: temp,
    GITHUB_JOB: 'test',
    ...jobEnv,
  };
  const ctx: Context = {
    actionPath: options.actionPath ?? repoRoot,
    inputs,
    outputs: {},
    event: options.event,
  };
  const results: CliResult[] = [];
  if (options.home !== undefined) ctx.outputs['install'] = { home: options.home };
  else {
    const install = await runStep(stepById('install'), cwd, base, ctx);
    results.push(install);
    ctx.outputs['install'] = install.outputs;
  }
  const run = await runStep(stepById('run'), cwd, base, ctx);
  results.push(run);
  ctx.outputs['run'] = run.outputs;
  // `if: ${{ !cancelled() && inputs.command == 'plan' }}`
  if (inputs['command'] === 'plan') results.push(await runStep(commentStep, cwd, base, ctx));
  return {
    code: results.find((r) => r.code !== 0)?.code ?? 0,
    stdout: results.map((r) => r.stdout).join(''),
    stderr: results.map((r) => r.stderr).join(''),
    outputs: ctx.outputs,
  };
}

/** `npm pack` of this repository, unpacked, with the dependencies it declares beside it. */
function packedEcfence(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-packed-'));
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' }),
  ) as { filename: string; files: { path: string }[] }[];
  execFileSync('tar', ['-xzf', join(dir, packed?.filename ?? ''), '-C', dir]);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'package', 'node_modules'));
  return join(dir, 'package');
}

const POLICY = (source: string) =>
  'environment: prod\npolicies:\n  - name: office\n    region: us-east-1\n    type: ip\n    rules:\n' +
  `      - source: ${source}\nassociations:\n  - deployment: ${DEP}\n    policies: [office]\n`;

describe('action.yml', () => {
  let emulator: Emulator;
  let github: FakeGitHub;
  let home: string;
  beforeAll(async () => {
    home = packedEcfence();
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
  beforeEach(() => {
    github.comments.clear();
    github.readOnly = false;
  });

  /** A repository with ecfence in `infra/`, a pull request event and a job summary. */
  function repository(policy = POLICY('10.0.0.0/8')) {
    const root = makeProject({
      'infra/ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${emulator.url}\n`,
      'infra/policies/main.yaml': policy,
    });
    const event = { pull_request: { number: 3, head: { sha: 'abc', repo: { full_name: 'acme/infra' } } } };
    writeFileSync(join(root, 'event.json'), JSON.stringify(event));
    writeFileSync(join(root, 'summary.md'), '');
    const env = {
      EC_API_KEY: KEY,
      GITHUB_REPOSITORY: 'acme/infra',
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: join(root, 'event.json'),
      GITHUB_STEP_SUMMARY: join(root, 'summary.md'),
      GITHUB_WORKSPACE: root,
    };
    const summary = () => readFileSync(join(root, 'summary.md'), 'utf8');
    return { root, event, env, summary };
  }
  const plan = {
    command: 'plan',
    'working-directory': 'infra',
    environments: 'prod',
    'github-token': FAKE_TOKEN,
  };
  const comments = () => (github.comments.get(3) ?? []).map((c) => c.body);

  it('runs a pinned, prebuilt ecfence: installed by npm from the release, never built', async () => {
    const install = stepById('install');
    expect(install?.run).not.toMatch(/npm (ci|run build)|tsc/);
    expect(stepById('run')?.env?.['ECFENCE_BIN']).toBe(
      '${{ steps.install.outputs.home }}/dist/bin/ecfence.js',
    );
    expect(commentStep?.env?.['ECFENCE_COMMENT_JS']).toBe(
      '${{ steps.install.outputs.home }}/dist/ci/github-comment.js',
    );
    // npm as a stand-in that records what it was asked and installs the packed package.
    const bin = mkdtempSync(join(tmpdir(), 'ecfence-fake-npm-'));
    const record = join(bin, 'npm.json');
    writeFileSync(
      join(bin, 'npm'),
      `#!/usr/bin/env bash
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({ args: process.argv.slice(2), env: process.env }))' ${record} "$@"
while [ $# -gt 0 ]; do if [ "$1" = --prefix ]; then prefix="$2"; fi; shift; done
mkdir -p "$prefix/node_modules" && ln -s ${home} "$prefix/node_modules/ecfence"
`,
    );
    chmodSync(join(bin, 'npm'), 0o755);
    const { root, env } = repository();
    const r = await runAction(plan, root, { ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` });
    const npm = JSON.parse(readFileSync(record, 'utf8')) as { args: string[]; env: Record<string, string> };
    expect(npm.args).toContain(`ecfence@${PKG.version}`);
    expect(npm.args).toContain('--ignore-scripts');
    expect(npm.env['EC_API_KEY']).toBeUndefined();
    expect(r.outputs['run']).toMatchObject({ exitcode: '2', changes: 'true' });
    expect(comments()).toHaveLength(1);

    const ctx: Context = {
      actionPath: repoRoot,
      inputs: { version: '9.9.9' },
      outputs: {},
      event: undefined,
    };
    const temp = mkdtempSync(join(tmpdir(), 'ecfence-action-'));
    const pinned = await runStep(
      stepById('install'),
      root,
      { PATH: `${bin}:${process.env['PATH'] ?? ''}`, HOME: temp, RUNNER_TEMP: temp },
      ctx,
    );
    expect(pinned.code).toBe(0);
    expect((JSON.parse(readFileSync(record, 'utf8')) as { args: string[] }).args).toContain('ecfence@9.9.9');
  });

  it('plan: one comment, updated in place on every push, for changes and then for no changes', async () => {
    const { root, env, summary } = repository();
    const first = await runAction(plan, root, env, { home });
    expect(first.stderr).not.toContain(KEY);
    expect(first.code).toBe(0);
    expect(first.outputs['run']).toMatchObject({ exitcode: '2', changes: 'true' });
    expect(JSON.parse(readFileSync(first.outputs['run']?.['plan-file'] ?? '', 'utf8'))).toMatchObject({
      summary: { create: 1, associate: 1 },
    });
    expect(comments()).toEqual([
      expect.stringMatching(/^<!-- ecfence-plan:infra:prod -->\n### ecfence plan/),
    ]);
    expect(comments()[0]).toContain('| prod | 1 | 0 | 0 | 1 | 0 | 0 | 2 |');
    expect(first.stderr).toMatch(/plan comment created \(id \d+\)/);

    await runAction({ command: 'apply', 'working-directory': 'infra', environments: 'prod' }, root, env, {
      home,
    });
    const second = await runAction(plan, root, env, { home });
    expect(second.outputs['run']).toMatchObject({ exitcode: '0', changes: 'false' });
    expect(comments()).toHaveLength(1);
    expect(comments()[0]).toContain('No changes');
    expect(summary()).toContain('No changes');
  });

  it('invalid input: the comment and the summary show the errors instead of the last plan', async () => {
    const { root, env, summary } = repository(POLICY('vpn'));
    const stale =
      '<!-- ecfence-plan:infra:prod -->\n### ecfence plan\n\n| prod | 1 | 0 | 0 | 1 | 0 | 0 | 2 |\n';
    github.comments.set(3, [{ id: 77, body: stale, user: { login: 'github-actions[bot]' } }]);
    const r = await runAction(plan, root, env, { home });
    expect(r.code).toBe(3);
    expect(comments()).toHaveLength(1);
    const body = comments()[0] ?? '';
    expect(body).toContain('### ecfence plan: invalid input');
    expect(body).toContain("'vpn' is not an IPv4 address or CIDR");
    expect(body).toContain('      - source: vpn');
    expect(body).not.toContain('| prod |');
    expect(summary()).toContain('### ecfence plan: invalid input');
  });

  it('refused by a guard: the plan with the refusal; an API error: what ecfence said', async () => {
    const { root, env } = repository();
    await runAction({ command: 'apply', 'working-directory': 'infra', environments: 'prod' }, root, env, {
      home,
    });
    // The deployment would be left with no ingress policy: open to the internet.
    writeFileSync(
      join(root, 'infra', 'policies', 'main.yaml'),
      POLICY('10.0.0.0/8').replace(/associations:[^]*/, ''),
    );
    const refused = await runAction(plan, root, env, { home });
    expect(refused.code).toBe(4);
    expect(comments()[0]).toMatch(/unfiltered_target/);

    emulator.setFaults({ script: [{ method: 'GET', fault: '500', times: 1000 }] });
    try {
      const failed = await runAction(plan, root, { ...env, ECFENCE_RETRY_ATTEMPTS: '1' }, { home });
      expect(failed.code).toBe(1);
      expect(comments()).toHaveLength(1);
      expect(comments()[0]).toContain('### ecfence plan: error');
      expect(comments()[0]).toMatch(/GET \/deployments\/traffic-filter\/rulesets.* 500/);
      expect(comments()[0]).not.toContain('unfiltered_target');
    } finally {
      emulator.setFaults({});
    }
  });

  it('a pull request from a fork, without secrets: validate results and why there is no plan', async () => {
    const { root, event, env } = repository(POLICY('vpn'));
    const fork = {
      pull_request: { ...event.pull_request, head: { sha: 'abc', repo: { full_name: 'mallory/infra' } } },
    };
    writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify(fork));
    github.readOnly = true;
    const { EC_API_KEY: _none, ...withoutSecrets } = env;
    const r = await runAction(plan, root, withoutSecrets, { home, event: fork });
    expect(r.outputs['run']).toMatchObject({ fork: 'true', exitcode: '3' });
    expect(r.code).toBe(3);
    // The fork's token may not comment: one warning, and the summary has it.
    expect(r.stdout.match(/^::warning title=ecfence plan comment::.*403/gm)).toHaveLength(1);
    expect(r.stderr).not.toContain('created (id');
    const told = readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8');
    expect(told).toContain('### ecfence plan: validated only (pull request from a fork)');
    expect(told).toContain("none of the repository's secrets");
    expect(told).toContain("'vpn' is not an IPv4 address or CIDR");
  });

  it('validate from a working directory annotates files by their path from the repository root', async () => {
    const { root, env } = repository(POLICY('vpn'));
    const r = await runAction({ command: 'validate', 'working-directory': 'infra' }, root, env, { home });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^::error file=infra\/policies\/main\.yaml,line=7,col=17,/m);
  });

  it('gives the Elastic key to ecfence only and the GitHub token to the comment step only', async () => {
    // Stand-ins for the installed ecfence and comment script, recording the environment each is given.
    const stub = mkdtempSync(join(tmpdir(), 'ecfence-action-stub-'));
    const seen = { ecfence: join(stub, 'ecfence-env.json'), comment: join(stub, 'comment-env.json') };
    mkdirSync(join(stub, 'dist', 'bin'), { recursive: true });
    mkdirSync(join(stub, 'dist', 'ci'), { recursive: true });
    const record = (file: string, then = '') =>
      `require('node:fs').writeFileSync(${JSON.stringify(file)}, JSON.stringify(process.env));${then}\n`;
    writeFileSync(
      join(stub, 'dist', 'bin', 'ecfence.js'),
      record(seen.ecfence, "process.stdout.write('### ecfence plan\\n'); process.exitCode = 2;"),
    );
    writeFileSync(join(stub, 'dist', 'ci', 'github-comment.js'), record(seen.comment));
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
      { home: stub },
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
      'ECFENCE_EXIT_CODE',
      'ECFENCE_LOG',
      'ECFENCE_PLAN_MD',
      'ECFENCE_WORKING_DIRECTORY',
      'GITHUB_API_URL',
      'GITHUB_REPOSITORY',
      'GITHUB_TOKEN',
      'PATH',
    ]);
    expect(comment['GITHUB_TOKEN']).toBe(token);
    // No input is spliced into a script itself.
    for (const s of action.runs.steps) expect(s.run ?? '').not.toContain('${{');
    // The comment follows every plan, a failed one included, never a cancelled run.
    expect(commentStep?.if).toBe("${{ !cancelled() && inputs.command == 'plan' }}");
    // Where keys may go is the workflow's to say (an input), never a file of the repository's.
    expect(action.inputs['allowed-endpoints']?.default).toBe('');
    expect(stepById('run')?.env?.['ECFENCE_ALLOWED_ENDPOINTS']).toBe('${{ inputs.allowed-endpoints }}');
  });
});
