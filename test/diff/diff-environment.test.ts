import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../src/model/capabilities.js';
import { diffEnvironment } from '../../src/diff/diff-environment.js';
import type { LivePolicy } from '../../src/model/types.js';
import {
  association,
  deployment,
  desiredEnv,
  guardsOf,
  liveEnv,
  livePolicy,
  liveTarget,
  opById,
  opList,
  planOne,
  policy,
  project,
  rule,
  targetsOf,
} from '../support/core-fixtures.js';

const d1 = deployment('d1');
const d2 = deployment('d2');
const d3 = deployment('d3');

describe('identity by (region, name)', () => {
  it('adopts a live policy equal to the declared one: zero operations', () => {
    const live = [livePolicy('L1', 'office', { associations: [d1] })];
    const desired = desiredEnv({ policies: [policy('office')], associations: [association(d1, 'office')] });
    const { plan, diagnostics } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(plan.operations).toEqual([]);
    expect(plan.refusals).toEqual([]);
    expect(diagnostics).toEqual([]);
    expect(plan.summary.total).toBe(0);
  });

  it('updates description, include_by_default and rules in place, carrying the whole spec', () => {
    const live = [livePolicy('L1', 'office', { description: 'old', rules: [rule('1.1.1.1')] })];
    const desired = desiredEnv({
      policies: [
        policy('office', { description: 'new', include_by_default: true, rules: [rule('2.2.2.2')] }),
      ],
    });
    const { plan } = planOne(desired, liveEnv(live));
    expect(opList(plan)).toEqual(['update:prod/us-east-1/office']);
    const op = opById(plan, 'update:prod/us-east-1/office');
    expect(op).toMatchObject({
      action: 'update',
      policy: { region: 'us-east-1', name: 'office', type: 'ip', id: 'L1' },
      spec: { name: 'office', description: 'new', include_by_default: true, rules: [rule('2.2.2.2')] },
      depends_on: [],
    });
    expect(op.action === 'update' && op.changes.map((c) => c.field)).toEqual([
      'description',
      'include_by_default',
      'rules',
    ]);
  });

  it('ess/ece: reordered rules and different or absent rule ids are no change', () => {
    const liveRules = [
      { source: '2.2.2.2', id: 'r-9' },
      { source: '1.1.1.1', description: 'one', id: 'r-8' },
    ] as never[];
    for (const api of ['ess', 'ece'] as const) {
      const live = [livePolicy('L1', 'office', { rules: liveRules })];
      const desired = desiredEnv({
        api,
        policies: [policy('office', { rules: [rule('1.1.1.1', 'one'), rule('2.2.2.2')] })],
      });
      expect(opList(planOne(desired, liveEnv(live)).plan)).toEqual([]);
    }
  });

  it('ess: duplicate rules count (multiset)', () => {
    const live = [livePolicy('L1', 'office', { rules: [rule('1.1.1.1'), rule('1.1.1.1'), rule('2.2.2.2')] })];
    const desired = desiredEnv({
      policies: [policy('office', { rules: [rule('1.1.1.1'), rule('2.2.2.2'), rule('2.2.2.2')] })],
    });
    expect(opList(planOne(desired, liveEnv(live)).plan)).toEqual(['update:prod/us-east-1/office']);
  });

  it('serverless: rules are an ordered list, reordering is an update', () => {
    const p1 = project('p1');
    const live = [
      livePolicy('L1', 'office', { rules: [rule('2.2.2.2'), rule('1.1.1.1')], associations: [p1] }),
    ];
    const desired = desiredEnv({
      api: 'serverless',
      policies: [policy('office', { rules: [rule('1.1.1.1'), rule('2.2.2.2')] })],
      associations: [association(p1, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toEqual(['update:prod/us-east-1/office']);
    const sameOrder = desiredEnv({
      api: 'serverless',
      policies: [policy('office', { rules: [rule('2.2.2.2'), rule('1.1.1.1')] })],
      associations: [association(p1, 'office')],
    });
    expect(opList(planOne(sameOrder, liveEnv(live, targetsOf(live))).plan)).toEqual([]);
  });

  it('absent ≡ empty: description, egress ports, port order', () => {
    const live = [
      livePolicy('L1', 'egress', {
        type: 'egress_firewall',
        description: undefined as unknown as string,
        rules: [
          { egress_rule: { target: '0.0.0.0/0', protocol: 'tcp', ports: [443, 80] } },
          { egress_rule: { target: '10.0.0.0/8', protocol: 'all' } },
        ],
      }),
    ];
    const desired = desiredEnv({
      policies: [
        policy('egress', {
          type: 'egress_firewall',
          description: '',
          rules: [
            { egress_rule: { target: '10.0.0.0/8', protocol: 'all', ports: [] } },
            { egress_rule: { target: '0.0.0.0/0', protocol: 'tcp', ports: [80, 443] } },
          ],
        }),
      ],
    });
    expect(opList(planOne(desired, liveEnv(live)).plan)).toEqual([]);
  });

  it('creates a policy that is not live, in the declared region', () => {
    const desired = desiredEnv({ policies: [policy('office', { region: 'eu-west-1' })] });
    const { plan } = planOne(desired, liveEnv([livePolicy('L1', 'other', { region: 'eu-west-1' })]));
    expect(opList(plan)).toEqual(['create:prod/eu-west-1/office']);
    expect(opById(plan, 'create:prod/eu-west-1/office')).toMatchObject({
      action: 'create',
      policy: { region: 'eu-west-1', name: 'office', type: 'ip' },
      spec: { region: 'eu-west-1', name: 'office', type: 'ip', description: '', rules: [rule('10.0.0.0/8')] },
      depends_on: [],
    });
    expect(opById(plan, 'create:prod/eu-west-1/office').policy.id).toBeUndefined();
  });
});

describe('ambiguity', () => {
  it('two live policies with the same region and name: non-blocking refusal naming both ids, nothing planned for it', () => {
    const live = [
      livePolicy('L2', 'office', { rules: [rule('9.9.9.9')] }),
      livePolicy('L1', 'office', { associations: [d1] }),
      livePolicy('L3', 'vpn', { description: 'old' }),
    ];
    const desired = desiredEnv({
      prune: true,
      policies: [policy('office'), policy('vpn', { description: 'new' })],
      associations: [association(d2, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live, desired.associations)));
    expect(opList(plan)).toEqual(['update:prod/us-east-1/vpn']);
    expect(plan.refusals).toHaveLength(1);
    const [refusal] = plan.refusals;
    expect(refusal).toMatchObject({ guard: 'ambiguous_policy', blocking: false, environment: 'prod' });
    expect(refusal?.message).toContain('L1, L2');
    expect(plan.notes.filter((n) => n.kind === 'ambiguous')).toHaveLength(1);
  });

  it('leaves a same-name live policy in another region alone when the declared one is ambiguous', () => {
    const live = [
      livePolicy('L1', 'office'),
      livePolicy('L2', 'office', { description: 'edited by hand' }),
      livePolicy('L3', 'office', { region: 'eu-west-1', associations: [d1] }),
    ];
    const desired = desiredEnv({ prune: true, policies: [policy('office')] });
    const { plan } = planOne(desired, liveEnv(live, [liveTarget(d1, { region: 'eu-west-1' })]));
    expect(opList(plan)).toEqual([]);
    expect(guardsOf(plan)).toEqual(['ambiguous_policy']);
  });

  it('copies that differ in rules, description or include_by_default are not identical: refused', () => {
    for (const differs of [
      { rules: [rule('10.0.0.0/8'), rule('10.0.0.0/8')] }, // a multiset: two of a rule are not one
      { description: 'other' },
      { include_by_default: true },
    ]) {
      const live = [livePolicy('L1', 'office'), livePolicy('L2', 'office', differs)];
      const { plan } = planOne(desiredEnv({ policies: [policy('office')] }), liveEnv(live));
      expect(guardsOf(plan), JSON.stringify(differs)).toEqual(['ambiguous_policy']);
      expect(plan.refusals[0]?.message).toContain('not identical copies');
      expect(plan.operations).toEqual([]);
    }
  });

  it('an old and a new half of a type change are not ambiguous: the declared type wins', () => {
    const live = [livePolicy('OLD', 'pl', { type: 'ip' }), livePolicy('NEW', 'pl', { type: 'vpce' })];
    const desired = desiredEnv({ policies: [policy('pl', { type: 'vpce' })] });
    const { plan } = planOne(desired, liveEnv(live));
    expect(guardsOf(plan)).toEqual([]);
    expect(opList(plan)).toEqual(['delete:prod/us-east-1/pl@OLD']);
  });
});

describe('duplicates left by two concurrent applies', () => {
  it("identical copies merge: keep the most associated, move the others' associations first, then delete", () => {
    // ess compares rules as a multiset: the order and rule ids of a copy do not matter.
    const rules = [rule('10.0.0.0/8'), rule('192.168.0.0/16', 'vpn')];
    const live = [
      livePolicy('C', 'office', { rules: [...rules].reverse(), associations: [d2] }),
      livePolicy('B', 'office', { rules, associations: [d1, d2] }),
      livePolicy('A', 'office', { rules, associations: [d3] }),
    ];
    const desired = desiredEnv({
      policies: [policy('office', { rules })],
      associations: [association(d1, 'office'), association(d2, 'office'), association(d3, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(guardsOf(plan)).toEqual([]);
    expect(opList(plan)).toEqual([
      'associate:prod/us-east-1/office→deployment:d3',
      'dissociate:prod/us-east-1/office@A→deployment:d3',
      'dissociate:prod/us-east-1/office@C→deployment:d2',
      'delete:prod/us-east-1/office@A',
      'delete:prod/us-east-1/office@C',
    ]);
    // The kept copy B takes d3 before A leaves it; each delete waits for its copy's detaches.
    expect(opById(plan, 'associate:prod/us-east-1/office→deployment:d3')).toMatchObject({
      policy: { id: 'B' },
    });
    expect(opById(plan, 'dissociate:prod/us-east-1/office@A→deployment:d3').depends_on).toEqual([
      'associate:prod/us-east-1/office→deployment:d3',
    ]);
    expect(opById(plan, 'delete:prod/us-east-1/office@A')).toMatchObject({
      reason: 'duplicate',
      depends_on: ['dissociate:prod/us-east-1/office@A→deployment:d3'],
    });
    const [note] = plan.notes.filter((n) => n.kind === 'duplicate');
    expect(note?.message).toBe(
      "duplicate: 3 identical live policies named 'office' in us-east-1; keeping B (the copy with the most associations, then the smallest id), moving the associations of A, C to it and deleting them",
    );
    expect(plan.exposure?.some((e) => e.opens_to_internet)).toBe(false);
  });

  it('ties go to the smallest id, whatever the listing order, and the kept copy is updated as usual', () => {
    for (const live of [
      [livePolicy('P2', 'office'), livePolicy('P1', 'office')],
      [livePolicy('P1', 'office'), livePolicy('P2', 'office')],
    ]) {
      const desired = desiredEnv({ policies: [policy('office', { description: 'new' })] });
      const { plan } = planOne(desired, liveEnv(live));
      expect(opList(plan)).toEqual(['update:prod/us-east-1/office', 'delete:prod/us-east-1/office@P2']);
      expect(opById(plan, 'update:prod/us-east-1/office')).toMatchObject({ policy: { id: 'P1' } });
    }
  });

  it('serverless keeps rule order: copies in another order are not identical', () => {
    const a = [rule('10.0.0.0/8'), rule('10.1.0.0/16')];
    const live = [
      livePolicy('S1', 'office', { rules: a }),
      livePolicy('S2', 'office', { rules: [...a].reverse() }),
    ];
    const desired = desiredEnv({ api: 'serverless', policies: [policy('office', { rules: a })] });
    expect(guardsOf(planOne(desired, liveEnv(live)).plan)).toEqual(['ambiguous_policy']);
    const same = [livePolicy('S1', 'office', { rules: a }), livePolicy('S2', 'office', { rules: a })];
    expect(opList(planOne(desired, liveEnv(same)).plan)).toEqual(['delete:prod/us-east-1/office@S2']);
  });

  it('guards: merged copies are not deletions and do not dilute the counts; an association no copy keeps counts', () => {
    // Ten declared policies, each created twice (what two concurrent applies leave) and attached
    // to its own target by both runs; plus undeclared policies that prune deletes.
    const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const copies = names.flatMap((n, i) => [
      livePolicy(`${n}-a`, n, { associations: [deployment(`t${i}`)] }),
      livePolicy(`${n}-b`, n, { associations: [deployment(`t${i}`)] }),
    ]);
    const undeclared = (k: number) => Array.from({ length: k }, (_, i) => livePolicy(`u${i}`, `u${i}`));
    const desired = desiredEnv({
      prune: true,
      policies: names.map((n) => policy(n)),
      associations: names.map((n, i) => association(deployment(`t${i}`), n)),
    });
    const plan = (live: LivePolicy[]) => planOne(desired, liveEnv(live, targetsOf(live))).plan;

    // 10 copies and 1 pruned policy deleted, 10 copies detached: 1 of 11 policies, 0 associations lost.
    const merged = plan([...copies, ...undeclared(1)]);
    expect(guardsOf(merged)).toEqual([]);
    expect(merged.summary).toMatchObject({ delete: 11, dissociate: 10, associate: 0 });
    // 5 pruned of 15 managed is over 30%, however many copies are live beside them.
    const pruned = plan([...copies, ...undeclared(5)]);
    expect(guardsOf(pruned)).toEqual(['max_delete_percent']);
    expect(pruned.refusals[0]?.message).toContain('deletes 5 of 15 managed policies');
    // An association of a copy that the kept copy does not take (undeclared) is a real removal:
    // here each policy is declared on t and T; the kept copy (-a: ties go to the smallest id) is on
    // both, the other on t and an undeclared x, which it leaves without the kept copy.
    const both = desiredEnv({
      prune: true,
      policies: names.map((n) => policy(n)),
      associations: names.flatMap((n, i) => [
        association(deployment(`t${i}`), n),
        association(deployment(`T${i}`), n),
      ]),
    });
    const strays = names.flatMap((n, i) => [
      livePolicy(`${n}-a`, n, { associations: [deployment(`t${i}`), deployment(`T${i}`)] }),
      livePolicy(`${n}-b`, n, { associations: [deployment(`t${i}`), deployment(`x${i}`)] }),
    ]);
    const stray = planOne(both, liveEnv(strays, targetsOf(strays))).plan;
    expect(opList(stray)).toContain('dissociate:prod/us-east-1/p0@p0-b→deployment:x0');
    // …and leaves x with no ingress policy, which the unfiltered guard refuses too.
    expect(new Set(guardsOf(stray))).toEqual(new Set(['max_dissociate_percent', 'unfiltered_target']));
    expect(stray.refusals[0]?.message).toContain('removes 10 of 20 associations');
  });
});

describe('unmanaged policies, prune and scope', () => {
  it('shows unmanaged live policies as notes and leaves them untouched', () => {
    const live = [livePolicy('U1', 'legacy', { associations: [d1] })];
    const { plan } = planOne(desiredEnv(), liveEnv(live, targetsOf(live)));
    expect(plan.operations).toEqual([]);
    expect(plan.notes).toEqual([
      expect.objectContaining({
        kind: 'unmanaged',
        policy: { region: 'us-east-1', name: 'legacy', id: 'U1' },
      }),
    ]);
  });

  it('prune: true dissociates every association and deletes; protect keeps the policy', () => {
    const live = [
      livePolicy('U1', 'legacy', { associations: [d1, d2] }),
      livePolicy('U2', 'break-glass', { associations: [d1] }),
      livePolicy('K1', 'keep', { associations: [d1, d2] }),
    ];
    const desired = desiredEnv({
      prune: true,
      protect: ['break-glass'],
      policies: [policy('keep')],
      associations: [association(d1, 'keep'), association(d2, 'keep')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toEqual([
      'dissociate:prod/us-east-1/legacy@U1→deployment:d1',
      'dissociate:prod/us-east-1/legacy@U1→deployment:d2',
      'delete:prod/us-east-1/legacy@U1',
    ]);
    expect(opById(plan, 'delete:prod/us-east-1/legacy@U1')).toMatchObject({
      reason: 'pruned',
      depends_on: [
        'dissociate:prod/us-east-1/legacy@U1→deployment:d1',
        'dissociate:prod/us-east-1/legacy@U1→deployment:d2',
      ],
    });
    expect(plan.notes.find((n) => n.kind === 'unmanaged')?.policy).toEqual({
      region: 'us-east-1',
      name: 'break-glass',
      id: 'U2',
    });
    expect(plan.refusals).toEqual([]);
  });

  it('regions: scope ignores live policies out of scope, even with prune', () => {
    const live = [livePolicy('X1', 'other', { region: 'eu-west-1' }), livePolicy('U1', 'legacy')];
    const desired = desiredEnv({ prune: true, regions: ['us-east-1'] });
    const { plan } = planOne(desired, liveEnv(live));
    expect(opList(plan)).toEqual(['delete:prod/us-east-1/legacy@U1']);
    expect(plan.notes.some((n) => n.policy?.id === 'X1')).toBe(false);
  });

  it('regions: scope does not take an out-of-scope same-name policy for the old half of a move', () => {
    const live = [livePolicy('X1', 'office', { region: 'eu-west-1' })];
    const desired = desiredEnv({ regions: ['us-east-1'], policies: [policy('office')] });
    expect(opList(planOne(desired, liveEnv(live)).plan)).toEqual(['create:prod/us-east-1/office']);
  });
});

describe('associations', () => {
  it('are authoritative for managed policies: adds and removes', () => {
    const live = [livePolicy('L1', 'office', { associations: [d1, d2] })];
    const desired = desiredEnv({
      policies: [policy('office')],
      associations: [association(d2, 'office'), association(d3, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live, desired.associations)));
    expect(opList(plan)).toEqual([
      'associate:prod/us-east-1/office→deployment:d3',
      'dissociate:prod/us-east-1/office@L1→deployment:d1',
    ]);
    expect(opById(plan, 'associate:prod/us-east-1/office→deployment:d3')).toMatchObject({
      policy: { id: 'L1' },
      target: d3,
      depends_on: [],
    });
  });

  it('include_by_default: true keeps undeclared live associations and lists them as auto-attached', () => {
    const live = [livePolicy('L1', 'office', { include_by_default: true, associations: [d1, d2] })];
    const desired = desiredEnv({
      policies: [policy('office', { include_by_default: true })],
      associations: [association(d1, 'office')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(plan.operations).toEqual([]);
    expect(plan.notes).toEqual([expect.objectContaining({ kind: 'auto_attached', target: d2 })]);
  });

  it("include_by_default moved to another region: the old half's associations are not kept for the new one (issue 23)", () => {
    // From the model test's shrunk counterexample: live vpn (us-east-1) on d1 and on d2, declared
    // include_by_default in eu-west-1 on d3. Keeping d1 for the new eu policy sent a cross-region
    // associate (400), skipped the old half's removal, and never converged.
    const eu = 'eu-west-1';
    const d3eu = liveTarget(d3, { region: eu });
    const live = [livePolicy('OLD', 'vpn', { associations: [d1, d2] })];
    const desired = desiredEnv({
      policies: [policy('vpn', { region: eu, include_by_default: true }), policy('office')],
      associations: [association(d3, 'vpn'), association(d1, 'office'), association(d2, 'office')],
    });
    const { plan, diagnostics } = planOne(desired, liveEnv(live, [liveTarget(d1), liveTarget(d2), d3eu]));
    expect(diagnostics).toEqual([]);
    expect(plan.refusals).toEqual([]);
    expect(plan.notes.filter((n) => n.kind === 'auto_attached')).toEqual([]);
    expect(opList(plan).filter((id) => id.startsWith('associate:prod/eu-west-1/vpn'))).toEqual([
      'associate:prod/eu-west-1/vpn→deployment:d3',
    ]);
    expect(opList(plan)).toContain('delete:prod/us-east-1/vpn@OLD');
  });

  it("include_by_default replaced in its own region (type change) keeps the old half's undeclared associations", () => {
    const live = [livePolicy('OLD', 'link', { include_by_default: true, associations: [d1, d2] })];
    const desired = desiredEnv({
      policies: [
        policy('link', {
          type: 'vpce',
          include_by_default: true,
          rules: [{ source: 'vpce-0a1b2c3d4e5f60708' }],
        }),
      ],
      associations: [association(d1, 'link')],
    });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan).filter((id) => id.startsWith('associate:'))).toEqual([
      'associate:prod/us-east-1/link→deployment:d1',
      'associate:prod/us-east-1/link→deployment:d2',
    ]);
    expect(plan.notes).toContainEqual(expect.objectContaining({ kind: 'auto_attached', target: d2 }));
  });

  it('never touches associations of unmanaged policies; notes them on touched targets only', () => {
    const live = [
      livePolicy('U1', 'legacy', { associations: [d1, d3] }),
      livePolicy('L1', 'office', { associations: [d2] }),
    ];
    const desired = desiredEnv({ policies: [policy('office')], associations: [association(d1, 'office')] });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(opList(plan)).toEqual([
      'associate:prod/us-east-1/office→deployment:d1',
      'dissociate:prod/us-east-1/office@L1→deployment:d2',
    ]);
    const ua = plan.notes.filter((n) => n.kind === 'unmanaged_association');
    expect(ua.map((n) => n.target)).toEqual([d1]);
    expect(plan.operations.some((o) => o.policy.id === 'U1')).toBe(false);
  });

  it('notes an unmanaged association on a target that only loses a pruned policy', () => {
    const live = [
      livePolicy('U1', 'legacy', { associations: [d1] }),
      livePolicy('P1', 'gone', { associations: [d1] }),
    ];
    const desired = desiredEnv({ prune: true, protect: ['legacy'] });
    const { plan } = planOne(desired, liveEnv(live, targetsOf(live)));
    expect(plan.notes.filter((n) => n.kind === 'unmanaged_association').map((n) => n.policy?.id)).toEqual([
      'U1',
    ]);
  });
});

describe('diagnostics against live state', () => {
  it('region mismatch and unknown target carry the association position', () => {
    const far = deployment('far');
    const desired = desiredEnv({
      policies: [policy('office')],
      associations: [
        association(far, 'office', { position: { file: 'policies/a.yaml', line: 12, col: 5 } }),
        association(deployment('ghost'), 'office', {
          position: { file: 'policies/a.yaml', line: 20, col: 5 },
        }),
      ],
    });
    const { plan, diagnostics } = planOne(
      desired,
      liveEnv([livePolicy('L1', 'office')], [liveTarget(far, { region: 'eu-west-1' })]),
    );
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'E_REGION_MISMATCH',
        file: 'policies/a.yaml',
        line: 12,
        col: 5,
      }),
      expect.objectContaining({
        severity: 'error',
        code: 'E_UNKNOWN_TARGET',
        file: 'policies/a.yaml',
        line: 20,
        col: 5,
      }),
    ]);
    expect(plan.operations).toEqual([]);
  });

  it('resolves a name declared in two regions by the target region', () => {
    const far = deployment('far');
    const desired = desiredEnv({
      policies: [policy('office'), policy('office', { region: 'eu-west-1' })],
      associations: [association(far, 'office'), association(d1, 'office')],
    });
    const { plan, diagnostics } = planOne(
      desired,
      liveEnv([], [liveTarget(far, { region: 'eu-west-1' }), liveTarget(d1)]),
    );
    expect(diagnostics).toEqual([]);
    expect(opList(plan)).toEqual([
      'create:prod/eu-west-1/office',
      'create:prod/us-east-1/office',
      'associate:prod/eu-west-1/office→deployment:far',
      'associate:prod/us-east-1/office→deployment:d1',
    ]);
  });
});

describe('diffEnvironment directly', () => {
  it('returns one change per declared policy and removals for old halves', () => {
    const live = [livePolicy('OLD', 'office', { region: 'eu-west-1', associations: [d1] })];
    const desired = desiredEnv({ policies: [policy('office')] });
    const diff = diffEnvironment(desired, liveEnv(live, targetsOf(live)), CAPABILITIES.ess);
    expect(diff.changes.map((c) => [c.desired.name, c.action])).toEqual([['office', 'replace']]);
    expect(diff.removals.map((r) => [r.live.id, r.reason, r.dissociate])).toEqual([
      ['OLD', 'replaced', [d1]],
    ]);
  });
});
