/**
 * End-to-end: the built binary, run the way a user runs it, against the emulator over HTTP.
 * Asserts stdout, stderr and exit codes (SPEC §4).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import {
  canRunOnTerminal,
  cliPath,
  makeProject,
  repoRoot,
  runCli,
  runCliOnTerminal,
  writeProjectFiles,
} from '../support/cli.js';

const KEY = 'essu_CANARY_cli_e2e_key_0123456789';
const DEP_A = 'a0000000000000000000000000000001';
const DEP_B = 'b0000000000000000000000000000002';
const REGION = 'azure-japaneast';

const config = (url: string): string => `environments:\n  prod:\n    api: ess\n    endpoint: ${url}\n`;
const policies = (extra = ''): string => `
environment: prod
policies:
  - name: office-ingress
    region: ${REGION}
    type: ip
    description: Office networks
    rules:
      - source: 192.168.131.0
        description: Office
      - source: 10.20.0.0/16
${extra}
associations:
  - deployment: ${DEP_A}
    policies: [office-ingress]
  - deployment: ${DEP_B}
    policies: [office-ingress]
`;

describe('ecfence CLI (built binary)', () => {
  let emulator: Emulator;
  let dir: string;
  const env = { EC_API_KEY: KEY };

  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: {
        deployments: [
          { id: DEP_A, name: 'prod-a', region: REGION },
          { id: DEP_B, name: 'prod-b', region: REGION },
        ],
      },
    });
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.setFaults({});
    emulator.resetRequests();
  });

  // The first three send nothing to the emulator and write nothing: they run side by side.
  it.concurrent('prints its version and usage', async ({ expect }) => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const [version, none, help] = await Promise.all([
      runCli(['--version'], { cwd: repoRoot }),
      runCli([], { cwd: repoRoot }),
      runCli(['plan', '--help'], { cwd: repoRoot }),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    expect(none.code).toBe(3);
    expect(none.stdout).toContain('Usage: ecfence <command>');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--detailed-exitcode');
  });

  it('installs as the bundle, which loads none of the compiled modules it was built from', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(pkg.bin['ecfence']).toBe(relative(repoRoot, cliPath));
    expect(pkg.files).toContain('dist/bin');
    // esbuild's record of the build: every import an output makes at run time.
    const meta = JSON.parse(readFileSync(join(repoRoot, 'dist', 'bundle-meta.json'), 'utf8')) as {
      outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
    };
    expect(Object.keys(meta.outputs)).toContain('dist/bin/ecfence.js');
    for (const [output, { imports }] of Object.entries(meta.outputs)) {
      const foreign = imports
        .map((i) => i.path)
        .filter((path) => !isBuiltin(path) && !/^dist\/bin\/chunk-[A-Z0-9]+\.js$/.test(path));
      expect(foreign, output).toEqual([]);
    }
  });

  it('keeps all commands in one chunk that --version and --help do not load', () => {
    const meta = JSON.parse(readFileSync(join(repoRoot, 'dist', 'bundle-meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }>;
    };
    const commandFiles = readdirSync(join(repoRoot, 'src', 'cli', 'commands'))
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
      .map((f) => `dist/src/cli/commands/${f.replace(/\.ts$/, '.js')}`);
    const holding = Object.entries(meta.outputs)
      .filter(([, { inputs }]) => commandFiles.some((f) => f in inputs))
      .map(([output, { inputs }]) => ({ output, commands: commandFiles.filter((f) => f in inputs) }));
    expect(holding).toHaveLength(1);
    expect(holding[0]?.commands).toEqual(commandFiles);
    const entryImports = meta.outputs['dist/bin/ecfence.js']?.imports ?? [];
    expect(entryImports.filter((i) => i.path === holding[0]?.output).map((i) => i.kind)).toEqual([
      'dynamic-import',
    ]);
    // `yaml` (positions, export, seed files) is required where used, not compiled by every command.
    const bundled = Object.values(meta.outputs).flatMap(({ inputs }) => Object.keys(inputs));
    expect(bundled.filter((input) => input.startsWith('node_modules/yaml/'))).toEqual([]);
  });

  it.concurrent('rejects unknown commands and flags with exit 3', async ({ expect }) => {
    const [unknown, bad] = await Promise.all([
      runCli(['frobnicate'], { cwd: repoRoot }),
      runCli(['plan', '--no-such-flag'], { cwd: repoRoot }),
    ]);
    expect(unknown.code).toBe(3);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("unknown option '--no-such-flag'");
  });

  it.concurrent('validates the shipped example with no errors', async ({ expect }) => {
    const r = await runCli(['validate'], { cwd: join(repoRoot, 'policies.example') });
    expect(r.stderr).toMatch(/^valid: /m);
    expect(r.code).toBe(0);
  });

  it('reports a bad policy file with file:line:col and exit 3, sending nothing', async () => {
    dir = makeProject({
      'ecfence.yaml': config(emulator.url),
      'policies/main.yaml': policies().replace('10.20.0.0/16', '300.1.1.1'),
    });
    const r = await runCli(['plan'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/policies\/main\.yaml:11:\d+: error E_INVALID_SOURCE /);
    expect(r.stderr).not.toContain('    at ');
    expect(emulator.requests()).toEqual([]);
  });

  it('prints lint and loader warnings in file order when planning; a lint code made an error sends nothing', async () => {
    // 10.20.1.0/24 is inside 10.20.0.0/16 (lint, line 12); 192.168.132.6/22 has host bits (loader, line 13).
    const files = {
      'ecfence.yaml': config(emulator.url),
      'policies/main.yaml': policies('      - source: 10.20.1.0/24\n      - source: 192.168.132.6/22'),
    };
    dir = makeProject(files);
    const plan = await runCli(['plan'], { cwd: dir, env });
    expect(plan.code).toBe(0);
    const warnings = plan.stderr.split('\n').filter((line) => line.includes(': warning '));
    expect(warnings.map((line) => /^(\S+): warning (\w+)/.exec(line)?.slice(1).join(' '))).toEqual([
      'policies/main.yaml:12:17 W_CONTAINED_SOURCE',
      'policies/main.yaml:13:17 W_CIDR_HOST_BITS',
    ]);
    expect(emulator.requests()).toHaveLength(2);

    emulator.resetRequests();
    dir = makeProject({
      ...files,
      'ecfence.yaml': `${config(emulator.url)}lint: { errors: [W_CONTAINED_SOURCE] }\n`,
    });
    const refused = await runCli(['plan'], { cwd: dir, env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('policies/main.yaml:12:17: error W_CONTAINED_SOURCE');
    expect(refused.stderr).toContain('policies/main.yaml:13:17: warning W_CIDR_HOST_BITS');
    expect(emulator.requests()).toEqual([]);
  });

  it('refuses to apply without --auto-approve when stdin is not a terminal', async () => {
    dir = makeProject({ 'ecfence.yaml': config(emulator.url), 'policies/main.yaml': policies() });
    const r = await runCli(['apply'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--auto-approve');
    expect(emulator.requests()).toEqual([]);
  });

  it('plans, applies, converges, and then plans no changes', async () => {
    dir = makeProject({ 'ecfence.yaml': config(emulator.url), 'policies/main.yaml': policies() });
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`+   create     ${REGION}/office-ingress (ip, 2 rules)`);
    expect(plan.stdout).toContain(`→   associate  ${REGION}/office-ingress → deployment ${DEP_A}`);
    expect(plan.stdout).toContain('Plan: 1 to create, 0 to replace, 0 to update, 2 to associate');
    expect(emulator.requests().every((r) => r.method === 'GET')).toBe(true);
    expect(emulator.requests()).toHaveLength(2);

    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);

    const again = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes');
  });

  it('shows field changes for an update', async () => {
    writeProjectFiles(dir, {
      'policies/main.yaml': policies()
        .replace('Office networks', 'Office and VPN')
        .replace('10.20.0.0/16', '10.30.0.0/16'),
    });
    const r = await runCli(['plan'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('description: "Office networks" → "Office and VPN"');
    expect(r.stdout).toContain('+ 10.30.0.0/16');
    expect(r.stdout).toContain('- 10.20.0.0/16');
  });

  it('refuses (exit 4) a plan that would leave a filtered deployment open to the internet', async () => {
    writeProjectFiles(dir, {
      'policies/main.yaml': policies().replace(
        `  - deployment: ${DEP_B}\n    policies: [office-ingress]\n`,
        '',
      ),
    });
    const r = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain(`refused [unfiltered_target] prod: deployment ${DEP_B}`);
    expect(r.stdout).toContain('allow_unfiltered');
    expect(emulator.requests().filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('applies a saved plan once, and refuses it when stale', async () => {
    writeProjectFiles(dir, { 'policies/main.yaml': policies().replace('Office networks', 'Saved plan') });
    const saved = await runCli(['plan', '--out', 'plan.json'], { cwd: dir, env });
    expect(saved.code).toBe(0);
    const file = readFileSync(join(dir, 'plan.json'), 'utf8');
    expect(JSON.parse(file)).toMatchObject({ format_version: '1.1', summary: { update: 1 } });
    expect(file).not.toContain(KEY);

    const first = await runCli(['apply', 'plan.json'], { cwd: dir, env });
    expect(first.code).toBe(0);
    const second = await runCli(['apply', 'plan.json'], { cwd: dir, env });
    expect(second.code).toBe(4);
    expect(second.stderr).toContain('stale');
  });

  it('exits 5 with a report when some operations fail', async () => {
    writeProjectFiles(dir, {
      'policies/main.yaml': policies(
        `  - name: extra\n    region: ${REGION}\n    type: ip\n    rules:\n      - source: 10.9.0.0/16\n`,
      ).replace(
        `policies: [office-ingress]\n  - deployment: ${DEP_B}`,
        `policies: [office-ingress, extra]\n  - deployment: ${DEP_B}`,
      ),
    });
    emulator.setFaults({
      script: [{ method: 'POST', pathPattern: '/associations', fault: '500', times: 1000 }],
    });
    const r = await runCli(['apply', '--auto-approve'], {
      cwd: dir,
      env: { ...env, ECFENCE_RETRY_MAX_MS: '50' },
    });
    expect(r.code).toBe(5);
    // Failures first, with the API's reason; what was done as counts per phase.
    const report = r.stdout.slice(r.stdout.indexOf('Apply report:'));
    expect(report).toMatch(/^ {2}Failed \(1\):\n {4}failed\s+prod associate .*extra.*\n {12}\S/m);
    expect(report).toMatch(/^ {2}Done \(2\): 1 create, 1 update$/m);
    expect(report).not.toMatch(/^ +done /m);
    expect(r.stdout).toContain('Not converged');
    emulator.setFaults({});
    const rerun = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(rerun.code).toBe(0);
  });

  // Needs util-linux `script` to give the binary a terminal.
  it.skipIf(!canRunOnTerminal)(
    'asks on a terminal: anything but yes cancels with exit 1, yes applies',
    async () => {
      writeProjectFiles(dir, {
        'policies/main.yaml': policies(
          `  - name: asked\n    region: ${REGION}\n    type: ip\n    rules:\n      - source: 10.7.0.0/16\n`,
        ),
      });
      const no = await runCliOnTerminal(['apply'], { cwd: dir, env, input: 'y\n' });
      expect(no.stdout).toContain("Only 'yes' will be accepted");
      expect(no.stdout).toContain('Apply cancelled.');
      expect(no.code).toBe(1);
      expect(emulator.requests().filter((q) => q.method !== 'GET')).toEqual([]);
      const yes = await runCliOnTerminal(['apply', '--verbose'], { cwd: dir, env, input: 'yes\n' });
      expect(yes.code).toBe(0);
      expect(yes.stdout).toMatch(/create: 1\/1 finished/);
      expect(yes.stdout).toMatch(/^ {4}done\s+prod create\s+\S+\/asked/m);
    },
  );

  it('never prints the API key, even at debug level or on API errors', async () => {
    emulator.setFaults({ script: [{ method: 'GET', fault: '503', times: 2 }] });
    // Short backoff (base 100 ms): the point is the retried errors in the log, not the wait.
    const r = await runCli(['plan', '--log-level', 'debug'], {
      cwd: dir,
      env: { ...env, ECFENCE_RETRY_MAX_MS: '1000' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(KEY.slice(5, 20));
  });
});
