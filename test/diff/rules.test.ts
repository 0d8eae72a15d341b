import { describe, expect, it } from 'vitest';
import { policyChanges, ruleDelta, ruleKey, rulesEqual } from '../../src/diff/rules.js';
import type { Rule } from '../../src/model/types.js';
import { policy, rule } from '../support/core-fixtures.js';

describe('ruleKey', () => {
  it('ignores rule ids a back end let through', () => {
    const withId = { source: '1.2.3.4', id: 'abc' } as Rule;
    const otherId = { source: '1.2.3.4', id: 'xyz' } as Rule;
    expect(ruleKey(withId)).toBe(ruleKey(rule('1.2.3.4')));
    expect(ruleKey(withId)).toBe(ruleKey(otherId));
  });

  it('treats an empty description as absent', () => {
    expect(ruleKey({ source: '1.2.3.4', description: '' })).toBe(ruleKey({ source: '1.2.3.4' }));
  });

  it('compares egress ports as a sorted set, [] ≡ absent', () => {
    const a: Rule = { egress_rule: { target: '1.1.1.1', protocol: 'tcp', ports: [443, 80, 443] } };
    const b: Rule = { egress_rule: { target: '1.1.1.1', protocol: 'tcp', ports: [80, 443] } };
    expect(ruleKey(a)).toBe(ruleKey(b));
    const empty: Rule = { egress_rule: { target: '1.1.1.1', protocol: 'all', ports: [] } };
    const absent: Rule = { egress_rule: { target: '1.1.1.1', protocol: 'all' } };
    expect(ruleKey(empty)).toBe(ruleKey(absent));
    expect(ruleKey(a)).not.toBe(
      ruleKey({ egress_rule: { target: '1.1.1.1', protocol: 'udp', ports: [80, 443] } }),
    );
  });

  it('distinguishes different sources and descriptions', () => {
    expect(ruleKey(rule('1.2.3.4'))).not.toBe(ruleKey(rule('1.2.3.5')));
    expect(ruleKey(rule('1.2.3.4', 'a'))).not.toBe(ruleKey(rule('1.2.3.4', 'b')));
  });
});

describe('rulesEqual', () => {
  const a = rule('10.0.0.0/8', 'ten');
  const b = rule('192.168.0.0/16');
  const c = rule('172.16.0.0/12');

  it('set order: reordered rules are equal', () => {
    expect(rulesEqual([a, b, c], [c, a, b], 'set')).toBe(true);
  });

  it('set order: duplicates count (multiset)', () => {
    expect(rulesEqual([a, a, b], [a, b, b], 'set')).toBe(false);
    expect(rulesEqual([a, a, b], [a, b, a], 'set')).toBe(true);
    expect(rulesEqual([a, b], [a, a, b], 'set')).toBe(false);
  });

  it('in place: absent ≡ empty, ids ignored, egress ports compared as a set', () => {
    const withId = { source: '10.0.0.0/8', description: '', id: 'x' } as Rule;
    expect(rulesEqual([withId, b], [rule('10.0.0.0/8'), b], 'list')).toBe(true);
    const ports = (p: number[]): Rule => ({ egress_rule: { target: '1.1.1.1', protocol: 'tcp', ports: p } });
    expect(rulesEqual([ports([443, 80])], [ports([80, 443, 80])], 'list')).toBe(true);
    expect(rulesEqual([ports([443])], [ports([80])], 'list')).toBe(false);
    expect(rulesEqual([a, c], [a, rule('172.16.0.0/12', 'other')], 'set')).toBe(false);
  });

  it('set order: only what lies between the common head and tail is compared as a multiset', () => {
    const d = rule('192.0.2.0/24');
    expect(rulesEqual([a, b, c, d], [a, c, b, d], 'set')).toBe(true);
    expect(rulesEqual([a, b, c, d], [a, c, c, d], 'set')).toBe(false);
    expect(rulesEqual([a, b, c, d], [d, b, c, a], 'set')).toBe(true);
    expect(rulesEqual([a, b], [a, c], 'set')).toBe(false);
  });

  it('list order: reordering is a change', () => {
    expect(rulesEqual([a, b], [b, a], 'list')).toBe(false);
    expect(rulesEqual([a, b], [a, b], 'list')).toBe(true);
  });
});

describe('policyChanges', () => {
  it('reports nothing for equal policies with absent vs empty description', () => {
    const live = { ...policy('p'), description: undefined as unknown as string };
    expect(policyChanges(live, policy('p', { description: '' }), 'set')).toEqual([]);
  });

  it('reports every changed field with before and after', () => {
    const live = policy('p', { description: 'old', include_by_default: false, rules: [rule('1.1.1.1')] });
    const desired = policy('p', { description: 'new', include_by_default: true, rules: [rule('2.2.2.2')] });
    expect(policyChanges(live, desired, 'set')).toEqual([
      { field: 'description', before: 'old', after: 'new' },
      { field: 'include_by_default', before: false, after: true },
      { field: 'rules', before: [rule('1.1.1.1')], after: [rule('2.2.2.2')] },
    ]);
  });

  it('reports a cleared description as "" (never undefined)', () => {
    const changes = policyChanges(policy('p', { description: 'x' }), policy('p', { description: '' }), 'set');
    expect(changes).toEqual([{ field: 'description', before: 'x', after: '' }]);
  });
});

describe('ruleDelta', () => {
  it('lists added and removed rules multiset-wise', () => {
    const a = rule('1.1.1.1');
    const b = rule('2.2.2.2');
    const c = rule('3.3.3.3');
    expect(ruleDelta([a, a, b], [a, c])).toEqual({ added: [c], removed: [a, b] });
  });
});
