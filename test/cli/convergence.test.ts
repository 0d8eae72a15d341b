import { describe, expect, it } from 'vitest';
import { convergenceLine, judgeConvergence } from '../../src/cli/commands/apply.js';
import { desiredEnv, liveEnv, livePolicy, planOne, policy, rule } from '../support/core-fixtures.js';

/** The verdict after apply, from a plan made (with every guard overridden) on a fresh read. */
const verdict = (live: ReturnType<typeof livePolicy>[], noDelete = false, prune = false) =>
  convergenceLine(
    judgeConvergence(
      planOne(desiredEnv({ prune, policies: [policy('office')] }), liveEnv(live), { force: true }),
    ),
    noDelete,
  );

describe('convergence after apply', () => {
  it('in sync: converged', () => {
    expect(verdict([livePolicy('L1', 'office')])).toMatchObject({ ok: true, readable: true });
  });

  it('copies of a declared policy are not converged, identical (merge pending) or not (refused)', () => {
    const identical = verdict([livePolicy('L1', 'office'), livePolicy('L2', 'office')]);
    expect(identical).toMatchObject({ ok: false, readable: true });
    expect(identical.text).toBe(
      'Not converged: 1 declared policy(ies) have more than one live copy, 1 operation(s) still pending; run ecfence plan to see why.',
    );
    // No operation at all, and still not converged.
    const differing = verdict([
      livePolicy('L1', 'office'),
      livePolicy('L2', 'office', { rules: [rule('1.1.1.1')] }),
    ]);
    expect(differing.ok).toBe(false);
    expect(differing.text).toBe(
      'Not converged: 1 declared policy(ies) have more than one live copy; run ecfence plan to see why.',
    );
  });

  it('--no-delete: held-back deletes are converged for additive changes, a held-back merge is not', () => {
    const pruned = verdict([livePolicy('L1', 'office'), livePolicy('U', 'legacy')], true, true);
    expect(pruned).toMatchObject({ ok: true });
    expect(pruned.text).toMatch(/^Converged for additive changes; 1 delete/);
    expect(verdict([livePolicy('L1', 'office'), livePolicy('L2', 'office')], true)).toMatchObject({
      ok: false,
    });
  });
});
