/**
 * A `fingerprint` computed on first read from the object's own fields, for the live objects a read
 * maps by the thousand. Like `defineLazy` (model/lazy.ts) it is an enumerable own property to every
 * reader (JSON, spread, deep equality), and assigning replaces it; unlike it, every object of a kind
 * shares one getter and one setter. V8 then gives them all one hidden class, where a closure per
 * object turns each into a dictionary: 5,000 policies took ~100 ms more to map, and every later
 * read of their fields was a hash lookup.
 *
 * `compute` reads the fields when the fingerprint is first read; live objects are never changed
 * after mapping, so that is the state they were read in.
 */
export function lazyFingerprint<T extends { fingerprint: string }>(
  compute: (obj: T) => string,
): (obj: Omit<T, 'fingerprint'>) => T {
  const descriptor: PropertyDescriptor = {
    enumerable: true,
    configurable: true,
    get(this: T): string {
      return settle(this, compute(this));
    },
    set(this: T, value: string): void {
      settle(this, value);
    },
  };
  return (obj) => Object.defineProperty(obj, 'fingerprint', descriptor) as T;
}

function settle(obj: object, value: string): string {
  Object.defineProperty(obj, 'fingerprint', { value, enumerable: true, writable: true, configurable: true });
  return value;
}
