/**
 * Property-based tests of the loader (fast-check): generated policy files, with comments and blank
 * lines inserted at random legal places, must load to the same data and the same verdict as
 * without them; mutated files must give diagnostics, never an exception; and the built binary,
 * given a sample of them, exits 0 or 3 with no stack trace and sends nothing when the input is bad.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { LoadResult } from '../../src/load/index.js';
import { makeProject as makeCliProject, runCli } from '../support/cli.js';
import { load, makeProject } from './helpers.js';

const KEY = 'property-test-key';
const DEPLOYMENT = 'a0000000000000000000000000000001';
const config = (endpoint = 'https://api.elastic-cloud.com') =>
  `environments:\n  prod:\n    api: ess\n    endpoint: ${endpoint}\n`;

/** Text that YAML must quote, escape or keep as written: the stringifier chooses how. */
const text = fc.string({
  unit: fc.constantFrom(...'ab -#:"\'[]{},&*!|>%@`~?\\é', '\u00a0', '\u3000', '\ufeff'),
  maxLength: 16,
});
const source = fc.oneof(
  fc.constantFrom('10.0.0.0/8', '192.168.1.1', '0.0.0.0/0', '$office', '$missing', 'garbage', '10.0.0.0/33'),
  fc
    .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 }))
    .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}/${p}`),
);
const rule = fc.record({ source, description: text }, { requiredKeys: ['source'] });
const policy = fc.record(
  {
    name: fc.constantFrom('office', 'vpn', 'partners', 'office'),
    region: fc.constantFrom('us-east-1', 'azure-japaneast'),
    type: fc.constantFrom('ip', 'ip', 'egress', 'bogus'),
    description: text,
    include_by_default: fc.boolean(),
    rules: fc.array(rule, { maxLength: 4 }),
  },
  { requiredKeys: ['name', 'region', 'type'] },
);
const policyFile = fc.record(
  {
    environment: fc.constantFrom('prod', 'prod', 'nope'),
    sources: fc.record({ office: fc.array(source, { minLength: 1, maxLength: 3 }) }),
    policies: fc.array(policy, { maxLength: 3 }),
    associations: fc.array(
      fc.record({
        deployment: fc.constantFrom(DEPLOYMENT, 'not-an-id'),
        policies: fc.array(fc.constantFrom('office', 'vpn', 'nobody'), { minLength: 1, maxLength: 2 }),
      }),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: ['environment'] },
);

/** One line per value (no folding), so that a comment may follow any line. */
const yamlOf = (data: unknown) => stringify(data, { lineWidth: 0 });

/** What to put around each line: a comment line or a blank line before it, a comment after it. */
const decoration = fc.record({
  before: fc.constantFrom('', '', '', '#', '# a comment: with [brackets], & and *', 'blank'),
  indent: fc.nat(8),
  after: fc.constantFrom('', '', '', ' #', ' # trailing: comment'),
});

function decorate(
  text: string,
  decorations: readonly { before: string; indent: number; after: string }[],
): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return `${lines
    .flatMap((line, i) => {
      const d = decorations[i % Math.max(1, decorations.length)];
      if (d === undefined) return [line];
      const before =
        d.before === '' ? [] : [d.before === 'blank' ? '' : `${' '.repeat(d.indent)}${d.before}`];
      return [...before, `${line}${d.after}`];
    })
    .join('\n')}\n`;
}

/** The data and the verdict of a load: positions (which comments move) left out. */
function verdict(result: LoadResult) {
  return {
    environments: result.desired?.environments.map((env) => ({
      ...env,
      config: { ...env.config, position: undefined },
      policies: env.policies.map((p) => ({ ...p, position: undefined })),
      associations: env.associations.map((a) => ({ ...a, position: undefined, targetPosition: undefined })),
    })),
    digest: result.desired?.configDigest,
    codes: result.diagnostics.map((d) => `${d.severity} ${d.code}`).sort(),
  };
}

describe('the loader, property-based', () => {
  test('comments and blank lines at legal places change neither the data nor the verdict', () => {
    fc.assert(
      fc.property(policyFile, fc.array(decoration, { minLength: 1, maxLength: 40 }), (data, decorations) => {
        const plain = yamlOf(data);
        const a = load(makeProject({ 'ecfence.yaml': config(), 'policies/p.yaml': plain }));
        const b = load(
          makeProject({ 'ecfence.yaml': config(), 'policies/p.yaml': decorate(plain, decorations) }),
        );
        expect(verdict(b)).toEqual(verdict(a));
        // Generated YAML is valid YAML: whatever is refused is refused for what it says.
        expect(a.diagnostics.filter((d) => /^E_(YAML|DUPLICATE_KEY|NOT_MAPPING)$/.test(d.code))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  test('mutated files give diagnostics with a code and a place, never an exception', () => {
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.nat(3),
      piece: fc.constantFrom(
        ...': -[]{}#\'"\n\t&*!?|>%~,.\\',
        '- ',
        '  ',
        '\n  ',
        '---\n',
        '? ',
        '!!str ',
        '&a ',
        '*a',
        '\u00a0',
      ),
    });
    fc.assert(
      fc.property(policyFile, fc.array(edit, { minLength: 1, maxLength: 4 }), (data, edits) => {
        let text = yamlOf(data);
        for (const { at, cut, piece } of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + (cut === 0 ? '' : piece) + text.slice(i + (cut === 1 ? 0 : 1));
        }
        const result = load(makeProject({ 'ecfence.yaml': config(), 'policies/p.yaml': text }));
        for (const d of result.diagnostics) {
          expect(d.code).toMatch(/^[EW]_[A-Z0-9_]+$/);
          expect(d.file).toMatch(/^(policies\/p\.yaml|ecfence\.yaml)$/);
        }
        if (result.desired === undefined)
          expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the built binary on a sample of generated and mutated files', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: { deployments: [{ id: DEPLOYMENT, name: 'prod', region: 'us-east-1' }] },
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  test('validate exits 0 or 3 with no stack trace; plan of a refused file sends nothing', async () => {
    const texts = fc.sample(policyFile, { numRuns: 4, seed: 16 }).map((data, i) => {
      const text = yamlOf(data);
      // Every other one mutated: a character cut out of its middle.
      return i % 2 === 0 ? text : text.slice(0, text.length >> 1) + text.slice((text.length >> 1) + 1);
    });
    const dirs = texts.map((text) =>
      makeCliProject({ 'ecfence.yaml': config(emulator.url), 'policies/p.yaml': text }),
    );
    const validated = await Promise.all(dirs.map((cwd) => runCli(['validate'], { cwd })));
    let refused = 0;
    for (const [i, validate] of validated.entries()) {
      const shown = `${texts[i] ?? ''}\n---\nexit ${validate.code}\n${validate.stderr}`;
      expect([0, 3], shown).toContain(validate.code);
      expect(validate.stderr, shown).not.toMatch(/internal error|This is a bug| {4}at /);
      if (validate.code !== 3) continue;
      refused++;
      emulator.resetRequests();
      const plan = await runCli(['plan'], { cwd: dirs[i] ?? '', env: { EC_API_KEY: KEY } });
      expect(plan.code, shown).toBe(3);
      expect(emulator.requests(), shown).toEqual([]);
    }
    // The sample must hold refused files, or "sends nothing" was never tried.
    expect(refused).toBeGreaterThan(0);
  });
});
