/**
 * The world of the model-based test (issue 23): what a random estate and a random desired state
 * are, how they become an emulator seed and policy files, how the emulator's state is read back,
 * and what SPEC §2 says must come of applying one to the other.
 *
 * Everything the generator draws is small integers (indexes into the pools below), so that
 * fast-check shrinks a failing case towards the first region, the first type and the first rule.
 * The model is written from SPEC, not from src/diff: it is the second opinion the planner is
 * checked against.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { EmulatorState, SeedData, ServerlessProjectType } from '../../src/emulator/index.js';
import type { PolicyType } from '../../src/model/types.js';

export type ModelApi = 'ess' | 'ece' | 'serverless';
export const MODEL_APIS: readonly ModelApi[] = ['ess', 'ece', 'serverless'];

interface ApiWorld {
  flavor: 'cloud' | 'ece';
  regions: readonly string[];
  types: readonly PolicyType[];
  /** Rules compare as an ordered list (serverless) or as a multiset (ess, ece). */
  orderedRules: boolean;
}

export const WORLDS: Readonly<Record<ModelApi, ApiWorld>> = {
  ess: {
    flavor: 'cloud',
    regions: ['us-east-1', 'eu-west-1', 'gcp-us-central1'],
    types: [
      'ip',
      'vpce',
      'egress_firewall',
      'azure_private_endpoint',
      'gcp_private_service_connect_endpoint',
      'remote_cluster',
    ],
    orderedRules: false,
  },
  ece: { flavor: 'ece', regions: ['ece-region', 'ece-region-2'], types: ['ip'], orderedRules: false },
  serverless: {
    flavor: 'cloud',
    regions: ['aws-us-east-1', 'aws-eu-west-1', 'azure-japaneast'],
    types: ['ip', 'vpce', 'azure_private_endpoint', 'gcp_private_service_connect_endpoint'],
    orderedRules: true,
  },
};

const PROJECT_TYPES: readonly ServerlessProjectType[] = ['elasticsearch', 'observability', 'security'];

/** Policy names: the first ones are declared by the generator, the rest only ever live unmanaged. */
export const MANAGED_NAMES = ['office', 'vpn', 'partner', 'ci', 'ops'] as const;
const UNMANAGED_NAMES = ['legacy', 'console', 'break-glass', 'vendor'] as const;
export const ALL_NAMES: readonly string[] = [...MANAGED_NAMES, ...UNMANAGED_NAMES];

export const RULE_POOL_SIZE = 8;
/** A rule is drawn as an index below this: `% RULE_POOL_SIZE` picks the value, the rest a description. */
export const RULE_CHOICES = 2 * RULE_POOL_SIZE;
const DESCRIPTIONS = [undefined, 'Office networks', 'Managed by ecfence', ''] as const;

type WireRule = Record<string, unknown>;

/** Valid rule values per type, so that any drawn policy passes `validate`. */
function ruleValue(type: PolicyType, i: number): WireRule {
  const k = i % RULE_POOL_SIZE;
  switch (type) {
    case 'ip':
      return {
        source: [
          '10.1.0.0/16',
          '10.2.0.0/16',
          '192.168.10.0/24',
          '192.168.20.5',
          '172.16.0.0/20',
          '203.0.113.0/24',
          '198.51.100.64/26',
          '100.64.1.1',
        ][k],
      };
    case 'vpce':
      return { source: `vpce-0a1b2c3d4e5f6070${k}` };
    case 'azure_private_endpoint':
      return {
        azure_endpoint_name: `pe-model-${k}`,
        azure_endpoint_guid: `1b2c3d4e-5f60-4718-9a0b-c1d2e3f4a5b${k}`,
      };
    case 'gcp_private_service_connect_endpoint':
      return { source: `1844674407264684533${k}` };
    case 'remote_cluster':
      return { remote_cluster_id: `cluster${k}`.padEnd(32, '0'), remote_cluster_org_id: `org-${k}` };
    case 'egress_firewall':
      return {
        egress_rule: {
          target: `10.${20 + k}.0.0/16`,
          protocol: ['all', 'tcp', 'udp'][k % 3],
          ...(k % 2 === 1 ? { ports: [443, 9200 + k] } : {}),
        },
      };
  }
}

// ---------------------------------------------------------------------------------------------
// What the generator draws
// ---------------------------------------------------------------------------------------------

