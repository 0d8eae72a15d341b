import type { PolicyType, SourcePosition } from '../model/types.js';
import type { LocatedPolicy } from './normalise.js';
import { describePath, isRecord, positionAt } from './read-yaml.js';
import type { PathSegment } from './read-yaml.js';
import { isReference } from './sources.js';
import type { Address, SourceTable } from './sources.js';

/**
 * Where each expanded rule of a declared policy was written (pure). The desired state drops
 * positions (moving a rule is not a change), so the lint and `explain`, which must name
 * `file:line` of a rule and the set it came from, rebuild them from the written YAML here.
 */
export interface RuleOrigin {
  environment: string;
  region: string;
  policy: string;
  type: PolicyType;
  /** Index of the rule in the policy's written `rules:`. */
  rule: number;
  /**
   * What the rule matches after expanding sets: the address or CIDR (`ip`, egress target), endpoint
   * id (`vpce`, PSC), endpoint GUID (Azure) or remote cluster id.
   */
  value: string;
  description?: string;
  /** The rule's field as written in the policy (its `source:` even when that names a set). */
  at: SourcePosition;
  /** e.g. `policies[0].rules[2].source`. */
  label: string;
  /** When the value came from a `$set`: the set the rule names and where the value itself is written. */
  via?: { set: string; at: SourcePosition; label: string };
  egress?: { protocol: string; ports: number[] };
}

const SOURCE: readonly PathSegment[] = ['source'];
const EGRESS_TARGET: readonly PathSegment[] = ['egress_rule', 'target'];
const AZURE_GUID: readonly PathSegment[] = ['azure_endpoint_guid'];
const REMOTE_CLUSTER_ID: readonly PathSegment[] = ['remote_cluster_id'];

export function collectRuleOrigins(policies: readonly LocatedPolicy[], sources: SourceTable): RuleOrigin[] {
  const out: RuleOrigin[] = [];
  for (const located of policies) policyOrigins(located, sources, out);
  return out;
}

/** The origins of one policy's rules, in the order `forEachRuleValue` visits them. */
export function policyRuleOrigins(located: LocatedPolicy, sources: SourceTable): RuleOrigin[] {
  const out: RuleOrigin[] = [];
  policyOrigins(located, sources, out);
  return out;
}

/**
 * The value and written rule index of each expanded rule of one policy, in the order of its origins
 * (the n-th value visited is `policyRuleOrigins(…)[n]`): what the lint reads of a hundred thousand
 * rules, building the origin of only those it reports.
 */
export function forEachRuleValue(
  located: LocatedPolicy,
  sources: SourceTable,
  visit: (value: string, ruleIndex: number) => void,
): void {
  forEachRule(located, sources, (value, _rule, ruleIndex) => visit(value, ruleIndex));
}

/** The origins of one policy's rules, appended to `out`: what `collectRuleOrigins` lists for it. */
function policyOrigins(located: LocatedPolicy, sources: SourceTable, out: RuleOrigin[]): void {
  const { policy, yaml, index } = located;
  // Description and egress are the written rule's: shared by the origins a `$set` expands it to.
  let extrasOf: unknown;
  let extras: Pick<RuleOrigin, 'description' | 'egress'> = {};
  forEachRule(located, sources, (value, rule, ruleIndex, field, set, address) => {
    if (rule !== extrasOf) {
      extrasOf = rule;
      extras = ruleExtras(rule, policy.type);
    }
    const path: PathSegment[] = ['policies', index, 'rules', ruleIndex, ...field];
    out.push({
      environment: policy.environment,
      region: policy.region,
      policy: policy.name,
      type: policy.type,
      rule: ruleIndex,
      value,
      ...extras,
      at: positionAt(yaml, path),
      label: describePath(yaml.value, path),
      ...(set === undefined || address === undefined
        ? {}
        : { via: { set, at: address.at, label: address.label } }),
    });
  });
}

/**
 * One expanded rule: the value it matches, the written rule and its field, and for a value from a
 * `$set` the set and the address in it. Plain arguments rather than an object: a large estate has
 * a hundred thousand of these.
 */
type RuleVisitor = (
  value: string,
  rule: Readonly<Record<string, unknown>>,
  ruleIndex: number,
  field: readonly PathSegment[],
  set: string | undefined,
  address: Address | undefined,
) => void;

/**
 * Visits the expanded rules of one declared policy in written order (a `$set` in the order of its
 * addresses): the n-th rule visited in a policy is its n-th origin.
 */
function forEachRule(located: LocatedPolicy, sources: SourceTable, visit: RuleVisitor): void {
  const { policy, yaml, index } = located;
  const written: unknown = isRecord(yaml.value) ? yaml.value.policies : undefined;
  const entry: unknown = Array.isArray(written) ? written[index] : undefined;
  const rules: unknown = isRecord(entry) ? entry.rules : undefined;
  if (!Array.isArray(rules)) return;
  rules.forEach((rule: unknown, ruleIndex) => {
    if (!isRecord(rule)) return;
    if (policy.type === 'azure_private_endpoint') {
      if (typeof rule.azure_endpoint_guid === 'string')
        visit(rule.azure_endpoint_guid, rule, ruleIndex, AZURE_GUID, undefined, undefined);
    } else if (policy.type === 'remote_cluster') {
      if (typeof rule.remote_cluster_id === 'string')
        visit(rule.remote_cluster_id, rule, ruleIndex, REMOTE_CLUSTER_ID, undefined, undefined);
    } else if (policy.type === 'egress_firewall') {
      const egress = rule.egress_rule;
      if (isRecord(egress) && typeof egress.protocol === 'string')
        expand(egress.target, rule, ruleIndex, EGRESS_TARGET, sources, visit);
    } else {
      expand(rule.source, rule, ruleIndex, SOURCE, sources, visit);
    }
  });
}

/** A literal visits itself; `$name` visits each address of the set. */
function expand(
  value: unknown,
  rule: Readonly<Record<string, unknown>>,
  ruleIndex: number,
  field: readonly PathSegment[],
  sources: SourceTable,
  visit: RuleVisitor,
): void {
  if (typeof value !== 'string') return;
  if (!isReference(value)) {
    visit(value, rule, ruleIndex, field, undefined, undefined);
    return;
  }
  const set = value.slice(1);
  for (const address of sources.get(set) ?? []) visit(address.value, rule, ruleIndex, field, set, address);
}

/** What an origin carries from its written rule besides the value: description, egress protocol and ports. */
function ruleExtras(
  rule: Readonly<Record<string, unknown>>,
  type: PolicyType,
): Pick<RuleOrigin, 'description' | 'egress'> {
  const description =
    typeof rule.description === 'string' && rule.description !== '' ? { description: rule.description } : {};
  const egress = rule.egress_rule;
  if (type !== 'egress_firewall' || !isRecord(egress) || typeof egress.protocol !== 'string')
    return description;
  const ports = Array.isArray(egress.ports)
    ? [...new Set(egress.ports.filter((p): p is number => typeof p === 'number'))].sort((a, b) => a - b)
    : [];
  return { ...description, egress: { protocol: egress.protocol, ports } };
}
