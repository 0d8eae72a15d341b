import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CONFIG_SCHEMA } from '../../src/load/schema.js';
import { CONFIGURABLE_WARNINGS, LINT_CODES } from '../../src/lint/lint.js';
import { lintCanFail, lintProject } from '../../src/lint/index.js';
import { loadProject } from '../../src/load/index.js';
import { sortDiagnostics } from '../../src/model/diagnostics.js';
import { makeProject as makeCliProject, runCli } from '../support/cli.js';
import { load, makeProject, only, show, where } from '../load/helpers.js';

/*
 * Lint corpus: each file under test/fixtures/load/lint is loaded alone with the loader corpus'
 * base-config.yaml; `#! CODE@COL` marks each diagnostic expected on its line (as in the corpus).
 */
const LINT = resolve('test/fixtures/load/lint');
const BASE_CONFIG = readFileSync(resolve('test/fixtures/load/corpus/base-config.yaml'), 'utf8');

function expectedOf(file: string): string[] {
  return readFileSync(join(LINT, file), 'utf8')
    .split('\n')
    .flatMap((text, i) =>
      [...(/#!(.*)$/.exec(text)?.[1] ?? '').matchAll(/([EW]_[A-Z_]+)@(\d+)/g)].map(
        ([, code, col]) => `${file}:${i + 1}:${col} ${code}`,
      ),
    );
}

function loadLint(file: string, lint = '') {
  // The file is copied beside a config of its own: policy paths must stay in the config's directory.
  const dir = makeProject({
    'ecfence.yaml': `${BASE_CONFIG}${lint}policies: [${JSON.stringify(file)}]\n`,
    [file]: readFileSync(join(LINT, file)),
  });
  loadLint.lastProject = dir;
  return load(dir);
}
/** The project the last `loadLint` wrote, to load it another way. */
loadLint.lastProject = '';

describe('lint corpus', () => {
  const files = readdirSync(LINT).filter((f) => f.endsWith('.yaml'));
  test.each(files)('%s', (file) => {
    const result = loadLint(file);
    expect(where(result.diagnostics).sort(), show(result)).toEqual(expectedOf(file).sort());
    // Warnings only: the desired state is still built.
    expect(result.desired, show(result)).toBeDefined();
  });
});

describe('the lint is a step of its own after loading', () => {
  const files = readdirSync(LINT).filter((f) => f.endsWith('.yaml'));
  test.each(files)('%s: the loader reports no lint finding; lintProject reports each of them', (file) => {
    const checked = loadLint(file);
    const loaded = loadProject({ cwd: loadLint.lastProject, env: {} });
    const lintCodes: readonly string[] = LINT_CODES;
    expect(loaded.diagnostics.filter((d) => lintCodes.includes(d.code))).toEqual([]);
    expect(loaded.desired).toEqual(checked.desired);
    const findings = lintProject(loaded);
    expect(findings.length, show(checked)).toBeGreaterThan(0);
    expect(sortDiagnostics([...loaded.diagnostics, ...findings])).toEqual(checked.diagnostics);
  });

  test('a lint code in lint.errors makes its findings errors, and then there is no desired state', () => {
    const promoted = loadLint('broad.yaml', 'lint:\n  errors: [W_OPEN_SOURCE]\n');
    expect(lintCanFail(loadProject({ cwd: loadLint.lastProject, env: {} }).lint)).toBe(true);
    expect(promoted.diagnostics.filter((d) => d.code === 'W_OPEN_SOURCE').map((d) => d.severity)).toEqual([
      'error',
    ]);
    expect(promoted.desired).toBeUndefined();
    loadLint('broad.yaml');
    expect(lintCanFail(loadProject({ cwd: loadLint.lastProject, env: {} }).lint)).toBe(false);
  });

  test('the findings of a project with errors are reported with them', () => {
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  cloud:\n    api: ess\n',
      'policies/p.yaml':
        'policies:\n  - { name: a, region: r1, type: ip, rules: [{ source: 0.0.0.0/0 }, { source: 300.1.1.1 }] }\n',
    });
    const broken = load(dir);
    expect(broken.desired).toBeUndefined();
    expect(where(broken.diagnostics)).toEqual([
      'policies/p.yaml:2:56 W_OPEN_SOURCE',
      'policies/p.yaml:2:79 E_INVALID_SOURCE',
    ]);
  });
});