/** One policy as drawn: indexes into the pools above. */
export interface PolicyIntent {
  region: number;
  type: number;
  includeByDefault: boolean;
  description: number;
  /** Rule choices below RULE_CHOICES, distinct modulo RULE_POOL_SIZE (no duplicate rule). */
  rules: number[];
  /** Indexes into the world's targets; only those in the policy's region are kept. */
  targets: number[];
}

/**
 * A desired state as drawn. Issue 17 adds `previous_names` (a rename in place) and
 * `exclusive_targets` (undeclared attachments to a declared target are removed): they belong here
 * (a `previousNames` per slot, an `exclusiveTargets` flag), in `DesiredEdit`, in `writeProject`
 * and in `expectOutcome`, once the product has them.
 */
export interface DesiredIntent {
  /** Per slot of MANAGED_NAMES: the policy declared under that name, or null. */
  policies: (PolicyIntent | null)[];
  prune: boolean;
  /** Indexes into ALL_NAMES. */
  protect: number[];
  /** Target indexes whose association entry says `allow_unfiltered: true`. */
  allowUnfiltered: number[];
}

export interface TargetIntent {
  region: number;
  projectType: number;
}

/** The live estate before the first apply. */
export interface EstateIntent {
  api: ModelApi;
  /** How many of the world's regions are in use (at least 1). */
  regions: number;
  targets: TargetIntent[];
  /** Live policies by index into ALL_NAMES (first one per name wins): managed names are adopted. */
  live: { name: number; policy: PolicyIntent }[];
  desired: DesiredIntent;
}

// ---------------------------------------------------------------------------------------------
// Drawn → concrete
// ---------------------------------------------------------------------------------------------

export interface ModelTarget {
  id: string;
  region: string;
  /** Serverless project type; absent on ess/ece. */
  projectType?: ServerlessProjectType;
}

export interface ConcretePolicy {
  name: string;
  region: string;
  type: PolicyType;
  description?: string;
  includeByDefault: boolean;
  rules: WireRule[];
  /** Target ids, in the policy's region. */
  targets: string[];
}

export interface ConcreteDesired {
  policies: ConcretePolicy[];
  prune: boolean;
  protect: string[];
  allowUnfiltered: string[];
}

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

export function regionsOf(estate: Pick<EstateIntent, 'api' | 'regions'>): readonly string[] {
  return WORLDS[estate.api].regions.slice(0, Math.max(1, Math.min(estate.regions, 3)));
}

const hex32 = (prefix: string, i: number): string =>
  `${prefix}${i.toString(16).padStart(32 - prefix.length, '0')}`;

export function concreteTarget(
  api: ModelApi,
  regions: readonly string[],
  t: TargetIntent,
  index: number,
): ModelTarget {
  const region = pick(regions, t.region);
  return api === 'serverless'
    ? { id: hex32('p', index + 1), region, projectType: pick(PROJECT_TYPES, t.projectType) }
    : { id: hex32('d', index + 1), region };
}

export function concretePolicy(
  api: ModelApi,
  regions: readonly string[],
  targets: readonly ModelTarget[],
  name: string,
  p: PolicyIntent,
): ConcretePolicy {
  const region = pick(regions, p.region);
  const type = pick(WORLDS[api].types, p.type);
  const seen = new Set<number>();
  const rules: WireRule[] = [];
  for (const r of p.rules) {
    if (seen.has(r % RULE_POOL_SIZE)) continue;
    seen.add(r % RULE_POOL_SIZE);
    const rule = ruleValue(type, r);
    rules.push(r >= RULE_POOL_SIZE ? { ...rule, description: `rule ${r % RULE_POOL_SIZE}` } : rule);
  }
  const description = pick(DESCRIPTIONS, p.description);
  const ids = new Set<string>();
  for (const t of p.targets) {
    const target = targets.length > 0 ? pick(targets, t) : undefined;
    if (target?.region === region) ids.add(target.id);
  }
  return {
    name,
    region,
    type,
    ...(description !== undefined ? { description } : {}),
    includeByDefault: p.includeByDefault,
    rules,
    targets: [...ids].sort(),
  };
}

export function concreteDesired(
  api: ModelApi,
  regions: readonly string[],
  targets: readonly ModelTarget[],
  d: DesiredIntent,
): ConcreteDesired {
  const policies: ConcretePolicy[] = [];
  d.policies.forEach((p, slot) => {
    if (p) policies.push(concretePolicy(api, regions, targets, pick(MANAGED_NAMES, slot), p));
  });
  return {
    policies,
    prune: d.prune,
    protect: [...new Set(d.protect.map((i) => pick(ALL_NAMES, i)))].sort(),
    allowUnfiltered: [
      ...new Set(d.allowUnfiltered.flatMap((i) => (targets.length > 0 ? [pick(targets, i).id] : []))),
    ].sort(),
  };
}

