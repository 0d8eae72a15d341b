import { expect, test } from 'vitest';
import { defineLazy } from '../../src/model/lazy.js';

test('a lazy property is computed once, on first read, and reads like a plain one', () => {
  let computed = 0;
  const value = defineLazy({ a: 1, digest: '', z: 2 }, 'digest', () => {
    computed++;
    return 'abc';
  });
  expect(computed).toBe(0);
  expect(Object.keys(value)).toEqual(['a', 'digest', 'z']);
  expect(JSON.stringify(value)).toBe('{"a":1,"digest":"abc","z":2}');
  expect({ ...value }).toEqual({ a: 1, digest: 'abc', z: 2 });
  expect(value.digest).toBe('abc');
  expect(computed).toBe(1);
});

test('assigning replaces the value without computing it', () => {
  let computed = 0;
  const value = defineLazy({ digest: '' }, 'digest', () => {
    computed++;
    return 'abc';
  });
  value.digest = 'given';
  expect(value.digest).toBe('given');
  expect(computed).toBe(0);
});
