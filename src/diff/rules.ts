import type { PolicySpec, Rule } from '../model/types.js';
import type { FieldChange } from './types.js';

/**
 * The rule fields that carry meaning, in alphabetical order; anything else a back end let through
 * (a rule `id`) is ignored. `egress_rule` sits between `description` and `remote_cluster_id`.
 */
const FIELDS_BEFORE_EGRESS = ['azure_endpoint_guid', 'azure_endpoint_name', 'description'] as const;
const FIELDS_AFTER_EGRESS = ['remote_cluster_id', 'remote_cluster_org_id', 'source'] as const;

/**
 * Canonical text of one rule. Rule ids never take part (ess/ece re-issue them on every write, so
 * only the listed fields count), absent and empty optional fields are the same, and egress ports
 * compare as a sorted set.
 */
export function ruleKey(rule: Rule): string {
  // Keys are inserted in sorted order, so plain JSON.stringify gives exactly canonicalJson's text
  // without its recursive copy (this runs for every rule of every policy on each plan).
  const out: Record<string, unknown> = {};
  for (const k of FIELDS_BEFORE_EGRESS) {
    const v = rule[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  const e = rule.egress_rule;
  if (e) {
    const ports = [...new Set(e.ports ?? [])].sort((a, b) => a - b);
    out['egress_rule'] =
      ports.length > 0
        ? { ports, protocol: e.protocol, target: e.target }
        : { protocol: e.protocol, target: e.target };
  }
  for (const k of FIELDS_AFTER_EGRESS) {
    const v = rule[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return JSON.stringify(out);
}

/**
 * Equal rule collections: as multisets on APIs that keep no order (ess/ece re-issue ids and the
 * order carries no meaning), as ordered lists where the API keeps the order (serverless).
 */
export function rulesEqual(a: readonly Rule[], b: readonly Rule[], order: 'set' | 'list'): boolean {
  if (a.length !== b.length) return false;
  // Most policies are in sync and list their rules as declared, and a changed one usually differs
  // in a rule or two: rules equal in place are compared field by field, without a key. As a list,
  // only the other positions need keys; as a multiset, only what lies between the common head
  // and the common tail (equal rules taken from both sides leave the multisets equal or not).
  if (order === 'list') {
    for (let i = 0; i < a.length; i++) {
      if (!sameRuleAt(a, b, i) && ruleKeyAt(a, i) !== ruleKeyAt(b, i)) return false;
    }
    return true;
  }
  let head = 0;
  while (head < a.length && sameRuleAt(a, b, head)) head++;
  if (head === a.length) return true;
  let tail = a.length;
  while (tail > head && sameRuleAt(a, b, tail - 1)) tail--;
  const ka = a.slice(head, tail).map(ruleKey).sort();
  const kb = b.slice(head, tail).map(ruleKey).sort();
  return ka.every((k, i) => k === kb[i]);
}

function sameRuleAt(a: readonly Rule[], b: readonly Rule[], i: number): boolean {
  const x = a[i];
  const y = b[i];
  return x !== undefined && y !== undefined && sameRule(x, y);
}

function ruleKeyAt(rules: readonly Rule[], i: number): string | undefined {
  const rule = rules[i];
  return rule === undefined ? undefined : ruleKey(rule);
}

/**
 * True only when `ruleKey` would give both rules the same text (absent ≡ ''); false may still be
 * equal (egress ports in another order), which the caller then decides by the keys.
 */
function sameRule(a: Rule, b: Rule): boolean {
  // `===` first: in the common case every field is identical text or absent on both sides, and
  // this runs for every rule of every policy, mostly before the JIT has optimised it.
  return (
    (a.source === b.source || sameText(a.source, b.source)) &&
    (a.description === b.description || sameText(a.description, b.description)) &&
    (a.azure_endpoint_guid === b.azure_endpoint_guid ||
      sameText(a.azure_endpoint_guid, b.azure_endpoint_guid)) &&
    (a.azure_endpoint_name === b.azure_endpoint_name ||
      sameText(a.azure_endpoint_name, b.azure_endpoint_name)) &&
    (a.remote_cluster_id === b.remote_cluster_id || sameText(a.remote_cluster_id, b.remote_cluster_id)) &&
    (a.remote_cluster_org_id === b.remote_cluster_org_id ||
      sameText(a.remote_cluster_org_id, b.remote_cluster_org_id)) &&
    (a.egress_rule === b.egress_rule || sameEgress(a.egress_rule, b.egress_rule))
  );
}

/** Absent and '' are the same text. */
const sameText = (a: string | undefined, b: string | undefined): boolean =>
  (a === undefined || a === '') && (b === undefined || b === '');

function sameEgress(a: Rule['egress_rule'], b: Rule['egress_rule']): boolean {
  if (!a || !b) return !a && !b;
  if (a.protocol !== b.protocol || a.target !== b.target) return false;
  const pa = a.ports ?? [];
  const pb = b.ports ?? [];
  return pa.length === pb.length && pa.every((port, i) => port === pb[i]);
}

/** The field-level differences between a live and a desired policy (name and identity excluded). */
export function policyChanges(live: PolicySpec, desired: PolicySpec, order: 'set' | 'list'): FieldChange[] {
  const changes: FieldChange[] = [];
  if (live.type !== desired.type) changes.push({ field: 'type', before: live.type, after: desired.type });
  if (live.region !== desired.region)
    changes.push({ field: 'region', before: live.region, after: desired.region });
  if ((live.description ?? '') !== (desired.description ?? '')) {
    changes.push({ field: 'description', before: live.description ?? '', after: desired.description ?? '' });
  }
  if (live.include_by_default !== desired.include_by_default) {
    changes.push({
      field: 'include_by_default',
      before: live.include_by_default,
      after: desired.include_by_default,
    });
  }
  if (!rulesEqual(live.rules, desired.rules, order)) {
    changes.push({ field: 'rules', before: live.rules, after: desired.rules });
  }
  return changes;
}

/** Rules only in `before` (removed) and only in `after` (added), multiset-wise, for display. */
export function ruleDelta(
  before: readonly Rule[],
  after: readonly Rule[],
): { added: Rule[]; removed: Rule[] } {
  const remaining = new Map<string, number>();
  for (const r of before) remaining.set(ruleKey(r), (remaining.get(ruleKey(r)) ?? 0) + 1);
  const added: Rule[] = [];
  for (const r of after) {
    const k = ruleKey(r);
    const n = remaining.get(k) ?? 0;
    if (n > 0) remaining.set(k, n - 1);
    else added.push(r);
  }
  const removed: Rule[] = [];
  const extra = new Map(remaining);
  for (const r of before) {
    const k = ruleKey(r);
    const n = extra.get(k) ?? 0;
    if (n > 0) {
      removed.push(r);
      extra.set(k, n - 1);
    }
  }
  return { added, removed };
}
