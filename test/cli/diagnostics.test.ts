/**
 * Errors people fix in one read (the built binary): the line quoted with a caret under the token,
 * one error per cause with the places it affects, did-you-mean for names, and annotation paths
 * from the repository root whatever the working directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';

const DEP = 'a0000000000000000000000000000001';
const GONE = 'f0000000000000000000000000000009';
const CONFIG = 'environments:\n  prod:\n    api: ess\n  staging:\n    api: ess\n';
const POLICIES = `environment: prod
sources:
  vpn: [10.8.0.0/16]
policies:
  - name: office
    region: us-east-1
    type: ip
    rules:
      - source: vpn
      - source: $vpm
  - name: partners
    region: us-east-1
    type: ip
    rules:
      - source: 10.1.0.0/16
associations:
  - deployment: ${DEP}
    policies: [office, ofice]
  - environment: prd
    deployment: ${DEP}
    policies: [office]
  - deployment: b0000000000000000000000000000002
    policies: [ofice]
`;

/** The caret line under `quoted` (the line after it) points at `token`, and spans it. */
function expectCaret(stderr: string, quoted: string, token: string): void {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.endsWith(quoted));
  expect(at, `no line ending in '${quoted}' in:\n${stderr}`).toBeGreaterThan(0);
  const line = lines[at] as string;
  const caret = lines[at + 1] as string;
  expect(caret.indexOf('^')).toBe(line.lastIndexOf(token));
  expect(caret.trimEnd().length - caret.indexOf('^')).toBe(token.length);
}

describe('validate, text', () => {
  const dir = makeProject({ 'ecfence.yaml': CONFIG, 'policies/a.yaml': POLICIES });

  it('quotes each line with a caret at the token, suggests names, and reports each cause once', async () => {
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(3);
    // A set written without `$`.
    expect(r.stderr).toContain(
      "policies/a.yaml:9:17: error E_INVALID_SOURCE policies[0].rules[0].source: 'vpn' is not an IPv4 address or CIDR; did you mean '$vpn'?",
    );
    expectCaret(r.stderr, '      - source: vpn', 'vpn');
    expect(r.stderr).toContain("'$vpm' does not name a source set; did you mean '$vpn'?");
    expectCaret(r.stderr, '      - source: $vpm', '$vpm');
    expect(r.stderr).toContain("environment 'prd' is not declared in ecfence.yaml; did you mean 'prod'?");
    expectCaret(r.stderr, '  - environment: prd', 'prd');
    // `ofice` twice: one error, at the first place, naming the other.
    const unknown = r.stderr.split('\n').filter((l) => l.includes('E_UNKNOWN_POLICY'));
    expect(unknown).toEqual([
      "policies/a.yaml:18:24: error E_UNKNOWN_POLICY associations[0].policies[1]: no policy named 'ofice' is declared for environment 'prod'; did you mean 'office'?",
    ]);
    expectCaret(r.stderr, `    policies: [office, ofice]`, 'ofice');
    expect(r.stderr).toContain('= also at policies/a.yaml:23:16 (2 places)');
    expect(r.stderr).toMatch(/^invalid: 4 error\(s\), 0 warning\(s\)$/m);
  });

  it('suggests the region meant, in an environment scoped to regions', async () => {
    const scoped = makeProject({
      'ecfence.yaml': 'environments:\n  prod:\n    api: ess\n    regions: [us-east-1, eu-west-1]\n',
      'policies/a.yaml': POLICIES.replace('region: us-east-1', 'region: us-east1').replace(
        /^associations:[^]*/m,
        '',
      ),
    });
    const r = await runCli(['validate'], { cwd: scoped });
    expect(r.stderr).toContain(
      "region 'us-east1' is outside the regions of environment 'prod' (us-east-1, eu-west-1); did you mean 'us-east-1'?",
    );
  });

  it('suggests the environment meant by --env', async () => {
    const r = await runCli(['validate', '--env', 'stagign'], { cwd: dir });
    expect(r.stderr).toContain(
      "<args>: error E_UNKNOWN_ENV --env stagign: no such environment in ecfence.yaml; did you mean 'staging'?",
    );
  });
});

describe('validate --format github and gitlab name files from the repository root', () => {
  const root = makeProject({ 'infra/ecfence.yaml': CONFIG, 'infra/policies/a.yaml': POLICIES });
  mkdirSync(join(root, '.git'));
  const infra = join(root, 'infra');

  it('github: from a subdirectory, found by walking up to .git; GITHUB_WORKSPACE when set', async () => {
    const [walked, workspace, outside] = await Promise.all([
      runCli(['validate', '--format', 'github'], { cwd: infra }),
      runCli(['validate', '--format', 'github', '-c', '../ecfence.yaml'], {
        cwd: join(infra, 'policies'),
        env: { GITHUB_WORKSPACE: root },
      }),
      runCli(['validate', '--format', 'github'], {
        cwd: infra,
        env: { GITHUB_WORKSPACE: '/nonexistent/elsewhere' },
      }),
    ]);
    expect(walked.code).toBe(3);
    expect(walked.stdout).toMatch(
      /^::error file=infra\/policies\/a\.yaml,line=9,col=17,title=ecfence E_INVALID_SOURCE::/m,
    );
    expect(workspace.stdout).toBe(walked.stdout);
    // A file outside the workspace keeps the name it has.
    expect(outside.stdout).toMatch(/^::error file=policies\/a\.yaml,line=9/m);
  });

  it('gitlab: a Code Quality report with stable fingerprints', async () => {
    const r = await runCli(['validate', '--format', 'gitlab'], { cwd: infra });
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as {
      check_name: string;
      severity: string;
      fingerprint: string;
      location: { path: string; lines: { begin: number } };
    }[];
    expect(report).toHaveLength(5);
    expect(report[0]).toMatchObject({
      check_name: 'E_INVALID_SOURCE',
      severity: 'major',
      location: { path: 'infra/policies/a.yaml', lines: { begin: 9 } },
    });
    expect(new Set(report.map((i) => i.fingerprint)).size).toBe(5);
    const again = await runCli(['validate', '--format', 'gitlab'], {
      cwd: infra,
      env: { CI_PROJECT_DIR: root },
    });
    expect(again.stdout).toBe(r.stdout);
  });
});

describe('plan: a deployment that does not exist', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: { deployments: [{ id: DEP, name: 'prod-a', region: 'us-east-1' }] },
    });
  });
  afterAll(() => emulator.close());

  it('is one error at its id, naming the policies declared for it', async () => {
    const dir = makeProject({
      'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${emulator.url}\n`,
      'policies/a.yaml': POLICIES.replace(
        '      - source: vpn\n      - source: $vpm\n',
        '      - source: $vpn\n',
      )
        .replace('[office, ofice]', '[office]')
        .replace(/ {2}- environment: prd\n.*\n.*\n/, '')
        .replace(
          'b0000000000000000000000000000002\n    policies: [ofice]',
          `${GONE}\n    policies: [office, partners]`,
        ),
    });
    const r = await runCli(['plan'], { cwd: dir, env: { EC_API_KEY: 'essu_key_for_unknown_target' } });
    expect(r.code).toBe(3);
    const errors = r.stderr.split('\n').filter((l) => l.includes(': error '));
    expect(errors).toEqual([
      `policies/a.yaml:18:17: error E_UNKNOWN_TARGET deployment ${GONE} does not exist in environment 'prod' (or is not visible to this API key); declared for it: office, partners`,
    ]);
    expectCaret(r.stderr, `  - deployment: ${GONE}`, GONE);
  });
});
