import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build-plan.js';
import { PHASE_OF } from '../../src/plan/types.js';
import {
  association,
  deployment,
  desiredEnv,
  desiredState,
  envInput,
  FIXED_NOW,
  guardsOf,
  liveEnv,
  livePolicy,
  liveTarget,
  opById,
  opList,
  planOne,
  policy,
  rule,
  targetsOf,
} from '../support/core-fixtures.js';

const T = deployment('t1');
const T2 = deployment('t2');
const EU = 'eu-west-1';

describe('replacement', () => {
  it('type change: replace, associate the new one, dissociate and delete the old one, chained', () => {
    const live = [livePolicy('OLD', 'office', { type: 'ip', associations: [T] })];
    const desired = desiredEnv({
      policies: [policy('office', { type: 'vpce', rules: [rule('vpce-0123')] })],
      associations: [association(T, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    const replace = 'replace:prod/us-east-1/office#vpce';
    const associate = 'associate:prod/us-east-1/office→deployment:t1';
    const dissociate = 'dissociate:prod/us-east-1/office@OLD→deployment:t1';
    const del = 'delete:prod/us-east-1/office@OLD';
    expect(opList(plan)).toEqual([replace, associate, dissociate, del]);
    expect(opById(plan, replace)).toMatchObject({
      action: 'replace',
      policy: { region: 'us-east-1', name: 'office', type: 'vpce' },
      replaces: { id: 'OLD', type: 'ip', region: 'us-east-1', name: 'office' },
      changes: expect.arrayContaining([{ field: 'type', before: 'ip', after: 'vpce' }]),
      depends_on: [],
    });
    expect(opById(plan, replace).policy.id).toBeUndefined();
    const assoc = opById(plan, associate);
    expect(assoc).toMatchObject({ action: 'associate', policy_from: replace, depends_on: [replace] });
    expect(assoc.policy.id).toBeUndefined();
    expect(opById(plan, dissociate)).toMatchObject({
      policy: { id: 'OLD', type: 'ip' },
      depends_on: [associate],
    });
    expect(opById(plan, del)).toMatchObject({ reason: 'replaced', depends_on: [dissociate, replace] });
    expect(plan.refusals).toEqual([]);
  });

  it('the old half is deleted only after its successor exists, even with no associations', () => {
    const live = [livePolicy('OLD', 'office', { type: 'ip' })];
    const desired = desiredEnv({ policies: [policy('office', { type: 'vpce' })] });
    const { plan } = planOne(desired, liveEnv(live));
    expect(opById(plan, 'delete:prod/us-east-1/office@OLD').depends_on).toEqual([
      'replace:prod/us-east-1/office#vpce',
    ]);
  });

  it('region change: the undeclared same-name policy in another region is replaced', () => {
    const east = deployment('east');
    const live = [livePolicy('OLD', 'office', { region: EU, associations: [T] })];
    const desired = desiredEnv({
      policies: [policy('office')],
      associations: [association(east, 'office')],
      allowUnfiltered: [T],
    });
    const { plan, diagnostics } = planOne(
      desired,
      liveEnv(live, [liveTarget(T, { region: EU }), liveTarget(east)]),
    );
    expect(diagnostics).toEqual([]);
    expect(opList(plan)).toEqual([
      'replace:prod/us-east-1/office#ip',
      'associate:prod/us-east-1/office→deployment:east',
      'dissociate:prod/eu-west-1/office@OLD→deployment:t1',
      'delete:prod/eu-west-1/office@OLD',
    ]);
    expect(opById(plan, 'replace:prod/us-east-1/office#ip')).toMatchObject({
      replaces: { id: 'OLD', region: EU },
      changes: [{ field: 'region', before: EU, after: 'us-east-1' }],
    });
    expect(opById(plan, 'delete:prod/eu-west-1/office@OLD')).toMatchObject({ reason: 'replaced' });
  });

  it('region change that would leave the old region target open is refused', () => {
    const live = [livePolicy('OLD', 'office', { region: EU, associations: [T] })];
    const desired = desiredEnv({ policies: [policy('office')] });
    const { plan } = planOne(desired, liveEnv(live, [liveTarget(T, { region: EU })]));
    expect(guardsOf(plan)).toEqual(['unfiltered_target']);
    expect(plan.refusals[0]).toMatchObject({ blocking: true });
    expect(plan.refusals[0]?.message).toContain('deployment t1');
  });

  it('interrupted type change (old and new both live) only finishes the move', () => {
    const live = [
      livePolicy('OLD', 'office', { type: 'ip', associations: [T] }),
      livePolicy('NEW', 'office', { type: 'vpce', rules: [rule('vpce-0123')] }),
    ];
    const desired = desiredEnv({
      policies: [policy('office', { type: 'vpce', rules: [rule('vpce-0123')] })],
      associations: [association(T, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toEqual([
      'associate:prod/us-east-1/office→deployment:t1',
      'dissociate:prod/us-east-1/office@OLD→deployment:t1',
      'delete:prod/us-east-1/office@OLD',
    ]);
    const assoc = opById(plan, 'associate:prod/us-east-1/office→deployment:t1');
    expect(assoc.policy.id).toBe('NEW');
    expect(assoc).not.toHaveProperty('policy_from', expect.anything());
    expect(plan.summary).toMatchObject({ create: 0, replace: 0 });
  });

  it('interrupted region change (old and new both live) only finishes the move', () => {
    const live = [
      livePolicy('OLD', 'office', { region: EU, associations: [T2] }),
      livePolicy('NEW', 'office', { associations: [T] }),
    ];
    const desired = desiredEnv({
      policies: [policy('office')],
      associations: [association(T, 'office')],
      allowUnfiltered: [T2],
    });
    const targets = [liveTarget(T), liveTarget(T2, { region: EU })];
    const { plan } = planOne(desired, liveEnv(live, targets));
    expect(opList(plan)).toEqual([
      'dissociate:prod/eu-west-1/office@OLD→deployment:t2',
      'delete:prod/eu-west-1/office@OLD',
    ]);
  });

  it('type change in place also removes a same-name old half in another region', () => {
    const live = [livePolicy('A', 'office', { type: 'ip' }), livePolicy('B', 'office', { region: EU })];
    const desired = desiredEnv({ policies: [policy('office', { type: 'vpce' })] });
    const { plan } = planOne(desired, liveEnv(live));
    expect(opList(plan)).toEqual([
      'replace:prod/us-east-1/office#vpce',
      'delete:prod/eu-west-1/office@B',
      'delete:prod/us-east-1/office@A',
    ]);
  });

  it('include_by_default: a replacement inherits the undeclared live associations', () => {
    const live = [
      livePolicy('OLD', 'office', { type: 'ip', include_by_default: true, associations: [T, T2] }),
    ];
    const desired = desiredEnv({
      policies: [policy('office', { type: 'vpce', include_by_default: true })],
      associations: [association(T, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan).filter((id) => id.startsWith('associate'))).toEqual([
      'associate:prod/us-east-1/office→deployment:t1',
      'associate:prod/us-east-1/office→deployment:t2',
    ]);
    expect(plan.notes.filter((n) => n.kind === 'auto_attached').map((n) => n.target)).toEqual([T2]);
  });

  it('a protected policy is never replaced (blocking refusal)', () => {
    const live = [livePolicy('OLD', 'office', { type: 'ip' })];
    const desired = desiredEnv({ protect: ['office'], policies: [policy('office', { type: 'vpce' })] });
    const { plan } = planOne(desired, liveEnv(live));
    expect(plan.refusals).toEqual([expect.objectContaining({ guard: 'protected_policy', blocking: true })]);
    expect(plan.refusals[0]?.override).toContain('protect');
  });
});

describe('make before break and order', () => {
  it('a target moving from A to B: dissociate(A→T) depends on associate(B→T)', () => {
    const live = [livePolicy('LA', 'a', { associations: [T] }), livePolicy('LB', 'b')];
    const desired = desiredEnv({ policies: [policy('a'), policy('b')], associations: [association(T, 'b')] });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live, desired.associations)));
    expect(opList(plan)).toEqual([
      'associate:prod/us-east-1/b→deployment:t1',
      'dissociate:prod/us-east-1/a@LA→deployment:t1',
    ]);
    expect(opById(plan, 'dissociate:prod/us-east-1/a@LA→deployment:t1').depends_on).toEqual([
      'associate:prod/us-east-1/b→deployment:t1',
    ]);
  });

  it('moving to a created policy: associate depends on the create and names it in policy_from', () => {
    const live = [livePolicy('LA', 'a', { associations: [T] })];
    const desired = desiredEnv({ policies: [policy('a'), policy('b')], associations: [association(T, 'b')] });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    const assoc = opById(plan, 'associate:prod/us-east-1/b→deployment:t1');
    expect(assoc).toMatchObject({
      policy_from: 'create:prod/us-east-1/b',
      depends_on: ['create:prod/us-east-1/b'],
    });
    expect(opById(plan, 'dissociate:prod/us-east-1/a@LA→deployment:t1').depends_on).toEqual([assoc.id]);
  });

  it('an associate waits for the update of its policy', () => {
    const live = [livePolicy('LA', 'a', { description: 'x' })];
    const desired = desiredEnv({ policies: [policy('a')], associations: [association(T, 'a')] });
    const { plan } = planOne(desired, liveEnv(live, [liveTarget(T)]));
    expect(opById(plan, 'associate:prod/us-east-1/a→deployment:t1')).toMatchObject({
      policy: { id: 'LA' },
      depends_on: ['update:prod/us-east-1/a'],
    });
  });

  it('sorts create/replace → update → associate → dissociate → delete', () => {
    const live = [
      livePolicy('U', 'upd', { description: 'old', associations: [T2] }),
      livePolicy('R', 'rep', { type: 'ip' }),
      livePolicy('P', 'pruned', { associations: [T] }),
    ];
    const desired = desiredEnv({
      prune: true,
      policies: [policy('upd'), policy('rep', { type: 'vpce' }), policy('new')],
      associations: [association(T, 'new')],
      allowUnfiltered: [T2],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    const actions = plan.operations.map((o) => o.action);
    expect(actions).toEqual([
      'create',
      'replace',
      'update',
      'associate',
      'dissociate',
      'dissociate',
      'delete',
      'delete',
    ]);
    const phases = plan.operations.map((o) => PHASE_OF[o.action]);
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    // Every dependency comes earlier in the plan.
    const index = new Map(plan.operations.map((o, i) => [o.id, i]));
    for (const [i, op] of plan.operations.entries()) {
      for (const dep of op.depends_on) expect(index.get(dep)).toBeLessThan(i);
    }
  });
});

describe('guards', () => {
  it('unfiltered target: losing its only ingress policy is a blocking refusal', () => {
    const live = [livePolicy('LA', 'a', { associations: [T] })];
    const desired = desiredEnv({ policies: [policy('a')] });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toEqual(['dissociate:prod/us-east-1/a@LA→deployment:t1']);
    expect(plan.refusals).toEqual([expect.objectContaining({ guard: 'unfiltered_target', blocking: true })]);
    expect(plan.refusals[0]?.override).toContain('allow_unfiltered');
  });

  it('egress-only does not count as filtered', () => {
    const live = [livePolicy('LA', 'a', { associations: [T] })];
    const desired = desiredEnv({
      policies: [
        policy('a'),
        policy('out', {
          type: 'egress_firewall',
          rules: [{ egress_rule: { target: '0.0.0.0/0', protocol: 'all' } }],
        }),
      ],
      associations: [association(T, 'out')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(guardsOf(plan)).toEqual(['unfiltered_target']);
  });

  it('a target that starts with only an egress policy is not guarded', () => {
    const live = [livePolicy('E', 'out', { type: 'egress_firewall', rules: [], associations: [T] })];
    const desired = desiredEnv({ policies: [policy('out', { type: 'egress_firewall', rules: [] })] });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toEqual(['dissociate:prod/us-east-1/out@E→deployment:t1']);
    expect(plan.refusals).toEqual([]);
  });

  it('an unmanaged ingress policy keeps the target filtered', () => {
    const live = [
      livePolicy('LA', 'a', { associations: [T] }),
      livePolicy('U', 'legacy', { associations: [T] }),
    ];
    const desired = desiredEnv({ policies: [policy('a')] });
    expect(planOne(desired, liveEnv(live, targetsOf(live))).plan.refusals).toEqual([]);
  });

  it('allow_unfiltered on the association entry or in allowUnfiltered overrides', () => {
    const live = [livePolicy('LA', 'a', { associations: [T] })];
    const viaList = desiredEnv({ policies: [policy('a')], allowUnfiltered: [T] });
    expect(planOne(viaList, liveEnv(live, targetsOf(live))).plan.refusals).toEqual([]);
    const viaEntry = desiredEnv({
      policies: [policy('a'), policy('out', { type: 'egress_firewall', rules: [] })],
      associations: [association(T, 'out', { allow_unfiltered: true })],
    });
    const { plan } = planOne(viaEntry, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toContain('dissociate:prod/us-east-1/a@LA→deployment:t1');
    expect(plan.refusals).toEqual([]);
  });

  it('serverless: filter ids the project reports but this read cannot see still filter', () => {
    const p = { kind: 'project', projectType: 'elasticsearch', id: 'p1' } as const;
    const live = [livePolicy('LA', 'a', { associations: [p] })];
    const desired = desiredEnv({ api: 'serverless', policies: [policy('a')] });
    const targets = [liveTarget(p, { policyIds: ['LA', 'OUT-OF-SCOPE'] })];
    expect(planOne(desired, liveEnv(live, targets)).plan.refusals).toEqual([]);
    const alone = [liveTarget(p, { policyIds: ['LA'] })];
    expect(guardsOf(planOne(desired, liveEnv(live, alone)).plan)).toEqual(['unfiltered_target']);
  });

  describe('percent guards', () => {
    const many = (n: number, assocs = false) =>
      Array.from({ length: n }, (_, i) =>
        livePolicy(
          `L${i}`,
          `p${String(i).padStart(2, '0')}`,
          assocs ? { associations: [deployment(`d${i}`)] } : {},
        ),
      );

    it('max_delete_percent refuses pruning above the threshold once there are ≥ 10 managed policies', () => {
      const live = many(10);
      const desired = desiredEnv({ prune: true, policies: live.slice(0, 6).map((l) => policy(l.name)) });
      const { plan } = planOne(desired, liveEnv(live));
      expect(plan.summary.delete).toBe(4);
      expect(plan.refusals).toEqual([
        expect.objectContaining({ guard: 'max_delete_percent', blocking: true }),
      ]);
      expect(plan.refusals[0]?.message).toContain('4 of 10');
      expect(plan.refusals[0]?.override).toContain('--force');
    });

    it('is not checked below 10 managed policies, at the threshold, or with force', () => {
      const nine = many(9);
      const below = desiredEnv({ prune: true, policies: nine.slice(0, 2).map((l) => policy(l.name)) });
      expect(planOne(below, liveEnv(nine)).plan.refusals).toEqual([]);
      const ten = many(10);
      const atLimit = desiredEnv({ prune: true, policies: ten.slice(0, 7).map((l) => policy(l.name)) });
      expect(planOne(atLimit, liveEnv(ten)).plan.refusals).toEqual([]);
      const over = desiredEnv({ prune: true, policies: ten.slice(0, 2).map((l) => policy(l.name)) });
      const forced = planOne(over, liveEnv(ten), { force: true }).plan;
      expect(forced.refusals).toEqual([]);
      expect(forced.summary.delete).toBe(8);
    });

    it('max_dissociate_percent refuses removing too many associations of managed policies', () => {
      const live = many(10, true);
      const desired = desiredEnv({
        policies: live.map((l) => policy(l.name)),
        associations: live.slice(0, 6).map((l) => association(l.associations[0]!, l.name)),
        allowUnfiltered: live.map((l) => l.associations[0]!),
      });
      const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
      expect(plan.summary.dissociate).toBe(4);
      expect(guardsOf(plan)).toEqual(['max_dissociate_percent']);
      expect(planOne(desired, liveEnv(live, targetsOf(live)), { force: true }).plan.refusals).toEqual([]);
      const nine = live.slice(0, 9);
      const fewer = desiredEnv({ ...desiredEnvOptions(desired), policies: desired.policies.slice(0, 9) });
      expect(planOne(fewer, liveEnv(nine, targetsOf(nine))).plan.refusals).toEqual([]);
    });
  });

  it('noDelete drops deletes and dissociations, keeps additive changes', () => {
    const live = [
      livePolicy('R', 'rep', { type: 'ip', associations: [T] }),
      livePolicy('P', 'pruned', { associations: [T2], hiddenAssociations: 1 }),
    ];
    const desired = desiredEnv({
      prune: true,
      protect: ['rep'],
      policies: [policy('rep', { type: 'vpce' })],
      associations: [association(T, 'rep')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)), { noDelete: true });
    expect(opList(plan)).toEqual([
      'replace:prod/us-east-1/rep#vpce',
      'associate:prod/us-east-1/rep→deployment:t1',
    ]);
    // Nothing is deleted, so neither protect nor hidden associations refuse.
    expect(plan.refusals).toEqual([]);
  });

  it('hidden associations block the delete', () => {
    const live = [livePolicy('P', 'pruned', { hiddenAssociations: 2 })];
    const { plan } = planOne(desiredEnv({ prune: true }), liveEnv(live));
    expect(plan.refusals).toEqual([
      expect.objectContaining({ guard: 'hidden_associations', blocking: true }),
    ]);
    expect(plan.refusals[0]?.message).toContain('2 association(s)');
  });

  it('an incomplete listing refuses deletes and dissociations, not additive plans', () => {
    const live = [livePolicy('P', 'pruned'), livePolicy('LA', 'a', { associations: [T] })];
    const desired = desiredEnv({ prune: true, policies: [policy('a'), policy('b')], allowUnfiltered: [T] });
    const incomplete = liveEnv(live, targetsOf(live), { complete: false, incompleteReason: 'next_page set' });
    const { plan } = planOne(desired, incomplete);
    expect(plan.refusals).toEqual([expect.objectContaining({ guard: 'incomplete_listing', blocking: true })]);
    expect(plan.notes.some((n) => n.kind === 'incomplete')).toBe(true);
    const additive = planOne(desired, incomplete, { noDelete: true }).plan;
    expect(opList(additive)).toEqual(['create:prod/us-east-1/b']);
    expect(additive.refusals).toEqual([]);
  });
});

describe('plan document', () => {
  const live = [
    livePolicy('L1', 'office', { description: 'old', associations: [T] }),
    livePolicy('U', 'legacy'),
  ];
  const desired = desiredEnv({
    policies: [policy('office'), policy('vpn')],
    associations: [association(T, 'office'), association(T2, 'vpn')],
  });
  const targets = targetsOf(live, desired.associations);

  it('has format version, config digest, summary and fingerprints per environment', () => {
    const other = desiredEnv({ name: 'staging', policies: [policy('office', { environment: 'staging' })] });
    const otherLive = liveEnv([livePolicy('S1', 'office')], [], { environment: 'staging' });
    const { plan } = buildPlan(
      desiredState([desired, other], 'cafe'),
      [envInput(desired, liveEnv(live, targets)), envInput(other, otherLive)],
      { now: () => FIXED_NOW },
    );
    expect(plan).toMatchObject({
      format_version: '1.1',
      config_digest: 'cafe',
      created_at: FIXED_NOW.toISOString(),
    });
    expect(plan.summary).toEqual({
      create: 1,
      replace: 0,
      update: 1,
      associate: 1,
      dissociate: 0,
      delete: 0,
      total: 3,
      refused: 0,
    });
    expect(plan.fingerprints).toEqual({
      prod: { 'policy:L1': 'fp-L1', 'policy:U': 'fp-U', 'deployment:t1': 'fp-t1', 'deployment:t2': 'fp-t2' },
      staging: { 'policy:S1': 'fp-S1' },
    });
    expect(plan.operations.map((o) => o.environment)).toEqual(['prod', 'prod', 'prod']);
    expect(plan.environments?.map((e) => [e.name, e.status])).toEqual([
      ['prod', 'planned'],
      ['staging', 'planned'],
    ]);
  });

  it('lists an environment that could not be read, with the reason, and plans the others as without it', () => {
    const other = desiredEnv({ name: 'aaa-down', policies: [policy('office', { environment: 'aaa-down' })] });
    const alone = buildPlan(desiredState([desired], 'cafe'), [envInput(desired, liveEnv(live, targets))], {
      now: () => FIXED_NOW,
    }).plan;
    const { plan } = buildPlan(
      desiredState([desired, other], 'cafe'),
      [envInput(desired, liveEnv(live, targets))],
      {
        now: () => FIXED_NOW,
        unreadable: [
          { name: 'aaa-down', api: 'ece', endpoint: 'https://ece.example:12443', error: 'GET /x: boom' },
        ],
      },
    );
    expect(plan.environments).toEqual([
      {
        name: 'aaa-down',
        api: 'ece',
        endpoint: 'https://ece.example:12443',
        status: 'unreadable',
        error: 'GET /x: boom',
      },
      { ...alone.environments?.[0], status: 'planned' },
    ]);
    expect(plan.operations).toEqual(alone.operations);
    expect(plan.refusals).toEqual(alone.refusals);
    expect(plan.fingerprints).toEqual(alone.fingerprints);
  });

  it('is stable: same inputs give identical JSON; listing order does not matter', () => {
    const a = planOne(desired, liveEnv(live, targets)).plan;
    const b = planOne(desired, liveEnv(live, targets)).plan;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const shuffled = planOne(desired, liveEnv([...live].reverse(), [...targets].reverse())).plan;
    expect(JSON.stringify(shuffled.operations)).toBe(JSON.stringify(a.operations));
    expect(shuffled.notes).toEqual(a.notes);
    expect(opList(a)).toEqual([
      'create:prod/us-east-1/vpn',
      'update:prod/us-east-1/office',
      'associate:prod/us-east-1/vpn→deployment:t2',
    ]);
  });

  it('is JSON-serialisable without loss and never contains functions', () => {
    const { plan } = planOne(desired, liveEnv(live, targets));
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

function desiredEnvOptions(env: ReturnType<typeof desiredEnv>) {
  return {
    name: env.config.name,
    api: env.config.api,
    associations: env.associations,
    allowUnfiltered: env.allowUnfiltered,
  };
}
