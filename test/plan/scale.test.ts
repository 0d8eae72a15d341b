import { describe, expect, it } from 'vitest';
import type {
  DesiredAssociation,
  DesiredPolicy,
  LivePolicy,
  LiveTarget,
  Rule,
} from '../../src/model/types.js';
import {
  association,
  deployment,
  desiredEnv,
  liveEnv,
  livePolicy,
  liveTarget,
  planOne,
  policy,
} from '../support/core-fixtures.js';

/**
 * Smoke test at scale: 10,000 policies × 20 rules × 3 associations must plan within the default
 * test timeout. No wall-clock assertion: the point is that no quadratic path (a scan of all
 * policies or targets per policy) exists; at this size one would take minutes.
 */
const N = 10_000;
const RULES = 20;

function rulesFor(i: number): Rule[] {
  return Array.from({ length: RULES }, (_, r) => ({
    source: `10.${i % 256}.${r}.0/24`,
    description: `r${r}`,
  }));
}

describe('scale', () => {
  it(`diffs ${N} policies × ${RULES} rules × 3 associations`, () => {
    const targets: LiveTarget[] = Array.from({ length: N }, (_, i) => liveTarget(deployment(`d${i}`)));
    const live: LivePolicy[] = [];
    const policies: DesiredPolicy[] = [];
    const associations: DesiredAssociation[] = [];
    for (let i = 0; i < N; i++) {
      const name = `p${i}`;
      const on = [0, 1, 2].map((k) => deployment(`d${(i + k) % N}`));
      // Live rules in reverse order: no change on ess (set semantics).
      live.push(livePolicy(`L${i}`, name, { rules: rulesFor(i).reverse(), associations: on }));
      policies.push(policy(name, { rules: rulesFor(i), description: i % 10 === 0 ? 'changed' : '' }));
      // Every 100th policy moves its third association to another deployment.
      const declared = i % 100 === 0 ? [on[0]!, on[1]!, deployment(`d${(i + 3) % N}`)] : on;
      for (const t of declared) associations.push(association(t, name));
    }
    // 1,000 region moves: an undeclared same-name policy in another region for new declarations.
    for (let i = 0; i < N / 10; i++) {
      live.push(livePolicy(`M${i}`, `moved${i}`, { region: 'eu-west-1' }));
      policies.push(policy(`moved${i}`));
    }
    const desired = desiredEnv({ policies, associations });
    const { plan, diagnostics } = planOne(desired, liveEnv(live, targets));
    expect(diagnostics).toEqual([]);
    expect(plan.refusals).toEqual([]);
    expect(plan.summary).toEqual({
      create: 0,
      replace: N / 10,
      update: N / 10,
      associate: N / 100,
      dissociate: N / 100,
      delete: N / 10,
      total: N / 10 + N / 10 + N / 100 + N / 100 + N / 10,
      refused: 0,
    });
  });
});
