import { canonicalJson, fingerprintOf, sortByCanonicalJson } from '../../model/canonical.js';
import type {
  EgressProtocol,
  EgressRule,
  LivePolicy,
  LiveTarget,
  PolicySpec,
  PolicyType,
  Rule,
  Target,
} from '../../model/types.js';
import { RULE_STRING_FIELDS } from '../../model/types.js';
import { lazyFingerprint } from '../lazy-fingerprint.js';
import { asArray, asObject, malformed, optionalString, requireString, sourceRule } from '../wire.js';
import type { WireContext, WireObject } from '../wire.js';

/**
 * The one place where ess/ece wire JSON (API.md §2.2) becomes the neutral model and back. Only
 * managed fields survive; unknown extras are ignored; absent ≡ empty for description, associations,
 * total_associations and ports; rule ids are dropped (re-issued on every write, gotcha 2).
 */

/**
 * Named reads and writes, not a loop over RULE_STRING_FIELDS: a read maps 100,000 rules, and a
 * loop over the names makes every access a keyed lookup (measured ~2x slower).
 */
export function ruleFromWire(ctx: WireContext, raw: unknown): Rule {
  const obj: WireRule = asObject(ctx, raw, 'rule');
  if (
    isSet(obj.source) &&
    !isSet(obj.azure_endpoint_name) &&
    !isSet(obj.azure_endpoint_guid) &&
    !isSet(obj.remote_cluster_id) &&
    !isSet(obj.remote_cluster_org_id) &&
    (obj.egress_rule === undefined || obj.egress_rule === null)
  ) {
    return sourceRule(obj.source, obj.description);
  }
  const rule: Rule = {};
  if (isSet(obj.source)) rule.source = obj.source;
  if (isSet(obj.description)) rule.description = obj.description;
  if (isSet(obj.azure_endpoint_name)) rule.azure_endpoint_name = obj.azure_endpoint_name;
  if (isSet(obj.azure_endpoint_guid)) rule.azure_endpoint_guid = obj.azure_endpoint_guid;
  if (isSet(obj.remote_cluster_id)) rule.remote_cluster_id = obj.remote_cluster_id;
  if (isSet(obj.remote_cluster_org_id)) rule.remote_cluster_org_id = obj.remote_cluster_org_id;
  if (obj.egress_rule !== undefined && obj.egress_rule !== null) {
    const e = asObject(ctx, obj.egress_rule, 'egress_rule');
    const egress: EgressRule = {
      target: requireString(ctx, e, 'target', 'egress_rule'),
      protocol: requireString(ctx, e, 'protocol', 'egress_rule') as EgressProtocol,
    };
    const ports = normalisePorts(asArray(ctx, e['ports'], 'egress_rule.ports'));
    if (ports.length > 0) egress.ports = ports;
    rule.egress_rule = egress;
  }
  return rule;
}

/** A wire rule as read: any field may hold anything. */
type WireRule = { [K in (typeof RULE_STRING_FIELDS)[number] | 'egress_rule']?: unknown };

