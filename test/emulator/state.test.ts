import { describe, expect, it } from 'vitest';
import { EmulatorApiError } from '../../src/emulator/errors.js';
import {
  addDeployment,
  associateRuleset,
  createEmptyState,
  createRuleset,
  getRuleset,
  updateRuleset,
} from '../../src/emulator/state.js';

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
