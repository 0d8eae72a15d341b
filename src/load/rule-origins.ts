import type { PolicyType, SourcePosition } from '../model/types.js';
import type { LocatedPolicy } from './normalise.js';
import { describePath, isRecord, positionAt } from './read-yaml.js';
import type { PathSegment, YamlFile } from './read-yaml.js';
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
  readonly at: SourcePosition;
  /** e.g. `policies[0].rules[2].source`. */
  readonly label: string;
  /** When the value came from a `$set`: the set the rule names and where the value itself is written. */
  via?: { set: string; at: SourcePosition; label: string };
  egress?: { protocol: string; ports: number[] };
}

/*
 * An origin knows its file and data path; `at` and `label` are looked up when read. A large estate
 * has a hundred thousand rules and the lint reads the position of only those it reports.
 */
class LocatedRuleOrigin implements RuleOrigin {
  declare readonly description?: string;
  declare readonly via?: RuleOrigin['via'];
  declare readonly egress?: RuleOrigin['egress'];
  #at: SourcePosition | undefined;

  constructor(
    readonly environment: string,
    readonly region: string,
    readonly policy: string,
    readonly type: PolicyType,
    readonly rule: number,
    readonly value: string,
    private readonly yaml: YamlFile,
    /** The policy's index in its file's `policies:`. */
    private readonly index: number,
    /** The rule's field (one shared array per field): the data path is built when asked for. */
    private readonly field: readonly PathSegment[],
    extra: Pick<RuleOrigin, 'description' | 'via' | 'egress'>,
  ) {
    Object.assign(this, extra);
  }

  get at(): SourcePosition {
    return (this.#at ??= positionAt(this.yaml, this.path()));
  }

  get label(): string {
    return describePath(this.yaml.value, this.path());
  }

  private path(): PathSegment[] {
    return ['policies', this.index, 'rules', this.rule, ...this.field];
  }
}

const SOURCE: readonly PathSegment[] = ['source'];
const EGRESS_TARGET: readonly PathSegment[] = ['egress_rule', 'target'];
const AZURE_GUID: readonly PathSegment[] = ['azure_endpoint_guid'];
const REMOTE_CLUSTER_ID: readonly PathSegment[] = ['remote_cluster_id'];

export function collectRuleOrigins(policies: readonly LocatedPolicy[], sources: SourceTable): RuleOrigin[] {
  const out: RuleOrigin[] = [];
  for (const { policy, yaml, index } of policies) {
    const written: unknown = isRecord(yaml.value) ? yaml.value.policies : undefined;
    const entry: unknown = Array.isArray(written) ? written[index] : undefined;
    const rules: unknown = isRecord(entry) ? entry.rules : undefined;
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule: unknown, ruleIndex) => {
      if (!isRecord(rule)) return;
      const description =
        typeof rule.description === 'string' && rule.description !== ''
          ? { description: rule.description }
          : {};
      const origin = (
        value: string,
        field: readonly PathSegment[],
        extra: Pick<RuleOrigin, 'via' | 'egress'> = {},
      ): RuleOrigin =>
        new LocatedRuleOrigin(
          policy.environment,
          policy.region,
          policy.name,
          policy.type,
          ruleIndex,
          value,
          yaml,
          index,
          field,
          { ...description, ...extra },
        );
      const expand = (
        value: unknown,
        field: readonly PathSegment[],
        extra: Pick<RuleOrigin, 'egress'> = {},
      ) => {
        if (typeof value !== 'string') return;
        if (!isReference(value)) {
          out.push(origin(value, field, extra));
          return;
        }
        const set = value.slice(1);
        for (const address of sources.get(set) ?? []) {
          out.push(
            origin(address.value, field, { ...extra, via: { set, at: address.at, label: address.label } }),
          );
        }
      };

      if (policy.type === 'azure_private_endpoint') {
        if (typeof rule.azure_endpoint_guid === 'string')
          out.push(origin(rule.azure_endpoint_guid, AZURE_GUID));
      } else if (policy.type === 'remote_cluster') {
        if (typeof rule.remote_cluster_id === 'string')
          out.push(origin(rule.remote_cluster_id, REMOTE_CLUSTER_ID));
      } else if (policy.type === 'egress_firewall') {
        const egress = rule.egress_rule;
        if (!isRecord(egress) || typeof egress.protocol !== 'string') return;
        const ports = Array.isArray(egress.ports)
          ? [...new Set(egress.ports.filter((p): p is number => typeof p === 'number'))].sort((a, b) => a - b)
          : [];
        expand(egress.target, EGRESS_TARGET, { egress: { protocol: egress.protocol, ports } });
      } else {
        expand(rule.source, SOURCE);
      }
    });
  }
  return out;
}
