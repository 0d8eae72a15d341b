import { createHash, randomFillSync } from 'node:crypto';

// One call into the CSPRNG per 256 ids instead of one per id: a create issues one id per rule
// (ESS), and a per-call randomBytes showed up in the emulator's profile of a large apply.
const POOL = Buffer.alloc(16 * 256);
let poolOffset = POOL.length;

/** A new 32-character lowercase hex id, the shape every captured ESS and serverless id has. */
export function newHexId(): string {
  if (poolOffset === POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const id = POOL.toString('hex', poolOffset, poolOffset + 16);
  poolOffset += 16;
  return id;
}

/** A new id not in `taken` (a set, or any id lookup). */
export function newUniqueId(taken: { has(id: string): boolean }): string {
  for (;;) {
    const id = newHexId();
    if (!taken.has(id)) return id;
  }
}

/**
 * A quoted, opaque ETag for one version of one object. The emulator-wide write counter makes every
 * write's tag differ (which is all If-Match needs); the object's content is not hashed, which made
 * every project or filter write serialise the whole object once more.
 */
export function makeEtag(objectId: string, counter: number): string {
  const hash = createHash('sha256').update(objectId).update('\u0000').update(String(counter)).digest('hex');
  return `"${hash.slice(0, 24)}"`;
}

export const HEX32 = /^[0-9a-f]{32}$/;
export const PROJECT_ID = /^[a-z0-9]{32}$/;
