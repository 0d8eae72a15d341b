import { createHash, randomBytes } from 'node:crypto';

/** A new 32-character lowercase hex id, the shape every captured ESS and serverless id has. */
export function newHexId(): string {
  return randomBytes(16).toString('hex');
}

/** A new id not in `taken`. */
export function newUniqueId(taken: ReadonlySet<string>): string {
  for (;;) {
    const id = newHexId();
    if (!taken.has(id)) return id;
  }
}

/** A quoted ETag derived from the object's content and a monotonic counter, so every write differs. */
export function makeEtag(content: unknown, counter: number): string {
  const hash = createHash('sha256').update(JSON.stringify(content)).update(String(counter)).digest('hex');
  return `"${hash.slice(0, 24)}"`;
}

export const HEX32 = /^[0-9a-f]{32}$/;
export const PROJECT_ID = /^[a-z0-9]{32}$/;