describe('lint messages name both rules', () => {
  test('containment inside one policy names the wider rule with file:line and the set it came from', () => {
    const result = loadLint('duplicates.yaml');
    const messages = result.diagnostics.filter((d) => d.line === 13).map((d) => d.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'policies[0].rules[4].source: 10.1.2.128/25 (from $office) is inside 10.1.0.0/16 at duplicates.yaml:11:17, so it allows nothing more',
        'policies[0].rules[4].source: 172.16.0.1 (from $office) is inside 172.16.0.0/12 at duplicates.yaml:14:17, so it allows nothing more',
      ]),
    );
    expect(result.diagnostics.find((d) => d.line === 10)?.message).toBe(
      'policies[0].rules[1].source: 10.0.0.1/32 is the same range as 10.0.0.1 at duplicates.yaml:9:17; one of them can go',
    );
  });

  test('across policies, the finding names both policies and the targets they share', () => {
    const result = loadLint('across.yaml');
    expect(result.diagnostics.find((d) => d.line === 13)?.message).toBe(
      "policies[1].rules[0].source: 10.1.2.0/24 in policy 'office' is inside 10.1.0.0/16 of policy 'vpn' at across.yaml:7:17; both apply to deployment 5470a0010ebf437bb9294ea9fcba0ba0 and 1 more target(s), so it allows nothing more",
    );
    expect(result.diagnostics.find((d) => d.line === 30)?.message).toContain(
      "vpce-0a1b2c3d4e5f67890 in policy 'link-b' is the same source as vpce-0a1b2c3d4e5f67890 of policy 'link-a' at across.yaml:25:17",
    );
  });

  test('the same range in policies of two files: the rule in the file that sorts first is the one kept', () => {
    // b.yaml is loaded first (it is listed first) but a.yaml is written first in file order.
    const dir = makeProject({
      'ecfence.yaml': 'policies: [policies/b.yaml, policies/a.yaml]\nenvironments:\n  cloud:\n    api: ess\n',
      'policies/b.yaml': `environment: cloud
policies:
  - name: late
    region: r1
    type: ip
    rules:
      - source: 10.9.0.0/16
associations:
  - deployment: 5470a0010ebf437bb9294ea9fcba0ba0
    policies: [early, late]
`,
      'policies/a.yaml': `environment: cloud
policies:
  - name: early
    region: r1
    type: ip
    rules:
      - source: 10.9.0.0/16
`,
    });
    const found = load(dir).diagnostics;
    expect(found.map((d) => `${d.file}:${d.line} ${d.code}`)).toEqual([
      'policies/b.yaml:7 W_DUPLICATE_SOURCE',
    ]);
    expect(found[0]?.message).toContain(
      "in policy 'late' is the same range as 10.9.0.0/16 of policy 'early' at policies/a.yaml:7:",
    );
  });

  test('a policy that writes more rules than it keeps still reports the right rule past the first thousand', () => {
    // 700 addresses written twice keep 700 rules but visit 1,400, then a rule inside a later range.
    const addresses = Array.from({ length: 700 }, (_, i) => `192.168.${i >> 8}.${i & 255}`);
    const rules = [...addresses, ...addresses, '172.16.5.5', '172.16.0.0/16'];
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  cloud:\n    api: ess\n',
      'policies/p.yaml': `environment: cloud\npolicies:\n  - name: big\n    region: r1\n    type: ip\n    rules:\n${rules
        .map((source) => `      - source: ${source}\n`)
        .join('')}`,
    });
    const contained = load(dir).diagnostics.filter((d) => d.code === 'W_CONTAINED_SOURCE');
    expect(contained.map((d) => `${d.file}:${d.line} ${d.message}`)).toEqual([
      'policies/p.yaml:1407 policies[0].rules[1400].source: 172.16.5.5 is inside 172.16.0.0/16 at policies/p.yaml:1408:17, so it allows nothing more',
    ]);
  });

  test('a target whose policy names exist in several regions is not guessed at', () => {
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  cloud:\n    api: ess\n',
      'policies/p.yaml': `environment: cloud
policies:
  - { name: a, region: r1, type: ip, rules: [{ source: 10.0.0.0/8 }] }
  - { name: b, region: r1, type: ip, rules: [{ source: 10.1.0.0/16 }] }
  - { name: a, region: r2, type: ip, rules: [{ source: 10.0.0.0/8 }] }
  - { name: b, region: r2, type: ip, rules: [{ source: 10.2.0.0/16 }] }
associations:
  - deployment: 5470a0010ebf437bb9294ea9fcba0ba0
    policies: [a, b]
`,
    });
    expect(load(dir).diagnostics).toEqual([]);
  });
});

