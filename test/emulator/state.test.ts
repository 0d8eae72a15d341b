import { describe, expect, it } from 'vitest';
import { EmulatorApiError } from '../../src/emulator/errors.js';
import { HEX32, newHexId } from '../../src/emulator/ids.js';
import {
  addProject,
  associateRuleset,
  createEmptyState,
  createFilter,
  createRuleset,
  deleteFilter,
  deleteRuleset,
  getFilter,
  getProject,
  getRuleset,
  patchProject,
  updateRuleset,
} from '../../src/emulator/state.js';
import { addDeployment } from '../../src/emulator/deployments.js';
import type { EmulatorState } from '../../src/emulator/types.js';

const body = {
  name: 'r',
  type: 'ip',
  include_by_default: false,
  region: 'us-east-1',
  rules: [{ source: '1.2.3.4' }],
};

describe('emulator state functions (no HTTP)', () => {
  it('leaves the state untouched when a request is refused', () => {
    const state = createEmptyState();
    const { id } = createRuleset(state, 'cloud', body) as { id: string };
    const before = structuredClone(state);
    expect(() =>
      updateRuleset(state, 'cloud', id, { ...body, rules: [{ source: '1.2.3.4' }, { source: 'bad' }] }),
    ).toThrow(EmulatorApiError);
    expect(state).toEqual(before);
  });

  it('refuses to move an associated ruleset to another region, allows it when unassociated', () => {
    const state = createEmptyState();
    const { id } = createRuleset(state, 'cloud', body) as { id: string };
    expect(updateRuleset(state, 'cloud', id, { ...body, region: 'eu-west-1' })).toEqual({ id });
    updateRuleset(state, 'cloud', id, body);
    const dep = addDeployment(state, { name: 'd', region: 'us-east-1' });
    associateRuleset(state, id, { entity_type: 'deployment', id: dep });
    try {
      updateRuleset(state, 'cloud', id, { ...body, region: 'eu-west-1' });
      expect.unreachable();
    } catch (err) {
      expect((err as EmulatorApiError).status).toBe(400);
      expect((err as EmulatorApiError).errors[0]?.code).toBe('traffic_filter.region_mismatch');
    }
    expect(getRuleset(state, id, true)).toMatchObject({ region: 'us-east-1', total_associations: 1 });
  });

  it('attaches include_by_default rulesets only to deployments added after them', () => {
    const state = createEmptyState();
    const early = addDeployment(state, { name: 'early', region: 'us-east-1' });
    const { id } = createRuleset(state, 'cloud', { ...body, include_by_default: true }) as { id: string };
    const late = addDeployment(state, { name: 'late', region: 'us-east-1' });
    const seeded = addDeployment(state, { name: 'seeded', region: 'us-east-1' }, { autoAttach: false });
    expect(state.rulesets[0]?.associations).toEqual([late]);
    expect([early, seeded]).not.toContain(state.rulesets[0]?.associations[0]);
    expect(getRuleset(state, id, true)).toMatchObject({
      associations: [{ entity_type: 'deployment', id: late }],
    });
  });
});

/** The HTTP status a state function refuses with, or 200 when it answers. */
function statusOf(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (err) {
    if (err instanceof EmulatorApiError) return err.status;
    throw err;
  }
}

