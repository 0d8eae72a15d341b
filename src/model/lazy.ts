/**
 * Defines `key` on `target` as a value computed on first read: an enumerable property like any
 * other to every reader (JSON, spread, deep equality), but never computed by a run that does not
 * read it. Used for digests and fingerprints, which only a saved or JSON plan needs: a large estate
 * spends a noticeable part of a text plan hashing them otherwise. Assigning replaces the value.
 */
export function defineLazy<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): T {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return value;
  };
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => settle(compute()),
    set: (value: T[K]) => settle(value),
  });
  return target;
}
