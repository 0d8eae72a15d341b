import type { EmulatorState } from './types.js';

// Lookups by id go through a Map per collection, built on first use and kept up to date by
// `insert`/`remove`, instead of a scan of the collection per request: with thousands of filters a
// create (which gathered every id of the state to pick a new one) or a project PATCH (one scan
// per listed filter) cost the emulator more CPU than the client spent on the request. A
// collection whose length no longer matches its index (a state loaded from a file, an array
// replaced wholesale) gets a fresh index, so the arrays stay the only source of truth.
interface Identified {
  id: string;
}
interface IdIndex {
  byId: Map<string, Identified>;
  length: number;
  /** Some id occurs twice (only a hand-edited state file does that). */
  duplicates: boolean;
}
const indexes = new WeakMap<readonly Identified[], IdIndex>();

function indexFor(list: readonly Identified[]): IdIndex {
  let index = indexes.get(list);
  if (!index || index.length !== list.length) {
    const byId = new Map<string, Identified>();
    // The first of duplicate ids wins, as `Array.find` did.
    for (const x of list) if (!byId.has(x.id)) byId.set(x.id, x);
    index = { byId, length: list.length, duplicates: byId.size !== list.length };
    indexes.set(list, index);
  }
  return index;
}

export function byId<T extends Identified>(list: readonly T[], id: string): T | undefined {
  return indexFor(list).byId.get(id) as T | undefined;
}

export function insert<T extends Identified>(list: T[], item: T): void {
  const index = indexFor(list);
  list.push(item);
  if (index.byId.has(item.id)) index.duplicates = true;
  else index.byId.set(item.id, item);
  index.length = list.length;
}

export function remove<T extends Identified>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at < 0) return;
  const index = indexes.get(list);
  const current = index !== undefined && index.length === list.length && !index.duplicates;
  list.splice(at, 1);
  if (current) {
    index.byId.delete(item.id);
    index.length = list.length;
  } else {
    // Stale, or with duplicate ids another object may now answer to this one: index on next use.
    indexes.delete(list);
  }
}

/** Whether any deployment, ruleset, project or filter has this id. */
function isIdTaken(state: EmulatorState, id: string): boolean {
  return (
    byId(state.deployments, id) !== undefined ||
    byId(state.rulesets, id) !== undefined ||
    byId(state.projects, id) !== undefined ||
    byId(state.traffic_filters, id) !== undefined
  );
}

export const takenIn = (state: EmulatorState): { has(id: string): boolean } => ({
  has: (id) => isIdTaken(state, id),
});