describe('lint: in ecfence.yaml', () => {
  test('errors promotes a warning to an error at the same place, ignore drops one', () => {
    const result = loadLint('broad.yaml', 'lint:\n  errors: [W_OPEN_SOURCE]\n  ignore: [W_BROAD_SOURCE]\n');
    expect(where(result.diagnostics)).toEqual([
      'broad.yaml:7:17 W_OPEN_SOURCE',
      'broad.yaml:15:32 W_EGRESS_ALLOW_ALL',
    ]);
    const open = only(result, 'W_OPEN_SOURCE');
    expect(open.severity).toBe('error');
    expect(open.message).toContain('(an error: lint.errors lists W_OPEN_SOURCE)');
    expect(only(result, 'W_EGRESS_ALLOW_ALL').severity).toBe('warning');
    expect(result.desired).toBeUndefined();
  });

  test('also applies to the loader warnings it lists (W_CIDR_HOST_BITS)', () => {
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  cloud:\n    api: ess\nlint:\n  errors: [W_CIDR_HOST_BITS]\n',
      'policies/p.yaml':
        'policies:\n  - { name: a, region: r1, type: ip, rules: [{ source: 192.168.132.6/22 }] }\n',
    });
    expect(only(load(dir), 'W_CIDR_HOST_BITS').severity).toBe('error');
  });

  test('an unknown code, or a code both promoted and ignored, is an error in ecfence.yaml', () => {
    const dir = makeProject({
      'ecfence.yaml':
        'environments:\n  cloud:\n    api: ess\nlint:\n  errors: [W_OPEN_SOURCE, W_NOPE]\n  ignore: [W_OPEN_SOURCE]\n',
      'policies/p.yaml': 'policies: []\n',
    });
    const bad = load(dir);
    expect(where(bad.diagnostics)).toEqual(['ecfence.yaml:5:27 E_SCHEMA']);
    const dir2 = makeProject({
      'ecfence.yaml':
        'environments:\n  cloud:\n    api: ess\nlint:\n  errors: [W_OPEN_SOURCE]\n  ignore: [W_BROAD_SOURCE, W_OPEN_SOURCE]\n',
      'policies/p.yaml': 'policies: []\n',
    });
    const both = load(dir2);
    expect(where(both.diagnostics)).toEqual(['ecfence.yaml:6:28 E_LINT_CONFIG']);
    expect(both.diagnostics[0]?.message).toBe(
      'lint.ignore[1]: W_OPEN_SOURCE is also listed in lint.errors; a code is either an error or ignored',
    );
  });

  test('the schema accepts exactly the configurable warning codes', () => {
    const definitions = CONFIG_SCHEMA.definitions as Record<string, { enum?: string[] }>;
    expect(definitions['lintCode']?.enum).toEqual([...CONFIGURABLE_WARNINGS]);
    expect(CONFIGURABLE_WARNINGS.slice(0, LINT_CODES.length)).toEqual([...LINT_CODES]);
  });
});

test('thousands of rules are checked by a sweep: one finding per redundant rule, none for disjoint ones', () => {
  // 4,096 disjoint /24s, each followed by a /28 inside it, plus one /16 over the first 256 /24s.
  const rules: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const net = `10.${i >> 8}.${i & 255}`;
    rules.push(`      - source: ${net}.0/24`, `      - source: ${net}.16/28`);
  }
  rules.push('      - source: 10.0.0.0/16');
  const dir = makeProject({
    'ecfence.yaml': 'environments:\n  cloud:\n    api: ess\n',
    'policies/p.yaml': `policies:\n  - name: big\n    region: r1\n    type: ip\n    rules:\n${rules.join('\n')}\n`,
  });
  const result = load(dir);
  const contained = result.diagnostics.filter((d) => d.code === 'W_CONTAINED_SOURCE');
  // Every /28 (4,096) and the 256 /24s under the /16.
  expect(contained).toHaveLength(4096 + 256);
  expect(result.diagnostics).toHaveLength(contained.length);
});

test('validate (built binary): lint warnings exit 0, with --strict or lint.errors exit 3', async () => {
  const files = {
    'ecfence.yaml': 'environments:\n  cloud:\n    api: ess\n',
    'policies/p.yaml': 'policies:\n  - { name: a, region: r1, type: ip, rules: [{ source: 0.0.0.0/0 }] }\n',
  };
  const dir = makeCliProject(files);
  const plain = await runCli(['validate'], { cwd: dir });
  expect(plain.code).toBe(0);
  expect(plain.stderr).toContain('policies/p.yaml:2:56: warning W_OPEN_SOURCE');
  expect((await runCli(['validate', '--strict'], { cwd: dir })).code).toBe(3);
  const promoted = makeCliProject({
    ...files,
    'ecfence.yaml': `${files['ecfence.yaml']}lint: { errors: [W_OPEN_SOURCE] }\n`,
  });
  const failed = await runCli(['validate', '--format', 'github'], { cwd: promoted });
  expect(failed.code).toBe(3);
  expect(failed.stdout).toContain('::error file=policies/p.yaml,line=2,col=56,title=ecfence W_OPEN_SOURCE::');
});
