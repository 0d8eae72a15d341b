import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual as equal } from 'node:util';
import { describe, expect, test } from 'vitest';
import { compileSchemaModule, GENERATED_MODULES } from '../../scripts/compile-schemas.js';
import type { LoadResult } from '../../src/load/index.js';
import { parseYamlText } from '../../src/load/read-yaml.js';
import { BASE_FILES, CASES } from '../bad-input/cases.js';
import { load, makeProject, mutateText, seededRandom } from './helpers.js';

/*
 * The loader parses with js-yaml and asks `yaml` for positions only when one is read (or for the
 * whole file when the fast path declines it). Whatever the path, the user must see the same thing:
 * the same desired state, positions included, the same diagnostics and the same rule origins.
 */

/** Everything a user can observe of a load, as plain data (lazy positions read here). */
function observed(result: LoadResult): unknown {
  return JSON.parse(
    JSON.stringify({
      desired: result.desired,
      diagnostics: result.diagnostics,
      files: result.files,
      origins: result.origins.map((o) => ({ ...o, at: o.at, label: o.label })),
    }),
  );
}

function expectSameBothWays(cwd: string, configPath?: string): LoadResult {
  const options = configPath === undefined ? {} : { configPath };
  const fast = load(cwd, { ...options, yamlParser: 'fast' });
  const exact = load(cwd, { ...options, yamlParser: 'exact' });
  expect(observed(fast)).toEqual(observed(exact));
  return fast;
}

const CORPUS = resolve('test/fixtures/load/corpus');
const LINT = resolve('test/fixtures/load/lint');
const BASE_CONFIG = readFileSync(join(CORPUS, 'base-config.yaml'), 'utf8');
const fixtures = [
  ...['valid', 'invalid'].flatMap((kind) =>
    readdirSync(join(CORPUS, kind))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(CORPUS, kind, f)),
  ),
  ...readdirSync(LINT)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(LINT, f)),
];

describe('fast and exact YAML paths give the same load', () => {
  test.each(fixtures.map((f) => [f.slice(resolve('test/fixtures/load').length + 1), f]))(
    '%s',
    (_name, file) => {
      const dir = makeProject({ 'ecfence.yaml': `${BASE_CONFIG}policies: [${JSON.stringify(file)}]\n` });
      expectSameBothWays(CORPUS, join(dir, 'ecfence.yaml'));
    },
  );

  test('policies.example, with a desired state whose positions are exact', () => {
    const result = expectSameBothWays(resolve('policies.example'));
    expect(result.desired?.environments.length).toBeGreaterThan(0);
    const policy = result.desired?.environments[0]?.policies[0];
    expect(policy?.position?.line).toBeGreaterThan(0);
  });

  // The multi-megabyte cases are left to the bad-input suite: their loads are too large to compare.
  const small = (c: (typeof CASES)[number]) =>
    c.files !== undefined && Object.values(c.files).every((content) => content.length < 100_000);
  test.each(CASES.filter(small).map((c) => [c.name, c] as const))('bad input: %s', (_name, c) => {
    const files = Object.fromEntries(
      Object.entries({ ...BASE_FILES, ...c.files }).map(([path, content]) => [
        path,
        typeof content === 'string' ? content.replaceAll('${URL}', 'http://127.0.0.1:1') : content,
      ]),
    );
    expectSameBothWays(makeProject(files));
  });

  test('scalars and keys where js-yaml and yaml schemas differ read as yaml reads them', () => {
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  prod:\n    api: ess\n',
      'policies/p.yaml': [
        'environment: prod',
        'sources:',
        '  ~: [10.0.0.0/8]',
        'policies:',
        '  - name: 0b101',
        '    region: 1_000',
        '    type: ip',
        '    description: 0x1F',
        '    include_by_default: True',
        '    rules:',
        '      - source: 0o17',
        '      - source: .inf',
        '      - source: 1e3',
        '',
      ].join('\n'),
    });
    const result = expectSameBothWays(dir);
    // `~` is the key '' (not 'null'); 0b101 and 1_000 stay strings; 0x1F, 0o17, .inf and 1e3 are numbers.
    expect(result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message.split(':')[0]}`)).toEqual([
      '2:1 E_SCHEMA sources[""]',
      '8:18 E_SCHEMA policies[0].description',
      '11:17 E_SCHEMA policies[0].rules[0].source',
      '12:17 E_SCHEMA policies[0].rules[1].source',
      '13:17 E_SCHEMA policies[0].rules[2].source',
    ]);
  });
});

describe('the fast path never accepts what yaml rejects, and reads the same data', () => {
  test('500 seeded mutations of the example policy files', () => {
    const dir = resolve('policies.example/policies');
    const bases = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    const pieces = [
      ...': -[]{}#\'"\n\t&*!?|>%~0123456789abc,.\\\r',
      ...['0b1', '1_000', '~: x', '? a', 'null: 1', '!!str ', '&a ', '*a', '<<: {a: 1}', '---\n'],
      ...['%YAML 1.1\n---\n', '|\n  a\n', '[a, b]: c', ': v', 'a: b: c', '"a\nb": 1', '\u2028', '\x07'],
    ];
    const next = seededRandom(20261128);
    const differing: string[] = [];
    let fastAccepted = 0;
    for (let i = 0; i < 500; i++) {
      const text = mutateText(bases[next(bases.length)] ?? '', pieces, next);
      const fast = parseYamlText(text, '/p.yaml', 'p.yaml', 'fast');
      const exact = parseYamlText(text, '/p.yaml', 'p.yaml', 'exact');
      if (fast.yaml !== undefined && fast.diagnostics.length === 0) fastAccepted++;
      if (!equal(fast.diagnostics, exact.diagnostics) || !equal(fast.yaml?.value, exact.yaml?.value))
        differing.push(text);
    }
    expect(differing).toEqual([]);
    // Most mutants are still valid YAML: the fast path must actually have been taken.
    expect(fastAccepted).toBeGreaterThan(150);
  });
});

test('the compiled schema validators are in step with schemas/ (npm run schemas rewrites them)', async () => {
  for (const module of GENERATED_MODULES) {
    const expected = await compileSchemaModule(resolve('.'), module);
    expect(readFileSync(module.file, 'utf8'), module.file).toBe(expected);
  }
});
