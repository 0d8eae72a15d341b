import type { PolicyType, SourcePosition } from '../model/types.js';
import type { LocatedPolicy } from './normalise.js';
import { describePath, isRecord, positionAt } from './read-yaml.js';
import type { PathSegment } from './read-yaml.js';
import { isReference } from './sources.js';
import type { SourceTable } from './sources.js';

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

export function collectRuleOrigins(policies: readonly LocatedPolicy[], sources: SourceTable): RuleOrigin[] {
  const out: RuleOrigin[] = [];
  for (const { policy, yaml, index } of policies) {
    const written: unknown = isRecord(yaml.value) ? yaml.value.policies : undefined;
    const entry: unknown = Array.isArray(written) ? written[index] : undefined;
    const rules: unknown = isRecord(entry) ? entry.rules : undefined;
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule: unknown, ruleIndex) => {
      if (!isRecord(rule)) return;
      const base = {
        environment: policy.environment,
        region: policy.region,
        policy: policy.name,
        type: policy.type,
        rule: ruleIndex,
        ...(typeof rule.description === 'string' && rule.description !== ''
          ? { description: rule.description }
          : {}),
      };
      const located = (field: PathSegment[]) => {
        const path: PathSegment[] = ['policies', index, 'rules', ruleIndex, ...field];
        return { at: positionAt(yaml, path), label: describePath(yaml.value, path) };
      };
      const expand = (value: unknown, field: PathSegment[], extra: Partial<RuleOrigin> = {}) => {
        if (typeof value !== 'string') return;
        const where = located(field);
        if (!isReference(value)) {
          out.push({ ...base, ...where, ...extra, value });
          return;
        }
        const set = value.slice(1);
        for (const address of sources.get(set) ?? []) {
          out.push({
            ...base,
            ...where,
            ...extra,
            value: address.value,
            via: { set, at: address.at, label: address.label },
          });
        }
      };

      if (policy.type === 'azure_private_endpoint') {
        if (typeof rule.azure_endpoint_guid === 'string')
          out.push({ ...base, ...located(['azure_endpoint_guid']), value: rule.azure_endpoint_guid });
      } else if (policy.type === 'remote_cluster') {
        if (typeof rule.remote_cluster_id === 'string')
          out.push({ ...base, ...located(['remote_cluster_id']), value: rule.remote_cluster_id });
      } else if (policy.type === 'egress_firewall') {
        const egress = rule.egress_rule;
        if (!isRecord(egress) || typeof egress.protocol !== 'string') return;
        const ports = Array.isArray(egress.ports)
          ? [...new Set(egress.ports.filter((p): p is number => typeof p === 'number'))].sort((a, b) => a - b)
          : [];
        expand(egress.target, ['egress_rule', 'target'], { egress: { protocol: egress.protocol, ports } });
      } else {
        expand(rule.source, ['source']);
      }
    });
  }
  return out;
}
