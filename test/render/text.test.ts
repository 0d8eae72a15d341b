import { describe, expect, it } from 'vitest';
import { renderPlanText } from '../../src/cli/render/text.js';
import {
  association,
  deployment,
  desiredEnv,
  liveEnv,
  livePolicy,
  planOne,
  policy,
  rule,
  targetsOf,
} from '../support/core-fixtures.js';

describe('the text plan', () => {
  it('shows a policy swapped for an equal one on 400 targets as one exposure line, not 400', () => {
    const targets = Array.from({ length: 400 }, (_, i) => deployment(`d${String(i).padStart(31, '0')}`));
    const opened = deployment('open0000000000000000000000000000');
    const live = [
      livePolicy('P-OLD', 'office-v1', { rules: [rule('10.0.0.0/8')], associations: [...targets, opened] }),
    ];
    const desired = desiredEnv({
      policies: [
        policy('office-v2', { rules: [rule('10.0.0.0/8')] }),
        policy('wide', { rules: [rule('11.0.0.0/8')] }),
      ],
      associations: [
        ...targets.map((t) => association(t, 'office-v2')),
        association(opened, 'office-v2'),
        association(opened, 'wide'),
      ],
      maxDissociatePercent: 100,
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(plan.exposure).toHaveLength(401);
    const text = renderPlanText(plan, { color: false });
    const exposure = text.slice(text.indexOf('  Exposure:'));
    expect(exposure.split('\n').filter((l) => l.startsWith('    '))).toEqual([
      expect.stringMatching(/deployment open0+: \+16,777,216 IPv4 addresses .* via office-v2, wide$/),
      '    400 target(s): same access and number of IPv4 addresses (via office-v2)',
    ]);
  });
});
