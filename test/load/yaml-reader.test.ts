import { describe, expect, test } from 'vitest';
import { parseYamlText, positionAt, sourceTextAt } from '../../src/load/read-yaml.js';
import type { YamlFile } from '../../src/load/read-yaml.js';
import { load, makeProject, where } from './helpers.js';

/*
 * The loader has one YAML reader (`yaml`, YAML 1.2 core schema). These are the texts where
 * readers are known to disagree, each with the exact data it must give or the one diagnostic it
 * must raise: a change of reader or of its options that changes any of them shows here.
 */

function read(text: string) {
  const result = parseYamlText(text, '/p.yaml', 'p.yaml');
  return {
    value: result.yaml?.value,
    diagnostics: result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`),
    messages: result.diagnostics.map((d) => d.message),
    yaml: result.yaml,
  };
}

const DATA: readonly [name: string, text: string, value: unknown][] = [
  // Only space and tab separate YAML tokens: other Unicode spaces are part of the value.
  ['U+00A0 inside a flow list', 'a: [x\u00a0, y]\n', { a: ['x\u00a0', 'y'] }],
  ['U+00A0 ending a description', 'description: Office\u00a0\n', { description: 'Office\u00a0' }],
  ['U+FEFF ending a description', 'description: Office\ufeff\n', { description: 'Office\ufeff' }],
  ['U+3000 after a number in a flow list', 'a: [1\u3000]\n', { a: ['1\u3000'] }],
  ['U+2028 inside a value', 'a: x\u2028y\n', { a: 'x\u2028y' }],
  // Core schema: True/FALSE are booleans, also as keys.
  ['True and FALSE as keys', 'True: 1\nFALSE: 2\n', { true: 1, false: 2 }],
  [
    'core schema scalars',
    'a: [0b101, 1_000, 0x1F, 0o17, .inf, -.Inf, 1e3, True, ~, null, 007, yes, on, 2001-12-14]\n',
    {
      a: [
        '0b101',
        '1_000',
        31,
        15,
        Infinity,
        -Infinity,
        1000,
        true,
        null,
        null,
        7,
        'yes',
        'on',
        '2001-12-14',
      ],
    },
  ],
  ['~ and null as keys name the empty key', '~: 1\n', { '': 1 }],
  ['<< is a key like any other', '<<: {a: 1}\n', { '<<': { a: 1 } }],
  // A plain scalar continues on a more indented line: this is one item, "a - b".
  ['a "- b" one column deeper continues the item above', 'rules:\n  - a\n   - b\n', { rules: ['a - b'] }],
  ['a comment needs a space before #', 'a: x#y # comment\n', { a: 'x#y' }],
  ['multi-line double-quoted', 'a: "line one\n  line two"\n', { a: 'line one line two' }],
  ['multi-line single-quoted with a blank line', "a: 'x\n\n  y'\n", { a: 'x\ny' }],
  [
    'block scalars with indentation and chomping indicators',
    'a: |2\n    indented\n  text\nb: >-\n  folded\n  text\nc: |+\n  keep\n\nd: 1\n',
    { a: '  indented\ntext\n', b: 'folded text', c: 'keep\n\n', d: 1 },
  ],
  ['a byte order mark at the start', '\ufeffa: 1\n', { a: 1 }],
  ['CRLF line breaks', 'a: 1\r\nb: 2\r\n', { a: 1, b: 2 }],
  ['a document end marker', 'a: 1\n...\n', { a: 1 }],
  ['a few aliases', 'a: &s [1, 2]\nb: *s\n', { a: [1, 2], b: [1, 2] }],
];

describe('tricky texts read as YAML 1.2 core', () => {
  test.each(DATA)('%s', (_name, text, value) => {
    const result = read(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.value).toEqual(value);
  });
});

const REFUSED: readonly [name: string, text: string, diagnostic: string, message: RegExp][] = [
  ['True next to true', 'True: 1\ntrue: 2\n', '2:1 E_DUPLICATE_KEY', /duplicate key 'true'/],
  ['a quoted and a plain spelling of one key', 'a: 1\n"a": 2\n', '2:1 E_DUPLICATE_KEY', /'a'/],
  ['a number and a string that name the same key', '1: a\n"1": b\n', '2:1 E_DUPLICATE_KEY', /'1'/],
  [
    'a list item one column deeper than its siblings',
    'rules:\n  - source: a\n   - source: b\n',
    '3:4 E_YAML',
    /indentation does not match/,
  ],
  ['"Office"#c', 'description: "Office"#c\n', '1:22 E_YAML', /'#' starts a comment only after a space/],
  ['a second document', 'a: 1\n---\nb: 2\n', '2:1 E_MULTIPLE_DOCUMENTS', /one document/],
  ['a %YAML 1.1 directive', '%YAML 1.1\n---\na: yes\n', '1:1 E_YAML', /read as YAML 1.2/],
  ['a tab used to indent', 'a:\n\tb: 1\n', '2:1 E_YAML', /tab/],
  ['a list as a key', '? [a, b]\n: 1\n', '1:3 E_YAML', /key must be a plain value/],
  ['an alias as a key', 'a: &k x\n*k : 1\n', '2:1 E_YAML', /key must be a plain value/],
  ['an unclosed flow list', 'a: [1, 2\nb: 3\n', '2:1 E_YAML', /not closed/],
  ['an unclosed quote', 'a: "abc\nb: 1\n', '3:1 E_YAML', /quoted value is not closed/],
  ['an alias to no anchor', 'a: *nowhere\n', '1:4 E_YAML', /anchor/],
  ['a list at the top level', '- a\n- b\n', '1:1 E_NOT_MAPPING', /not a list/],
  ['only comments', '# nothing\n', '1:1 E_EMPTY_FILE', /empty/],
];

describe('texts refused, each with one diagnostic in our words', () => {
  test.each(REFUSED)('%s', (_name, text, expected, message) => {
    const result = read(text);
    expect(result.value).toBeUndefined();
    expect(result.diagnostics).toEqual([expected]);
    expect(result.messages[0]).toMatch(message);
    // The library's own words (its API names, its codes) never reach the user.
    expect(result.messages[0]).not.toMatch(/parseAllDocuments|YAML\.|[A-Z]{2,}_[A-Z]{2,}/);
  });

  test('lists nested deeper than the parser can go are refused, not a crash', () => {
    // Where the parser gives up depends on the stack it has: only the line is fixed.
    const result = read(`a: ${'['.repeat(20000)}${']'.repeat(20000)}\n`);
    expect(result.diagnostics).toEqual([expect.stringMatching(/^1:\d+ E_YAML$/)]);
    expect(result.messages[0]).toMatch(/nested too deeply/);
  });

  test('an indentation slip is one error where it happened, not a cascade', () => {
    const text = 'environment: prod\npolicies:\n  - name: a\n    region: r\n   type: ip\n    rules: []\n';
    expect(read(text).diagnostics).toEqual(['5:1 E_YAML']);
  });

  test('every duplicate key is reported when there is no syntax error', () => {
    expect(read('a: 1\na: 2\nb:\n  c: 1\n  c: 2\n').diagnostics).toEqual([
      '2:1 E_DUPLICATE_KEY',
      '5:3 E_DUPLICATE_KEY',
    ]);
  });

  test('a top level that is not a mapping is refused without quoting the file', () => {
    for (const text of ['ssh-rsa AAAAB3Nza secret-token\n', '- secret-token\n', '"secret-token"\n', '42\n']) {
      const result = read(text);
      expect(result.diagnostics).toEqual(['1:1 E_NOT_MAPPING']);
      expect(result.messages.join('\n')).not.toMatch(/secret|AAAA|42/);
    }
  });

  test('an unknown tag is a warning, and the value is read without it', () => {
    const result = read('a: !custom x\n');
    expect(result.diagnostics).toEqual(['1:4 W_YAML']);
    expect(result.value).toEqual({ a: 'x' });
  });
});

describe('positions come from the same parse as the data', () => {
  const yamlOf = (text: string): YamlFile => {
    const yaml = read(text).yaml;
    if (yaml === undefined) throw new Error('not parsed');
    return yaml;
  };
  const at = (yaml: YamlFile, path: (string | number)[], key = false) => {
    const p = positionAt(yaml, path, { key });
    return `${p.line}:${p.col}`;
  };

  test('keys, values and list items; a missing step stops at the deepest value found', () => {
    const yaml = yamlOf('# head\npolicies:\n  - name: a\n    rules:\n      - source: 10.0.0.0/8\n');
    expect(at(yaml, ['policies', 0, 'name'])).toBe('3:11');
    expect(at(yaml, ['policies', 0, 'name'], true)).toBe('3:5');
    expect(at(yaml, ['policies', 0, 'rules', 0, 'source'])).toBe('5:17');
    expect(at(yaml, ['policies', 0, 'rules', 0])).toBe('5:9');
    expect(at(yaml, ['policies', 0, 'missing', 'deeper'])).toBe('3:5');
    expect(at(yaml, ['nothing'])).toBe('2:1');
  });

  test('integer-like keys, which JavaScript lists first, keep their own positions', () => {
    const yaml = yamlOf('b: 1\n2: x\na: 3\n1: y\n');
    expect(['b', '2', 'a', '1'].map((k) => at(yaml, [k], true))).toEqual(['1:1', '2:1', '3:1', '4:1']);
    expect(['b', '2', 'a', '1'].map((k) => at(yaml, [k]))).toEqual(['1:4', '2:4', '3:4', '4:4']);
  });

  test('inside an alias, the position is the anchored value; the text written is kept', () => {
    const yaml = yamlOf('a: &s [1e3, x]\nb: *s\n');
    expect(at(yaml, ['b'])).toBe('2:4');
    expect(at(yaml, ['b', 0])).toBe('1:8');
    expect(sourceTextAt(yaml, ['a', 0])).toBe('1e3');
  });

  test('CRLF files count lines as LF files do', () => {
    const yaml = yamlOf('a: 1\r\nb:\r\n  - x\r\n');
    expect(at(yaml, ['b', 0])).toBe('3:5');
  });
});

test('the same data gives the same load whatever comments and blank lines surround it', () => {
  const config = 'environments:\n  prod:\n    api: ess\n';
  const plain = [
    'environment: prod',
    'policies:',
    '  - name: office',
    '    region: us-east-1',
    '    type: ip',
    '    rules:',
    '      - source: 10.0.0.0/8',
    '        description: Office',
  ].join('\n');
  const commented = [
    '# Office networks',
    'environment: prod # the only one',
    '',
    'policies: # one policy',
    '  # the office',
    '  - name: office',
    '    region: us-east-1 # a region',
    '',
    '    type: ip',
    '    rules:',
    '      # rule one',
    '      - source: 10.0.0.0/8   # a #-comment',
    '        description: Office',
    '# end',
  ].join('\n');
  const a = load(makeProject({ 'ecfence.yaml': config, 'policies/p.yaml': `${plain}\n` }));
  const b = load(makeProject({ 'ecfence.yaml': config, 'policies/p.yaml': `${commented}\n` }));
  expect(where(a.diagnostics)).toEqual([]);
  const data = (r: typeof a) =>
    r.desired?.environments.map((e) => ({
      ...e,
      policies: e.policies.map((p) => ({ ...p, position: undefined })),
    }));
  expect(data(b)).toEqual(data(a));
  expect(b.desired?.configDigest).toBe(a.desired?.configDigest);
});
