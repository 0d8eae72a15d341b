import { expect, test } from 'vitest';
import { canonicalJson, canonicalSet } from '../../src/model/canonical.js';

/** The definition canonicalJson must keep: a copy with keys sorted, through JSON.stringify. */
function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const member = (v as Record<string, unknown>)[key];
        if (member !== undefined) out[key] = sortKeys(member);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

test('canonical JSON is JSON.stringify of a key-sorted copy, for 2,000 seeded random values', () => {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const leaves = [
    0,
    -0,
    1.5,
    -3e-7,
    1e21,
    NaN,
    Infinity,
    true,
    false,
    null,
    undefined,
    '',
    'a"b\\c\n',
    'é\u2028😀',
    'Z',
  ];
  const keys = ['b', 'a', 'B', '10', '2', 'é', '', 'a b', '"q"', '__x'];
  const value = (depth: number): unknown => {
    const kind = depth > 3 ? 0 : next(3);
    if (kind === 0) return leaves[next(leaves.length)];
    if (kind === 1) return Array.from({ length: next(4) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = next(5); i > 0; i--) out[keys[next(keys.length)] ?? 'k'] = value(depth + 1);
    return out;
  };
  for (let i = 0; i < 2000; i++) {
    const v = value(0);
    expect(canonicalJson(v)).toBe(reference(v));
  }
});

test('equal data in any key order gives equal text; a set is in the order of its items’ text', () => {
  expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' })).toBe(
    canonicalJson({ a: 'x', b: [1, { c: 2, d: 1 }] }),
  );
  expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
  // A set embeds as its items sorted by canonical text, whatever their order.
  const rules = [{ source: 'b' }, { source: 'a', description: 'z' }, { source: 'a' }];
  const expected = '{"rules":[{"description":"z","source":"a"},{"source":"a"},{"source":"b"}]}';
  expect(canonicalJson({ rules: canonicalSet(rules) })).toBe(expected);
  expect(canonicalJson({ rules: canonicalSet([...rules].reverse()) })).toBe(expected);
});