// ---------------------------------------------------------------------------------------------
// Concrete → emulator seed and policy files
// ---------------------------------------------------------------------------------------------

const WIRE_TYPE: Partial<Record<PolicyType, string>> = {
  azure_private_endpoint: 'private_endpoint',
  gcp_private_service_connect_endpoint: 'psc_endpoint',
};
const CANONICAL_TYPE: Record<string, PolicyType> = {
  private_endpoint: 'azure_private_endpoint',
  psc_endpoint: 'gcp_private_service_connect_endpoint',
};

/** A policy's fields as a policy file, a seed and the API write them. */
function written(p: ConcretePolicy) {
  return {
    name: p.name,
    region: p.region,
    type: p.type as string,
    ...(p.description !== undefined ? { description: p.description } : {}),
    include_by_default: p.includeByDefault,
    rules: p.rules,
  };
}

/** The seed of the estate's emulator: its targets and its live policies with their attachments. */
export function estateSeed(
  api: ModelApi,
  targets: readonly ModelTarget[],
  live: readonly ConcretePolicy[],
): SeedData {
  if (api !== 'serverless') {
    return {
      deployments: targets.map((t, i) => ({ id: t.id, name: `deployment-${i}`, region: t.region })),
      rulesets: live.map((p) => ({ ...written(p), associations: p.targets })),
    };
  }
  const filters = live.map((p, i) => ({ id: hex32('f', i + 1), policy: p }));
  return {
    traffic_filters: filters.map(({ id, policy: p }) => ({
      id,
      ...written(p),
      type: WIRE_TYPE[p.type] ?? p.type,
    })),
    projects: targets.map((t, i) => ({
      type: t.projectType ?? 'elasticsearch',
      id: t.id,
      name: `project-${i}`,
      region_id: t.region,
      traffic_filters: filters.filter((f) => f.policy.targets.includes(t.id)).map((f) => f.id),
    })),
  };
}

const ENV = 'model';
export const API_KEY_VAR = 'EC_API_KEY';

/** Writes ecfence.yaml and one policy file for the desired state (YAML written by the `yaml` library). */
export function writeProject(
  dir: string,
  api: ModelApi,
  endpoint: string,
  targets: readonly ModelTarget[],
  desired: ConcreteDesired,
): void {
  const config = {
    environments: {
      [ENV]: {
        api,
        endpoint,
        api_key_env: API_KEY_VAR,
        prune: desired.prune,
        ...(desired.protect.length > 0 ? { protect: desired.protect } : {}),
      },
    },
    // The percentage guards count; this test is about what a plan does, not how much of it.
    safety: { max_delete_percent: 100, max_dissociate_percent: 100 },
  };
  const associations = targets.flatMap((t) => {
    const names = desired.policies.filter((p) => p.targets.includes(t.id)).map((p) => p.name);
    const allow = desired.allowUnfiltered.includes(t.id);
    if (names.length === 0 && !allow) return [];
    return [
      {
        ...(t.projectType !== undefined
          ? { project: { type: t.projectType, id: t.id } }
          : { deployment: t.id }),
        policies: names,
        ...(allow ? { allow_unfiltered: true } : {}),
      },
    ];
  });
  const policies = {
    environment: ENV,
    policies: desired.policies.map(written),
    associations,
  };
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'ecfence.yaml'), stringify(config));
  writeFileSync(join(dir, 'policies', 'model.yaml'), stringify(policies));
}

// ---------------------------------------------------------------------------------------------
// Emulator state → what the model compares
// ---------------------------------------------------------------------------------------------

/** A live policy as the model sees it: canonical type, rules as canonical strings, target ids. */
export interface LiveView {
  id: string;
  name: string;
  region: string;
  type: PolicyType;
  description: string;
  includeByDefault: boolean;
  rules: string[];
  targets: string[];
}

/** A rule as one string: keys sorted, no server-issued id, an empty description dropped. */
export function canonicalRule(rule: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(rule).sort()) {
    const v = rule[key];
    if (key === 'id' || v === undefined || (key === 'description' && v === '')) continue;
    if (key === 'egress_rule' && typeof v === 'object' && v !== null) {
      const e = v as { target: string; protocol: string; ports?: number[] };
      out[key] = {
        protocol: e.protocol,
        target: e.target,
        ...(e.ports && e.ports.length > 0 ? { ports: [...new Set(e.ports)].sort((a, b) => a - b) } : {}),
      };
    } else out[key] = v;
  }
  return JSON.stringify(out);
}