describe('emulator lookups by id', () => {
  const REGION = 'aws-us-east-1';
  const filter = (name: string) => ({ name, type: 'ip', region: REGION, rules: [{ source: '1.2.3.4' }] });
  const makeFilters = (state: EmulatorState, n: number): string[] =>
    Array.from({ length: n }, (_, i) => (createFilter(state, filter(`f${i}`)).body as { id: string }).id);

  it('issues distinct 32-hex ids, also past a refill of the random pool', () => {
    const ids = Array.from({ length: 1000 }, () => newHexId());
    expect(ids.every((id) => HEX32.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('finds what exists and only that, through deletes and re-creates', () => {
    const state = createEmptyState();
    const project = addProject(state, { type: 'elasticsearch', name: 'p', region_id: REGION });
    const ids = makeFilters(state, 300);
    const deleted = ids.filter((_, i) => i % 3 === 0);
    for (const id of deleted) deleteFilter(state, id);
    const kept = ids.filter((_, i) => i % 3 !== 0);

    expect(deleted.map((id) => statusOf(() => getFilter(state, id)))).toEqual(deleted.map(() => 404));
    expect(kept.map((id) => statusOf(() => getFilter(state, id)))).toEqual(kept.map(() => 200));
    expect(statusOf(() => deleteFilter(state, deleted[0] ?? ''))).toBe(404);

    const [again] = makeFilters(state, 1);
    expect(ids).not.toContain(again);
    const list = [kept[0], again, kept[5]].map((id) => ({ id }));
    expect(
      statusOf(() => patchProject(state, 'elasticsearch', project, { traffic_filters: list }, undefined)),
    ).toBe(200);
    expect(getProject(state, 'elasticsearch', project).body['traffic_filters']).toEqual(list);
    const gone = { traffic_filters: [{ id: deleted[1] }] };
    expect(statusOf(() => patchProject(state, 'elasticsearch', project, gone, undefined))).toBe(400);
    // A project is found under its own type only.
    expect(statusOf(() => getProject(state, 'security', project))).toBe(404);
    // A filter still listed by a project cannot go.
    expect(statusOf(() => deleteFilter(state, kept[0] ?? ''))).toBe(400);
  });

  it('reads a state whose lists were replaced or extended by hand, as a loaded state file is', () => {
    const state = createEmptyState();
    const [a, b, c] = makeFilters(state, 3);
    expect(statusOf(() => getFilter(state, a ?? ''))).toBe(200);
    state.traffic_filters = state.traffic_filters.filter((f) => f.id !== a);
    expect(statusOf(() => getFilter(state, a ?? ''))).toBe(404);
    expect(statusOf(() => getFilter(state, b ?? ''))).toBe(200);
    const copy = structuredClone(state.traffic_filters[0]);
    if (!copy) throw new Error('no filter');
    copy.id = 'd'.repeat(32);
    state.traffic_filters.push(copy);
    // A delete through the API right after the hand edit keeps both edits visible.
    deleteFilter(state, c ?? '');
    expect(statusOf(() => getFilter(state, c ?? ''))).toBe(404);
    expect(getFilter(state, copy.id).body['id']).toBe(copy.id);
    expect(statusOf(() => getFilter(state, b ?? ''))).toBe(200);
  });

  it('gives every write of every object its own ETag', () => {
    const state = createEmptyState();
    const p = addProject(state, { type: 'elasticsearch', name: 'p', region_id: REGION });
    const created = [createFilter(state, filter('a')), createFilter(state, filter('a'))];
    const first = getProject(state, 'elasticsearch', p).etag;
    const patched = patchProject(state, 'elasticsearch', p, { name: 'q' }, first);
    expect(getProject(state, 'elasticsearch', p).etag).toBe(patched.etag);
    const tags = [first, patched.etag, ...created.map((f) => f.etag)];
    expect(new Set(tags).size).toBe(tags.length);
    expect(tags.every((t) => /^".+"$/.test(t))).toBe(true);
  });

  it('forgets a deleted ruleset for every call that names it', () => {
    const state = createEmptyState();
    const dep = addDeployment(state, { name: 'd', region: 'us-east-1' });
    const ids = Array.from(
      { length: 5 },
      (_, i) => (createRuleset(state, 'cloud', { ...body, name: `r${i}` }) as { id: string }).id,
    );
    deleteRuleset(state, ids[2] ?? '', false);
    expect(statusOf(() => getRuleset(state, ids[2] ?? '', false))).toBe(404);
    expect(
      statusOf(() => associateRuleset(state, ids[2] ?? '', { entity_type: 'deployment', id: dep })),
    ).toBe(404);
    expect(
      statusOf(() => associateRuleset(state, ids[3] ?? '', { entity_type: 'deployment', id: dep })),
    ).toBe(200);
    expect(state.rulesets.map((r) => r.id)).toEqual(ids.filter((_, i) => i !== 2));
  });
});
