import type { PolicySpec, Rule } from '../model/types.js';
import type { FieldChange } from '../plan/types.js';

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
  const ka = a.map(ruleKey);
  const kb = b.map(ruleKey);
  if (order === 'set') {
    ka.sort();
    kb.sort();
  }
  return ka.every((k, i) => k === kb[i]);
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