export function liveViews(api: ModelApi, state: EmulatorState): LiveView[] {
  if (api !== 'serverless') {
    return state.rulesets.map((r) => ({
      id: r.id,
      name: r.name,
      region: r.region,
      type: r.type as PolicyType,
      description: r.description ?? '',
      includeByDefault: r.include_by_default,
      rules: r.rules.map((x) => canonicalRule({ ...x })),
      targets: [...r.associations].sort(),
    }));
  }
  return state.traffic_filters.map((f) => ({
    id: f.id,
    name: f.name,
    region: f.region,
    type: CANONICAL_TYPE[f.type] ?? (f.type as PolicyType),
    description: f.description ?? '',
    includeByDefault: f.include_by_default,
    rules: f.rules.map((x) => canonicalRule({ ...x })),
    targets: state.projects
      .filter((p) => p.traffic_filters.includes(f.id))
      .map((p) => p.id)
      .sort(),
  }));
}

/** Target id → region, from the emulator state. */
export function targetRegions(api: ModelApi, state: EmulatorState): Map<string, string> {
  return api === 'serverless'
    ? new Map(state.projects.map((p) => [p.id, p.region_id]))
    : new Map(state.deployments.map((d) => [d.id, d.region]));
}

const isIngress = (type: PolicyType): boolean => type !== 'egress_firewall';

