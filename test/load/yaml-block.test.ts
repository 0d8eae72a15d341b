import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual as equal } from 'node:util';
import { describe, expect, test } from 'vitest';
import { generateEstate, writeProject } from '../../bench/estate.js';
import { parseYamlText, resolvePlainScalar } from '../../src/load/read-yaml.js';
import { readBlockYaml } from '../../src/load/yaml-block.js';
import { makeProject, mutateText, seededRandom } from './helpers.js';

/*
 * The block reader is the loader's quickest YAML path. It may decline anything, but whatever it
 * accepts must read exactly as `yaml` (the reference the diagnostics come from) reads it, and what
 * `yaml` rejects it must decline.
 */

/** The block reader's verdict against the reference: undefined when they agree. */
function disagreement(text: string): string | undefined {
  const block = readBlockYaml(text, resolvePlainScalar);
  if (block === undefined) return undefined;
  const exact = parseYamlText(text, '/p.yaml', 'p.yaml', 'exact');
  if (exact.diagnostics.length > 0) return `accepted what yaml rejects: ${exact.diagnostics[0]?.message}`;
  if (!equal(block, exact.yaml?.value)) {
    return `read ${JSON.stringify(block)}, yaml reads ${JSON.stringify(exact.yaml?.value)}`;
  }
  return undefined;
}