/** Present, a string and not empty (absent ≡ empty). */
function isSet(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

export function ruleToWire(rule: Rule): WireObject {
  const out: WireObject = {};
  for (const key of RULE_STRING_FIELDS) {
    const v = rule[key];
    if (v !== undefined && v !== '') out[key] = v;
  }
  if (rule.egress_rule) {
    const ports = normalisePorts(rule.egress_rule.ports ?? []);
    out['egress_rule'] = {
      target: rule.egress_rule.target,
      protocol: rule.egress_rule.protocol,
      ...(ports.length > 0 ? { ports } : {}),
    };
  }
  return out;
}

function normalisePorts(ports: readonly unknown[]): number[] {
  const ints = ports.filter((p): p is number => typeof p === 'number' && Number.isInteger(p));
  return [...new Set(ints)].sort((a, b) => a - b);
}

/**
 * The ruleset request body (E2 create, E4 update): the whole object, since PUT replaces
 * (gotcha 18). `include_by_default` is required; `description` is omitted when empty because the
 * API cannot tell '' from absent.
 */
export function rulesetRequestBody(spec: PolicySpec): WireObject {
  return {
    name: spec.name,
    type: spec.type,
    region: spec.region,
    include_by_default: spec.include_by_default,
    ...(spec.description !== '' ? { description: spec.description } : {}),
    rules: spec.rules.map(ruleToWire),
  };
}

/** Rules are a set on ess/ece: a canonical order makes equal sets compare and hash equal. */
function sortedRules(rules: readonly Rule[]): Rule[] {
  return sortByCanonicalJson(rules);
}

/** The managed fields of a spec in canonical form: equal text ⇔ nothing to update. */
export function canonicalSpec(spec: PolicySpec): string {
  return canonicalJson({
    region: spec.region,
    name: spec.name,
    type: spec.type,
    description: spec.description,
    include_by_default: spec.include_by_default,
    rules: sortedRules(spec.rules.map((r) => ruleFromWire({ method: '', path: '' }, ruleToWire(r)))),
  });
}

/**
 * A `TrafficFilterRulesetInfo` (E1 item, E3) read with `include_associations=true`. A read maps
 * thousands of these: the policy is built in its final shape in one literal, with no intermediate
 * spec, set or spread (see `deploymentAssociations`, `lazyFingerprint`).
 */
export function rulesetToLivePolicy(ctx: WireContext, raw: unknown): LivePolicy {
  const obj = asObject(ctx, raw, 'ruleset');
  const id = requireString(ctx, obj, 'id', 'ruleset');
  const what = `ruleset ${id}`;
  if (typeof obj['include_by_default'] !== 'boolean' && obj['include_by_default'] !== undefined) {
    throw malformed(ctx, `${what} has a non-boolean include_by_default`);
  }
  const listed = asArray(ctx, obj['associations'], `${what} associations`);
  const associations = deploymentAssociations(ctx, listed, what);
  const total = typeof obj['total_associations'] === 'number' ? obj['total_associations'] : 0;
  return withPolicyFingerprint({
    id,
    region: requireString(ctx, obj, 'region', what),
    name: requireString(ctx, obj, 'name', what),
    // `type` is an open string on the wire (API.md §2.3): an unknown type is passed through so the
    // policy stays visible (dropping it could make a declared policy look absent).
    type: requireString(ctx, obj, 'type', what) as PolicyType,
    description: optionalString(obj, 'description') ?? '',
    include_by_default: obj['include_by_default'] === true,
    rules: asArray(ctx, obj['rules'], `${what} rules`).map((r) => ruleFromWire(ctx, r)),
    associations,
    hiddenAssociations: Math.max(0, Math.max(total, listed.length) - associations.length),
  });
}

/**
 * The deployments among a ruleset's listed associations, each once, sorted by id. Other entity
 * types (e.g. `cluster`) cannot be modelled or dissociated by ecfence; they count as hidden so a
 * delete is planned as blocked rather than failing at apply time.
 */
function deploymentAssociations(ctx: WireContext, listed: readonly unknown[], what: string): Target[] {
  const label = `${what} association`;
  const ids: string[] = [];
  for (const a of listed) {
    const assoc = asObject(ctx, a, label);
    if (assoc['entity_type'] === 'deployment') ids.push(requireString(ctx, assoc, 'id', label));
  }
  ids.sort();
  const targets: Target[] = [];
  let previous: string | undefined;
  for (const id of ids) {
    if (id !== previous) targets.push({ kind: 'deployment', id });
    previous = id;
  }
  return targets;
}

// Hashing every ruleset costs more than reading it; only a saved or JSON plan reads fingerprints.
const withPolicyFingerprint = lazyFingerprint<LivePolicy>((p) =>
  fingerprintOf({
    id: p.id,
    region: p.region,
    name: p.name,
    type: p.type,
    description: p.description,
    include_by_default: p.include_by_default,
    rules: sortedRules(p.rules),
    associations: p.associations,
    hiddenAssociations: p.hiddenAssociations,
  }),
);

/**
 * A `DeploymentsListingData` (E13). The region a ruleset must match is the deployment's
 * Elasticsearch resource's region (gotcha 17), or its first resource's when it has none.
 */
export function deploymentToLiveTarget(ctx: WireContext, raw: unknown): LiveTarget {
  const obj = asObject(ctx, raw, 'deployment');
  const id = requireString(ctx, obj, 'id', 'deployment');
  const resources = asArray(ctx, obj['resources'], `deployment ${id} resources`);
  let main: WireObject | undefined;
  for (const r of resources) {
    const resource = asObject(ctx, r, `deployment ${id} resource`);
    main ??= resource;
    if (resource['kind'] === 'elasticsearch' && main['kind'] !== 'elasticsearch') main = resource;
  }
  const region = (main && optionalString(main, 'region')) ?? '';
  const name = optionalString(obj, 'name');
  const target: Target = { kind: 'deployment', id };
  return withTargetFingerprint(name !== undefined ? { target, region, name } : { target, region });
}

// Only a saved or JSON plan reads fingerprints.
const withTargetFingerprint = lazyFingerprint<LiveTarget>((t) =>
  fingerprintOf({ id: t.target.id, name: t.name, region: t.region }),
);
