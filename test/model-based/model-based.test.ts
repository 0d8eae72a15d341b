/**
 * The model-based test of plan and apply (issue 23, scripts/model/): a short seeded campaign per
 * API — random estates, desired states, faults (503, 429, resets, resets after commit, read lag)
 * and kills, with SPEC's invariants checked after every apply — and the shrunk counterexamples of
 * the bugs it found, replayed. `npm run test:model -- --minutes N` runs long campaigns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  modelProperty,
  runScenario,
  type ApplyIntent,
  type FaultIntent,
} from '../../scripts/model/scenario.js';
import { MODEL_APIS, type EstateIntent, type PolicyIntent } from '../../scripts/model/world.js';

/** Fixed seeds: `npm test` replays the same scenarios; campaigns draw new ones. */
const SEEDS = { ess: 2301, ece: 2302, serverless: 2303 } as const;
const RUNS = 6;

describe('model-based campaign (seeded)', () => {
  for (const api of MODEL_APIS) {
    it(`${api}: every apply of random desired states under faults and kills keeps SPEC's invariants`, async () => {
      await fc.assert(modelProperty({ apis: [api], maxCommands: 3 }), { numRuns: RUNS, seed: SEEDS[api] });
    }, 120_000);
  }
});

const plain: PolicyIntent = {
  region: 0,
  type: 0,
  includeByDefault: false,
  description: 0,
  rules: [],
  targets: [],
};
const noFaults: FaultIntent = {
  rate5xx: 0,
  rate429: 0,
  rateReset: 0,
  rateResetAfterCommit: 0,
  readLag: 0,
  seed: 0,
};
const applyWith = (faults: Partial<FaultIntent>): ApplyIntent => ({
  edits: [],
  faults: { ...noFaults, ...faults },
  kill: null,
  concurrency: 8,
});
/** One ess deployment in the first region; `policies` are declared in the slots of MANAGED_NAMES. */
const estate = (policies: (PolicyIntent | null)[], overrides: Partial<EstateIntent> = {}): EstateIntent => ({
  api: 'ess',
  regions: 1,
  targets: [{ region: 0, projectType: 0 }],
  live: [],
  desired: { policies, prune: false, protect: [], allowUnfiltered: [] },
  ...overrides,
});

describe('shrunk counterexamples, replayed', () => {
  it('include_by_default policy moved to another region: its old associations are not kept across regions', async () => {
    // Live vpn in us-east-1 on the only deployment; declared include_by_default in eu-west-1. The
    // plan kept the deployment as "auto-attached" for the eu policy: a cross-region associate
    // (400), exit 5, and no convergence ever. Now the deployment would be left without an ingress
    // policy, which the unfiltered_target guard refuses before any write.
    const history = await runScenario(
      estate([null, { ...plain, region: 1, includeByDefault: true }, null, null, plain], {
        regions: 2,
        live: [{ name: 1, policy: { ...plain, targets: [0] } }],
      }),
      applyWith({}),
    );
    expect(history).toEqual([expect.stringMatching(/run 1: exit 4, 0 writes/)]);
  });

  it('a lost create reply and a lagging listing make no duplicate', async () => {
    // Shrunk with random faults (resets after commit 5%, read lag 2); scripted here so that the
    // first create's reply is the one lost.
    const history = await runScenario(
      estate([plain, null, plain, plain, null]),
      applyWith({
        readLag: 2,
        script: [{ method: 'POST', pathPattern: 'rulesets$', fault: 'reset_after_commit' }],
      }),
    );
    expect(history).toEqual([expect.stringMatching(/run 1: exit 0, 3 writes, 1 faults/)]);
  });

  it('a convergence re-read that lags behind the writes is not reported as "Not converged"', async () => {
    const history = await runScenario(estate([null, plain, plain, plain, plain]), applyWith({ readLag: 2 }));
    expect(history).toEqual([expect.stringMatching(/run 1: exit 0, 4 writes/)]);
  });
});