/** How many texts the block reader accepts, and every disagreement with `yaml`. */
function compareAll(texts: readonly string[]): { accepted: number; problems: string[] } {
  let accepted = 0;
  const problems: string[] = [];
  for (const text of texts) {
    if (readBlockYaml(text, resolvePlainScalar) !== undefined) accepted++;
    const problem = disagreement(text);
    if (problem !== undefined) problems.push(`${JSON.stringify(text)}: ${problem}`);
  }
  return { accepted, problems };
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

describe('the block reader reads what it accepts exactly as yaml does', () => {
  test('every YAML file of the repository’s examples and fixtures', () => {
    const files = [
      ...yamlFilesUnder(resolve('policies.example')),
      ...yamlFilesUnder(resolve('test/fixtures')),
    ];
    const problems = files.flatMap((f) => {
      const problem = disagreement(readFileSync(f, 'utf8'));
      return problem === undefined ? [] : [`${f}: ${problem}`];
    });
    expect(problems).toEqual([]);
  });

  test('it is the path the example policies and a generated estate actually take', () => {
    const dir = makeProject({});
    writeProject(dir, generateEstate('serverless', 300), 'http://127.0.0.1:1');
    const files = [...yamlFilesUnder(resolve('policies.example')), ...yamlFilesUnder(dir)];
    const declined = files.filter(
      (f) => readBlockYaml(readFileSync(f, 'utf8'), resolvePlainScalar) === undefined,
    );
    expect(declined).toEqual([]);
  });

  test('scalars of every kind, in values and sequence items', () => {
    const scalars = [
      'plain text',
      'it’s',
      "it's",
      "'single'",
      "'it''s'",
      "''",
      '"double"',
      '""',
      '"with # hash"',
      'a#b',
      'a #comment',
      '~',
      'null',
      'Null',
      'NULL',
      'nullx',
      'true',
      'True',
      'TRUE',
      'tRUE',
      'false',
      'no',
      'yes',
      'on',
      '0',
      '-0',
      '+12',
      '007',
      '0x1F',
      '0X1F',
      '0o17',
      '0b101',
      '1_000',
      '1.5',
      '-1.5e3',
      '1e3',
      '.5',
      '5.',
      '.inf',
      '-.Inf',
      '.NaN',
      '.nan',
      'NaN',
      'inf',
      '2001-12-14',
      '12:30',
      '10.0.0.0/8',
      'vpce-0123456789abcdef0',
      'http://example.com:80/path',
      'a: b',
      'a:b',
      'a, b',
      '-',
      '-x',
      '- x',
      '?x',
      ':x',
      '[a]',
      '{a: 1}',
      '|',
      '>',
      '@x',
      '`x',
      '%x',
      '"a\\nb"',
      "'unterminated",
      '"unterminated',
      "'a' b",
      '"a" # c',
    ];
    const problems = scalars.flatMap((s) =>
      [`key: ${s}\n`, `list:\n  - ${s}\n`, `list:\n- ${s}\n`, `key: ${s}   \nnext: 1\n`].flatMap((text) => {
        const problem = disagreement(text);
        return problem === undefined ? [] : [`${JSON.stringify(text)}: ${problem}`];
      }),
    );
    expect(problems).toEqual([]);
    // The common scalars are read here, not declined.
    expect(readBlockYaml('a: 10.0.0.0/8\nb: true\nc: 0x1F\nd: ~\n', resolvePlainScalar)).toEqual({
      a: '10.0.0.0/8',
      b: true,
      c: 31,
      d: null,
    });
  });

  test('3,000 seeded random documents of nested mappings and sequences, indentation varied', () => {
    const next = seededRandom(42);
    const keys = [
      'name',
      'rules',
      'source',
      'type',
      'a.b',
      'x-y',
      '_k',
      'true',
      'null',
      'constructor',
      'k 2',
    ];
    const scalars = ['v', '1', '0x10', '~', '', "'q'", '"d"', 'a b', '10.0.0.0/8', '- x', 'a: b', '#c', '.5'];
    const node = (indent: number, depth: number, out: string[], inline: string | undefined): void => {
      const pad = ' '.repeat(indent);
      const kind = depth > 3 ? 2 : next(3);
      const count = 1 + next(3);
      if (kind === 2) {
        out.push(`${inline ?? ''}${scalars[next(scalars.length)] ?? ''}`);
        return;
      }
      if (inline !== undefined) out.push(inline.trimEnd());
      const step = 1 + next(3);
      for (let i = 0; i < count; i++) {
        const mode = next(10);
        if (mode === 0) out.push(`${pad}# comment`);
        if (mode === 1) out.push('');
        // Now and then, a line that breaks the indentation.
        const shift = next(25) === 0 ? ' ' : '';
        if (kind === 0)
          node(indent + step, depth + 1, out, `${shift}${pad}${keys[next(keys.length)] ?? ''}: `);
        else node(indent + step, depth + 1, out, `${shift}${pad}- `);
      }
    };
    const texts = Array.from({ length: 3000 }, () => {
      const out: string[] = [];
      for (let k = 0; k < 1 + next(3); k++) node(1 + next(3), 1, out, `${keys[next(keys.length)] ?? ''}: `);
      return `${out.join('\n')}\n`;
    });
    const { accepted, problems } = compareAll(texts);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(accepted).toBeGreaterThan(300);
  });

  test('2,000 seeded character-level mutations of the example policy files', () => {
    const dir = resolve('policies.example/policies');
    const bases = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    const pieces = [
      ...': -[]{}#\'"\n&*!?|>%~0123456789abc,.\\ ',
      ...['- ', ': ', '  ', '\n  ', '\n- ', ' #', "''", '---\n', '...\n', 'key:', '- a: b', '__proto__: 1'],
    ];
    const next = seededRandom(20261128);
    const texts = Array.from({ length: 2000 }, () =>
      mutateText(bases[next(bases.length)] ?? '', pieces, next),
    );
    const { accepted, problems } = compareAll(texts);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(accepted).toBeGreaterThan(600);
  });

  test('keys that share a slot of the key cache (length, first and last character) are told apart', () => {
    const text = 'abc: 1\naxc: 2\nlist:\n  - abc: 3\n    axc: 4\n  - axc: 5\n    abc: 6\n';
    expect(readBlockYaml(text, resolvePlainScalar)).toEqual({
      abc: 1,
      axc: 2,
      list: [
        { abc: 3, axc: 4 },
        { axc: 5, abc: 6 },
      ],
    });
    expect(disagreement(text)).toBeUndefined();
    expect(readBlockYaml('abc: 1\naxc: 2\nabc: 3\n', resolvePlainScalar)).toBeUndefined();
  });

  test('duplicate keys, document markers and text js-yaml refuses are declined', () => {
    for (const text of [
      'a: 1\na: 2\n',
      '---\na: 1\n',
      'a: 1\n...\n',
      'a: 1\n\u0007\n',
      '\ufeffa: 1\n',
      'a: 1\r\n',
      '__proto__: 1\n',
      '- a\n',
      'a: |\n  text\n',
      'a: b\n  c\n',
    ]) {
      expect(readBlockYaml(text, resolvePlainScalar), JSON.stringify(text)).toBeUndefined();
    }
  });
});
