import type { Plan } from '../../src/plan/types.js';
import {
  association,
  deployment,
  desiredEnv,
  liveEnv,
  livePolicy,
  liveTarget,
  planOne,
  policy,
  project,
  rule,
  targetsOf,
} from '../support/core-fixtures.js';

/**
 * Representative plans built through the real `buildPlan`: every action, every rule shape, notes
 * and refusals. Shared by the renderer and plan-schema tests.
 */

const T1 = deployment('t1');
const T2 = deployment('t2');

/** create + associate, update (fields and rules), delete (pruned) + dissociate, replace. */
export function everyActionPlan(): Plan {
  const live = [
    livePolicy('P-OFFICE', 'office', {
      description: 'Office',
      rules: [rule('10.0.0.0/8', 'old range'), rule('192.168.0.1')],
      associations: [T1],
    }),
    livePolicy('P-GONE', 'gone', { associations: [T1, T2] }),
    livePolicy('P-SWAP', 'swap', { type: 'ip', associations: [T2] }),
  ];
  const desired = desiredEnv({
    prune: true,
    policies: [
      policy('office', {
        description: 'Office | VPN <b>',
        include_by_default: true,
        rules: [rule('10.0.0.0/8', 'old range'), rule('172.16.0.0/12', 'new `range`')],
      }),
      policy('vpn', { rules: [rule('203.0.113.0/24')] }),
      policy('swap', { type: 'vpce', rules: [rule('vpce-0a1b2c3d4e5f67890')] }),
      policy('egress', {
        type: 'egress_firewall',
        rules: [{ egress_rule: { target: '198.51.100.0/24', protocol: 'tcp', ports: [443] } }],
      }),
      policy('azure', {
        type: 'azure_private_endpoint',
        rules: [
          {
            azure_endpoint_name: 'my-endpoint',
            azure_endpoint_guid: '7c1d5b0e-1234-4a5b-9c8d-0123456789ab',
          },
        ],
      }),
      policy('remote', {
        type: 'remote_cluster',
        rules: [{ remote_cluster_id: 'abc', remote_cluster_org_id: 'org1', description: 'ccs' }],
      }),
    ],
    associations: [
      association(T1, 'office'),
      association(T1, 'vpn'),
      association(T2, 'vpn'),
      association(T2, 'swap'),
    ],
  });
  return planOne(desired, liveEnv(live, targetsOf(live))).plan;
}

/** Serverless projects as targets, an unmanaged policy and its association as notes. */
export function serverlessPlan(): Plan {
  const p = project('0123456789abcdef0123456789abcdef');
  const live = [
    livePolicy('F-UNMANAGED', 'legacy', { associations: [p] }),
    livePolicy('F-OFFICE', 'office', { rules: [rule('10.0.0.0/8')] }),
  ];
  const desired = desiredEnv({
    api: 'serverless',
    policies: [policy('office', { rules: [rule('10.0.0.0/8'), rule('10.1.0.0/16')] })],
    associations: [association(p, 'office')],
  });
  return planOne(desired, liveEnv(live, [liveTarget(p, { etag: '"e1"', policyIds: ['F-UNMANAGED'] })])).plan;
}

/** Refusals: ambiguous policy (non-blocking) and an unfiltered target (blocking). */
export function refusedPlan(): Plan {
  const live = [
    livePolicy('D1', 'dup', { rules: [rule('10.0.0.1')] }),
    livePolicy('D2', 'dup', { rules: [rule('10.0.0.2')] }),
    livePolicy('P-ONLY', 'only', { associations: [T1] }),
  ];
  const desired = desiredEnv({ policies: [policy('dup'), policy('only')] });
  return planOne(desired, liveEnv(live, targetsOf(live))).plan;
}

/** In sync: no operations. */
export function emptyPlan(): Plan {
  const live = [livePolicy('P1', 'office', { associations: [T1] })];
  const desired = desiredEnv({ policies: [policy('office')], associations: [association(T1, 'office')] });
  return planOne(desired, liveEnv(live, targetsOf(live))).plan;
}

/** Many policies to create: a plan too long for one PR comment. */
export function hugePlan(count: number): Plan {
  const policies = Array.from({ length: count }, (_, i) =>
    policy(`policy-${String(i).padStart(5, '0')}`, {
      description: 'x'.repeat(40),
      rules: [rule(`10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`)],
    }),
  );
  return planOne(desiredEnv({ policies }), liveEnv()).plan;
}

export const ALL_SCENARIOS: Record<string, () => Plan> = {
  everyAction: everyActionPlan,
  serverless: serverlessPlan,
  refused: refusedPlan,
  empty: emptyPlan,
  huge: () => hugePlan(50),
};
