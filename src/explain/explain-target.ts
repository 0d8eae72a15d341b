import { candidateRegions } from '../lint/lint.js';
import type { Declared } from '../load/index.js';
import { policyRuleOrigins } from '../load/rule-origins.js';
import type { RuleOrigin } from '../load/rule-origins.js';
import { countAddresses, IPV4_TOTAL, parseIpv4Address, parseIpv4Range } from '../model/ipv4.js';
import type { Ipv4Interval } from '../model/ipv4.js';
import { isIngressType, targetKey } from '../model/types.js';
import type {
  ApiKind,
  DesiredEnvironment,
  DesiredPolicy,
  PolicyType,
  SourcePosition,
  Target,
} from '../model/types.js';
import type { ExposureAccess } from '../plan/types.js';

/**
 * `ecfence explain`: the effective policy of one target as the YAML declares it (pure, offline).
 * Live state is not read: what the API has may differ until the next apply.
 */
export interface ExplainedPolicy {
  name: string;
  region: string;
  type: PolicyType;
  /** Filters who connects (everything but egress). */
  ingress: boolean;
  include_by_default: boolean;
  at?: SourcePosition;
  rules: ExplainedRule[];
}

export interface ExplainedRule {
  /** Index in the policy's written `rules:`. */
  rule: number;
  value: string;
  description?: string;
  at: SourcePosition;
  via?: RuleOrigin['via'];
  egress?: RuleOrigin['egress'];
}

export interface IpVerdict {
  address: string;
  /** unfiltered: no ingress policy is declared, so every address may connect. */
  verdict: 'allowed' | 'not_allowed' | 'unfiltered';
  /** Every `ip` rule whose range contains the address, in policy and rule order. */
  matches: (ExplainedRule & { policy: string })[];
  message: string;
}

export interface Explanation {
  environment: string;
  api: ApiKind;
  target: Target;
  /** Association entries that name the target. */
  declared_at: SourcePosition[];
  /** The region(s) the target's policy names resolve in; several only when the names fit several. */
  regions: string[];
  allow_unfiltered: boolean;
  access: ExposureAccess;
  /** Distinct IPv4 addresses its ingress `ip` policies allow; 2^32 when unfiltered. */
  ipv4_addresses: number;
  policies: ExplainedPolicy[];
  notes: string[];
  ip?: IpVerdict;
}

const PRIVATE_LINK: readonly PolicyType[] = [
  'vpce',
  'azure_private_endpoint',
  'gcp_private_service_connect_endpoint',
];

