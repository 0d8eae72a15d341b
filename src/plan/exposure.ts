import { canonicalJson } from '../model/canonical.js';
import { countAddresses, IPV4_TOTAL, parseIpv4Range } from '../model/ipv4.js';
import type { Ipv4Interval } from '../model/ipv4.js';
import { isIngressType, targetKey } from '../model/types.js';
import type { LiveEnvironment, PolicyType, Rule, Target } from '../model/types.js';
import type { ExposureAccess, ExposureState, Operation, TargetExposure } from './types.js';

interface SimPolicy {
  name: string;
  type: PolicyType;
  rules: readonly Rule[];
}

/**
 * What the plan does to who can reach each target (pure). Before = live associations and live
 * rules; after = the same with the plan's operations applied in order (created and updated
 * policies' rules, associations added and removed, deleted policies gone). Only targets whose
 * effective ingress changes are listed, sorted by target key.
 */
export function computeExposure(live: LiveEnvironment, operations: readonly Operation[]): TargetExposure[] {
  const env = live.environment;
  const before = new Map<string, SimPolicy>();
  for (const p of live.policies) before.set(`id:${p.id}`, { name: p.name, type: p.type, rules: p.rules });
  const after = new Map(before);

  const targets = new Map<string, { target: Target; name?: string }>();
  const attachedBefore = new Map<string, Set<string>>();
  const ensure = (map: Map<string, Set<string>>, target: Target): Set<string> => {
    const key = targetKey(target);
    if (!targets.has(key)) targets.set(key, { target });
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    return set;
  };
  for (const t of live.targets) {
    targets.set(targetKey(t.target), { target: t.target, ...(t.name === undefined ? {} : { name: t.name }) });
    // Ids the target itself reports include policies out of scope: they still filter.
    for (const id of t.policyIds ?? []) ensure(attachedBefore, t.target).add(`id:${id}`);
  }
  for (const p of live.policies) for (const t of p.associations) ensure(attachedBefore, t).add(`id:${p.id}`);

  const attachedAfter = new Map([...attachedBefore].map(([k, v]) => [k, new Set(v)]));
  const deleted = new Set<string>();
  for (const op of operations) {
    if (op.environment !== env) continue;
    switch (op.action) {
      case 'create':
      case 'replace':
        after.set(`op:${op.id}`, { name: op.spec.name, type: op.spec.type, rules: op.spec.rules });
        break;
      case 'update':
        // A change of description or include_by_default lets in no other traffic.
        if (!op.changes.some((c) => c.field === 'rules' || c.field === 'type')) break;
        after.set(`id:${op.policy.id}`, { name: op.spec.name, type: op.spec.type, rules: op.spec.rules });
        break;
      case 'associate':
        ensure(attachedAfter, op.target).add(
          op.policy.id === undefined ? `op:${op.policy_from ?? ''}` : `id:${op.policy.id}`,
        );
        break;
      case 'dissociate':
        ensure(attachedAfter, op.target).delete(`id:${op.policy.id}`);
        break;
      case 'delete':
        // A deleted policy is attached nowhere; applied per target below rather than by a scan here.
        after.delete(`id:${op.policy.id}`);
        deleted.add(`id:${op.policy.id}`);
        break;
    }
  }

  const cache = new Map<SimPolicy, PolicyFacts>();
  const out: TargetExposure[] = [];
  for (const [key, info] of [...targets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const from = attachedBefore.get(key);
    const to = new Set([...(attachedAfter.get(key) ?? [])].filter((k) => !deleted.has(k)));
    // Same policies, none of them rewritten: nothing to compute (the common case at scale).
    if (sameAttachments(from, to) && [...(from ?? [])].every((k) => before.get(k) === after.get(k))) continue;
    const was = effective(from, before, cache);
    const will = effective(to, after, cache);
    if (was.signature === will.signature) continue;
    const via = [...new Set([...was.rulesByName.keys(), ...will.rulesByName.keys()])]
      .filter((name) => was.rulesByName.get(name) !== will.rulesByName.get(name))
      .sort();
    out.push({
      environment: env,
      target: info.target,
      ...(info.name === undefined ? {} : { name: info.name }),
      before: was.state,
      after: will.state,
      delta_ipv4: will.state.ipv4_addresses - was.state.ipv4_addresses,
      via,
      opens_to_internet: was.state.access !== 'unfiltered' && will.state.access === 'unfiltered',
    });
  }
  return out;
}

function sameAttachments(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  const x = a ?? new Set<string>();
  const y = b ?? new Set<string>();
  return x.size === y.size && [...x].every((k) => y.has(k));
}

interface PolicyFacts {
  ingress: boolean;
  kind: 'ip' | 'private_link' | 'other';
  ranges: Ipv4Interval[];
  rules: number;
  /** Type and rules, order-free: equal facts mean the policy lets in the same traffic. */
  signature: string;
}

/** Per-policy facts, computed once however many targets the policy is attached to. */
function factsOf(policy: SimPolicy, cache: Map<SimPolicy, PolicyFacts>): PolicyFacts {
  const cached = cache.get(policy);
  if (cached !== undefined) return cached;
  const ranges: Ipv4Interval[] = [];
  if (policy.type === 'ip') {
    for (const rule of policy.rules) {
      const range = rule.source === undefined ? undefined : parseIpv4Range(rule.source);
      if (range !== undefined) ranges.push(range);
    }
  }
  const facts: PolicyFacts = {
    ingress: isIngressType(policy.type),
    kind: policy.type === 'ip' ? 'ip' : policy.type === 'remote_cluster' ? 'other' : 'private_link',
    ranges,
    rules: policy.rules.length,
    signature: canonicalJson([policy.type, policy.rules.map((r) => canonicalJson(r)).sort()]),
  };
  cache.set(policy, facts);
  return facts;
}

/** The ingress a target gets from the policies attached to it. */
function effective(
  attached: ReadonlySet<string> | undefined,
  policies: ReadonlyMap<string, SimPolicy>,
  cache: Map<SimPolicy, PolicyFacts>,
): { state: ExposureState; signature: string; rulesByName: Map<string, string> } {
  const ranges: Ipv4Interval[] = [];
  const rulesByName = new Map<string, string>();
  let ip = false;
  let privateLink = false;
  let privateEndpoints = 0;
  for (const key of attached ?? []) {
    const policy = policies.get(key);
    if (policy === undefined) {
      // Attached but not readable in this scope: it filters, with rules we cannot see.
      rulesByName.set(key.replace(/^id:/, ''), 'unknown');
      continue;
    }
    const facts = factsOf(policy, cache);
    if (!facts.ingress) continue;
    rulesByName.set(policy.name, facts.signature);
    if (facts.kind === 'ip') {
      ip = true;
      ranges.push(...facts.ranges);
    } else if (facts.kind === 'private_link') {
      privateLink = true;
      privateEndpoints += facts.rules;
    }
  }
  const filtered = rulesByName.size > 0;
  const access: ExposureAccess = !filtered
    ? 'unfiltered'
    : ip && privateLink
      ? 'public_allow_list_and_private_link'
      : ip
        ? 'public_allow_list'
        : privateLink
          ? 'private_link_only'
          : 'other_filters';
  const state: ExposureState = {
    access,
    ipv4_addresses: filtered ? countAddresses(ranges) : IPV4_TOTAL,
    private_endpoints: privateEndpoints,
    policies: [...rulesByName.keys()].sort(),
  };
  const signature = [...rulesByName]
    .map(([name, rules]) => `${name}\u0000${rules}`)
    .sort()
    .join('\u0001');
  return { state, signature, rulesByName };
}

const ACCESS_LABELS: Readonly<Record<ExposureAccess, string>> = {
  unfiltered: 'unfiltered',
  public_allow_list: 'public allow-list',
  public_allow_list_and_private_link: 'public allow-list + private link',
  private_link_only: 'private link only',
  other_filters: 'remote clusters or other filters only',
};

export function accessLabel(access: ExposureAccess): string {
  return ACCESS_LABELS[access];
}

/**
 * One line a reviewer reads, e.g. `prod-search (deployment 5470…): +1,024 IPv4 addresses
 * (256 → 1,280) via office-ingress` or `… filtered → UNFILTERED: open to the whole internet`.
 */
export function describeExposure(e: TargetExposure): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const id =
    e.target.kind === 'deployment'
      ? `deployment ${e.target.id}`
      : `project ${e.target.projectType}/${e.target.id}`;
  const who = e.name === undefined ? id : `${e.name} (${id})`;
  const parts: string[] = [];
  if (e.opens_to_internet) {
    parts.push(`${accessLabel(e.before.access)} → UNFILTERED: open to the whole internet`);
  } else if (e.before.access !== e.after.access) {
    parts.push(`${accessLabel(e.before.access)} → ${accessLabel(e.after.access)}`);
  }
  const counts = `(${n(e.before.ipv4_addresses)} → ${n(e.after.ipv4_addresses)})`;
  if (e.delta_ipv4 > 0) parts.push(`+${n(e.delta_ipv4)} IPv4 addresses ${counts}`);
  else if (e.delta_ipv4 < 0) parts.push(`−${n(-e.delta_ipv4)} IPv4 addresses ${counts}`);
  else parts.push(`IPv4 addresses unchanged (${n(e.after.ipv4_addresses)})`);
  if (e.before.private_endpoints !== e.after.private_endpoints) {
    parts.push(`private endpoints ${e.before.private_endpoints} → ${e.after.private_endpoints}`);
  }
  const via = e.via.length > 0 ? ` via ${e.via.join(', ')}` : '';
  return `${who}: ${parts.join('; ')}${via}`;
}
