import { expect, test } from 'vitest';
import { canonicalJson, fingerprintOf, sortByCanonicalJson } from '../../src/model/canonical.js';

test('equal data in any key order gives equal text and equal fingerprints', () => {
  const a = { b: [1, { d: 1, c: 2 }], a: 'x', gone: undefined };
  const b = { a: 'x', b: [1, { c: 2, d: 1 }] };
  expect(canonicalJson(a)).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
  expect(canonicalJson(a)).toBe(canonicalJson(b));
  expect(fingerprintOf(a)).toBe(fingerprintOf(b));
  expect(fingerprintOf({ ...b, a: 'y' })).not.toBe(fingerprintOf(b));
});

test('a set sorted by canonical text is in one order whatever order it came in', () => {
  const rules = [{ source: 'b' }, { source: 'a', description: 'z' }, { source: 'a' }];
  const expected = [{ source: 'a', description: 'z' }, { source: 'a' }, { source: 'b' }];
  expect(sortByCanonicalJson(rules)).toEqual(expected);
  expect(sortByCanonicalJson([...rules].reverse())).toEqual(expected);
});