export function explainTarget(
  env: DesiredEnvironment,
  declared: Declared,
  target: Target,
  ip?: string,
): Explanation {
  const name = env.config.name;
  const key = targetKey(target);
  const entries = env.associations.filter((a) => targetKey(a.target) === key);
  const names = [...new Set(entries.map((a) => a.policyName))];
  const regions = candidateRegions(name, names, env.policies);
  const notes: string[] = [];
  if (entries.length === 0) {
    notes.push(
      `no association in the policy files names this ${target.kind}: ecfence manages no policy on it, so as declared it is unfiltered`,
    );
  }
  if (regions.length > 1) {
    notes.push(
      `the policy names fit several regions (${regions.join(', ')}); the ones in the ${target.kind}'s region apply`,
    );
  }

  // Where each rule of a policy was written, read from the declaration the policy came from.
  const rulesOf = (policy: DesiredPolicy): ExplainedRule[] =>
    declared.policies
      .filter((located) => located.policy === policy)
      .flatMap((located) => policyRuleOrigins(located, declared.sources))
      .map((o) => ({
        rule: o.rule,
        value: o.value,
        ...(o.description === undefined ? {} : { description: o.description }),
        at: o.at,
        ...(o.via === undefined ? {} : { via: o.via }),
        ...(o.egress === undefined ? {} : { egress: o.egress }),
      }));
  const policies: ExplainedPolicy[] = env.policies
    .filter((p) => names.includes(p.name) && regions.includes(p.region))
    .map((p) => ({
      name: p.name,
      region: p.region,
      type: p.type,
      ingress: isIngressType(p.type),
      include_by_default: p.include_by_default,
      ...(p.position === undefined ? {} : { at: p.position }),
      rules: rulesOf(p),
    }));
  for (const p of env.policies) {
    if (!p.include_by_default || names.includes(p.name)) continue;
    if (regions.length > 0 && !regions.includes(p.region)) continue;
    notes.push(
      `policy '${p.name}' (${p.region}) has include_by_default: true: the platform attaches it to ${target.kind}s created later in ${p.region}, so it may apply here too`,
    );
  }

  const ingress = policies.filter((p) => p.ingress);
  const ipPolicies = ingress.filter((p) => p.type === 'ip');
  const linkPolicies = ingress.filter((p) => PRIVATE_LINK.includes(p.type));
  const ranges: Ipv4Interval[] = ipPolicies.flatMap((p) =>
    p.rules.flatMap((r) => {
      const range = parseIpv4Range(r.value);
      return range === undefined ? [] : [range];
    }),
  );
  const access: ExposureAccess =
    ingress.length === 0
      ? 'unfiltered'
      : ipPolicies.length > 0 && linkPolicies.length > 0
        ? 'public_allow_list_and_private_link'
        : ipPolicies.length > 0
          ? 'public_allow_list'
          : linkPolicies.length > 0
            ? 'private_link_only'
            : 'other_filters';

  const explanation: Explanation = {
    environment: name,
    api: env.config.api,
    target,
    declared_at: uniqueLines(entries.flatMap((a) => (a.position === undefined ? [] : [a.position]))),
    regions,
    allow_unfiltered: env.allowUnfiltered.some((t) => targetKey(t) === key),
    access,
    ipv4_addresses: ingress.length === 0 ? IPV4_TOTAL : countAddresses(ranges),
    policies,
    notes,
  };
  if (ip !== undefined) explanation.ip = verdictFor(ip, ingress, ipPolicies, linkPolicies);
  return explanation;
}

function verdictFor(
  address: string,
  ingress: readonly ExplainedPolicy[],
  ipPolicies: readonly ExplainedPolicy[],
  linkPolicies: readonly ExplainedPolicy[],
): IpVerdict {
  const n = parseIpv4Address(address);
  if (ingress.length === 0) {
    return {
      address,
      verdict: 'unfiltered',
      matches: [],
      message: 'no ingress policy declared: the target is unfiltered (open), so every address may connect',
    };
  }
  const matches = ipPolicies.flatMap((p) =>
    p.rules
      .filter((r) => {
        const range = parseIpv4Range(r.value);
        return n !== undefined && range !== undefined && range.start <= n && n <= range.end;
      })
      .map((r) => ({ ...r, policy: p.name })),
  );
  const linkNote =
    linkPolicies.length > 0
      ? ` (private link policies ${linkPolicies.map((p) => `'${p.name}'`).join(', ')} match endpoint ids, not IP addresses: traffic through those endpoints is allowed whatever its address)`
      : ingress.some((p) => p.type === 'remote_cluster')
        ? ' (remote cluster policies match clusters, not IP addresses)'
        : '';
  if (matches.length === 0) {
    return {
      address,
      verdict: 'not_allowed',
      matches,
      message: `not allowed: no ingress rule matches${linkNote}`,
    };
  }
  const first = matches[0];
  const by =
    first === undefined
      ? ''
      : `${first.policy} rules[${first.rule}] (${first.value}${first.via === undefined ? '' : ` from $${first.via.set}`}) at ${first.at.file}:${first.at.line}:${first.at.col}`;
  const more = matches.length > 1 ? ` and ${matches.length - 1} more rule(s)` : '';
  return { address, verdict: 'allowed', matches, message: `allowed by ${by}${more}` };
}

/** One position per line (an entry naming several policies is one place to a reader), in file order. */
function uniqueLines(positions: readonly SourcePosition[]): SourcePosition[] {
  const seen = new Map<string, SourcePosition>();
  for (const at of positions) {
    const key = `${at.file}:${at.line}`;
    const first = seen.get(key);
    if (first === undefined || at.col < first.col) seen.set(key, at);
  }
  return [...seen.values()].sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col,
  );
}
