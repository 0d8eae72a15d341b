import { describe, expect, it } from 'vitest';
import { countAddresses, parseIpv4Range } from '../../src/model/ipv4.js';
import { describeExposure } from '../../src/plan/exposure.js';
import type { TargetExposure } from '../../src/plan/types.js';
import {
  association,
  deployment,
  desiredEnv,
  liveEnv,
  livePolicy,
  liveTarget,
  planOne,
  policy,
  rule,
} from '../support/core-fixtures.js';

const A = deployment('a0000000000000000000000000000001');
const B = deployment('b0000000000000000000000000000002');

function exposureOf(result: ReturnType<typeof planOne>): TargetExposure[] {
  return result.plan.exposure ?? [];
}

describe('exposure in the plan', () => {
  it('counts the union of the ranges a new ip policy adds, and names it', () => {
    // office: 10.0.0.0/24 (256); vpn adds 10.0.0.128/25 (inside) and 192.168.0.0/22 (1,024).
    const live = liveEnv(
      [livePolicy('L1', 'office', { rules: [rule('10.0.0.0/24')], associations: [A] })],
      [liveTarget(A, { name: 'prod-search' })],
    );
    const desired = desiredEnv({
      policies: [
        policy('office', { rules: [rule('10.0.0.0/24')] }),
        policy('vpn', { rules: [rule('10.0.0.128/25'), rule('192.168.0.0/22')] }),
      ],
      associations: [association(A, 'office'), association(A, 'vpn')],
    });
    const [e, ...rest] = exposureOf(planOne(desired, live));
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      environment: 'prod',
      target: A,
      name: 'prod-search',
      before: { access: 'public_allow_list', ipv4_addresses: 256, policies: ['office'] },
      after: { access: 'public_allow_list', ipv4_addresses: 1280, policies: ['office', 'vpn'] },
      delta_ipv4: 1024,
      via: ['vpn'],
      opens_to_internet: false,
    });
    expect(describeExposure(e as TargetExposure)).toBe(
      'prod-search (deployment a0000000000000000000000000000001): +1,024 IPv4 addresses (256 → 1,280) via vpn',
    );
  });

  it('lists only targets whose ingress changes; a description change is no exposure change', () => {
    const live = liveEnv(
      [
        livePolicy('L1', 'office', { rules: [rule('10.0.0.0/24')], associations: [A] }),
        livePolicy('L2', 'other', { rules: [rule('10.9.0.0/16')], associations: [B] }),
      ],
      [liveTarget(A), liveTarget(B)],
    );
    const desired = desiredEnv({
      policies: [
        policy('office', { rules: [rule('10.0.0.0/25')], description: 'smaller' }),
        policy('other', { rules: [rule('10.9.0.0/16')], description: 'new words' }),
      ],
      associations: [association(A, 'office'), association(B, 'other')],
    });
    const result = planOne(desired, live);
    expect(result.plan.operations.map((o) => o.id)).toEqual([
      'update:prod/us-east-1/office',
      'update:prod/us-east-1/other',
    ]);
    expect(exposureOf(result).map((e) => [e.target.id, e.delta_ipv4, e.via])).toEqual([
      [A.id, -128, ['office']],
    ]);
    expect(describeExposure(exposureOf(result)[0] as TargetExposure)).toContain(
      '−128 IPv4 addresses (256 → 128)',
    );
  });

  it('private link only → public allow-list, and unfiltered → filtered', () => {
    const live = liveEnv(
      [
        livePolicy('L1', 'link', {
          type: 'vpce',
          rules: [rule('vpce-0a1b2c3d4e5f67890')],
          associations: [A],
        }),
      ],
      [liveTarget(A), liveTarget(B)],
    );
    const desired = desiredEnv({
      policies: [
        policy('link', { type: 'vpce', rules: [rule('vpce-0a1b2c3d4e5f67890')] }),
        policy('office', { rules: [rule('192.168.1.0/24')] }),
      ],
      associations: [association(A, 'office'), association(B, 'office')],
    });
    const result = planOne(desired, live);
    const byTarget = new Map(exposureOf(result).map((e) => [e.target.id, e]));
    // A keeps its PrivateLink policy only until the dissociation; after the plan it has just office.
    expect(byTarget.get(A.id)).toMatchObject({
      before: { access: 'private_link_only', ipv4_addresses: 0, private_endpoints: 1 },
      after: { access: 'public_allow_list', ipv4_addresses: 256, private_endpoints: 0 },
      via: ['link', 'office'],
    });
    expect(describeExposure(byTarget.get(A.id) as TargetExposure)).toBe(
      'deployment a0000000000000000000000000000001: private link only → public allow-list; +256 IPv4 addresses (0 → 256); private endpoints 1 → 0 via link, office',
    );
    expect(byTarget.get(B.id)).toMatchObject({
      before: { access: 'unfiltered', ipv4_addresses: 4_294_967_296 },
      after: { access: 'public_allow_list', ipv4_addresses: 256 },
      delta_ipv4: 256 - 4_294_967_296,
      opens_to_internet: false,
    });
  });

  it('flags a target that goes from filtered to unfiltered', () => {
    const live = liveEnv(
      [livePolicy('L1', 'office', { rules: [rule('10.0.0.0/24')], associations: [A] })],
      [liveTarget(A, { name: 'prod-search' })],
    );
    const desired = desiredEnv({
      policies: [policy('office', { rules: [rule('10.0.0.0/24')] })],
      associations: [],
      allowUnfiltered: [A],
    });
    const [e] = exposureOf(planOne(desired, live));
    expect(e).toMatchObject({ opens_to_internet: true, after: { access: 'unfiltered' }, via: ['office'] });
    expect(describeExposure(e as TargetExposure)).toBe(
      'prod-search (deployment a0000000000000000000000000000001): public allow-list → UNFILTERED: open to the whole internet; +4,294,967,040 IPv4 addresses (256 → 4,294,967,296) via office',
    );
  });

  it('egress policies do not count, and policies out of scope keep a target filtered', () => {
    const P = {
      kind: 'project',
      projectType: 'elasticsearch',
      id: 'p0000000000000000000000000000001',
    } as const;
    const live = liveEnv(
      [livePolicy('L1', 'office', { rules: [rule('10.0.0.0/24')], associations: [P] })],
      // The project also carries a filter this read cannot see (another region, or unmanaged scope).
      [liveTarget(P, { policyIds: ['L1', 'HIDDEN'] })],
    );
    const desired = desiredEnv({
      api: 'serverless',
      policies: [policy('office', { rules: [rule('10.0.0.0/24')] })],
      associations: [],
      allowUnfiltered: [P],
    });
    const [e] = exposureOf(planOne(desired, live));
    expect(e).toMatchObject({
      before: { access: 'public_allow_list', policies: ['HIDDEN', 'office'] },
      after: { access: 'other_filters', ipv4_addresses: 0, policies: ['HIDDEN'] },
      opens_to_internet: false,
    });
  });

  it('no changes, no exposure', () => {
    const live = liveEnv([livePolicy('L1', 'office', { associations: [A] })], [liveTarget(A)]);
    const desired = desiredEnv({ policies: [policy('office')], associations: [association(A, 'office')] });
    const result = planOne(desired, live);
    expect(result.plan.operations).toEqual([]);
    expect(result.plan.exposure).toEqual([]);
  });
});

describe('IPv4 intervals', () => {
  it('ignores host bits and merges overlapping and adjacent ranges', () => {
    expect(parseIpv4Range('192.168.132.6/22')).toEqual({ start: 3232269312, end: 3232270335, prefix: 22 });
    expect(parseIpv4Range('300.1.1.1')).toBeUndefined();
    expect(parseIpv4Range('10.0.0.0/33')).toBeUndefined();
    const ranges = ['10.0.0.0/25', '10.0.0.128/25', '10.0.0.0/24', '10.0.1.5'].map((s) => parseIpv4Range(s)!);
    expect(countAddresses(ranges)).toBe(257);
    expect(countAddresses([parseIpv4Range('0.0.0.0/0')!])).toBe(2 ** 32);
  });
});