/** Ingress policies attached per target id. */
export function ingressCounts(
  views: readonly Pick<LiveView, 'type' | 'targets'>[],
  targets: Iterable<string>,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of targets) counts.set(t, 0);
  for (const v of views) {
    if (!isIngress(v.type)) continue;
    for (const t of v.targets) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// SPEC §2: what applying a desired state to a live state must do
// ---------------------------------------------------------------------------------------------

/** One declared policy as it must be live afterwards. */
type ExpectedPolicy = Omit<LiveView, 'id'>;

export interface Expectation {
  /** Guards that must refuse the whole plan (nothing is written). */
  blocking: string[];
  /** Names refused as ambiguous (not blocking: the rest is applied, exit 4). */
  ambiguous: string[];
  managed: ExpectedPolicy[];
  /** Live ids that must be gone. */
  removed: string[];
  /** Live policies no write may touch: they must end exactly as they are. */
  untouched: LiveView[];
  /** Ids of declared policies already as desired: no write may touch them. */
  inSync: string[];
}

function sameRules(a: readonly string[], b: readonly string[], ordered: boolean): boolean {
  if (a.length !== b.length) return false;
  if (ordered) return a.every((x, i) => x === b[i]);
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}

/** Same description, include_by_default and rules (type, region, name and targets aside). */
const sameSpec = (a: ExpectedPolicy, b: ExpectedPolicy, ordered: boolean): boolean =>
  a.description === b.description &&
  a.includeByDefault === b.includeByDefault &&
  sameRules(a.rules, b.rules, ordered);

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What SPEC §2 says applying `desired` to `live` must do:
 * - a live policy with a declared name and the declared region and type *is* that policy; one with
 *   a declared name in another region or of another type is the old half of a replacement (deleted,
 *   never when protected: then the plan is refused);
 * - a declared policy ends with exactly its declared targets, plus — with include_by_default — the
 *   live attachments of the policies it is or replaces that are in its region;
 * - an undeclared name is pruned with `prune` unless protected, else left exactly as it is;
 * - a target that has an ingress policy and would end with none is refused unless allowed;
 * - several live policies of one declared name in its region: identical copies of its type are
 *   merged into one; otherwise (none of its type, or copies that differ) that policy alone is
 *   refused, and it is not converged.
 */
export function expectOutcome(
  api: ModelApi,
  live: readonly LiveView[],
  regionOf: ReadonlyMap<string, string>,
  desired: ConcreteDesired,
): Expectation {
  const ordered = WORLDS[api].orderedRules;
  const protect = new Set(desired.protect);
  const declared = new Map(desired.policies.map((p) => [p.name, p]));
  const out: Expectation = {
    blocking: [],
    ambiguous: [],
    managed: [],
    removed: [],
    untouched: [],
    inSync: [],
  };

  for (const l of live) {
    if (declared.has(l.name)) continue;
    if (desired.prune && !protect.has(l.name)) out.removed.push(l.id);
    else out.untouched.push(l);
  }
  for (const d of desired.policies) {
    const named = live.filter((l) => l.name === d.name);
    const here = named.filter((l) => l.region === d.region);
    const matches = here.filter((l) => l.type === d.type);
    const copies = matches.every((m) => matches[0] !== undefined && sameSpec(m, matches[0], ordered));
    if (here.length > 1 && (matches.length === 0 || !copies)) {
      out.ambiguous.push(d.name);
      out.untouched.push(...named);
      continue;
    }
    // Identical copies of the declared type are merged into one (any of them: ids are not compared).
    const matched = here.length === 1 && matches.length === 0 ? undefined : matches[0];
    const oldHalves = named.filter((l) => l !== matched);
    for (const old of oldHalves) {
      out.removed.push(old.id);
      // A merged copy is not a replacement: the protected name lives on in the copy kept.
      const copy = matches.includes(old);
      if (!copy && protect.has(old.name)) out.blocking.push(`protected_policy: ${old.name} (${old.id})`);
    }
    const targets = new Set(d.targets);
    if (d.includeByDefault) {
      for (const l of named) for (const t of l.targets) if (regionOf.get(t) === d.region) targets.add(t);
    }
    const expected: ExpectedPolicy = {
      name: d.name,
      region: d.region,
      type: d.type,
      description: d.description ?? '',
      includeByDefault: d.includeByDefault,
      rules: d.rules.map(canonicalRule),
      targets: [...targets].sort(),
    };
    out.managed.push(expected);
    if (
      matched &&
      oldHalves.length === 0 &&
      sameSpec(matched, expected, ordered) &&
      sameList(matched.targets, expected.targets)
    ) {
      out.inSync.push(matched.id);
    }
  }

  // A target that has an ingress policy must keep one unless its entry allows otherwise.
  const before = ingressCounts(live, regionOf.keys());
  const after = ingressCounts([...out.untouched, ...out.managed], regionOf.keys());
  for (const [t, n] of before) {
    if (n > 0 && (after.get(t) ?? 0) === 0 && !desired.allowUnfiltered.includes(t)) {
      out.blocking.push(`unfiltered_target: ${t}`);
    }
  }
  return out;
}

/** How the live state differs from what the expectation says it must be at the end of a run. */
export function compareOutcome(api: ModelApi, live: readonly LiveView[], expected: Expectation): string[] {
  const ordered = WORLDS[api].orderedRules;
  const problems: string[] = [];
  const accounted = new Set<string>();
  for (const m of expected.managed) {
    const found = live.filter((l) => l.name === m.name && l.region === m.region);
    if (found.length !== 1 || !found[0]) {
      problems.push(`${m.name} in ${m.region}: ${found.length} live policies, expected 1`);
      for (const f of found) accounted.add(f.id);
      continue;
    }
    const l = found[0];
    accounted.add(l.id);
    const differs: string[] = [];
    if (l.type !== m.type) differs.push(`type ${l.type} ≠ ${m.type}`);
    if (l.description !== m.description)
      differs.push(`description ${JSON.stringify(l.description)} ≠ ${JSON.stringify(m.description)}`);
    if (l.includeByDefault !== m.includeByDefault) differs.push(`include_by_default ${l.includeByDefault}`);
    if (!sameRules(l.rules, m.rules, ordered))
      differs.push(`rules ${l.rules.join(' ')} ≠ ${m.rules.join(' ')}`);
    if (!sameList(l.targets, m.targets))
      differs.push(`targets [${l.targets.join(', ')}] ≠ [${m.targets.join(', ')}]`);
    if (differs.length > 0) problems.push(`${m.name} (${l.id}): ${differs.join('; ')}`);
  }
  for (const u of expected.untouched) {
    accounted.add(u.id);
    const now = live.find((l) => l.id === u.id);
    if (!now) problems.push(`untouched ${u.name} (${u.id}) is gone`);
    else if (JSON.stringify(now) !== JSON.stringify(u))
      problems.push(`untouched ${u.name} (${u.id}) changed`);
  }
  for (const id of expected.removed)
    if (live.some((l) => l.id === id)) problems.push(`${id} should be deleted`);
  for (const l of live) {
    if (!accounted.has(l.id) && !expected.removed.includes(l.id)) {
      problems.push(`unexpected live policy ${l.name} in ${l.region} (${l.id})`);
    }
  }
  return problems;
}
